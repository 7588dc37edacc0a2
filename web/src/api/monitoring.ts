/** Monitoring: metric series over a range, their latest values, the storage overview and the dashboard's snapshot. */
import { api, unwrap } from "./client";
import type { paths } from "./schema";

type JsonOf<R> = R extends { content: { "application/json": infer T } } ? T : never;

export type StorageOverview = JsonOf<paths["/api/ops/storage"]["get"]["responses"][200]>;
export type TenantStorage = StorageOverview["tenants"][number];
export type UserStorage = TenantStorage["largest_users"][number];
export type Overview = JsonOf<paths["/api/ops/overview"]["get"]["responses"][200]>;
export type NodeStatus = Overview["nodes"][number];
export type ContainerNow = Overview["top_by_cpu"][number];
export type MetricQuery = JsonOf<paths["/api/ops/metrics/query"]["get"]["responses"][200]>;
export type MetricSeries = MetricQuery["series"][number];

/** The ranges every chart offers (the metrics API picks the storage tier from them). */
export const RANGES = ["1h", "24h", "7d", "30d"] as const;
export type Range = (typeof RANGES)[number];

export function getStorageOverview(signal?: AbortSignal): Promise<StorageOverview> {
  return unwrap(api.GET("/api/ops/storage", { signal }));
}

export function getOverview(signal?: AbortSignal): Promise<Overview> {
  return unwrap(api.GET("/api/ops/overview", { signal }));
}

/** A metric's series over `range`, only those whose labels match `labels` (counters come as rates per second). */
export function queryMetric(name: string, range: Range, labels: Record<string, string> = {}, signal?: AbortSignal): Promise<MetricQuery> {
  const label = Object.entries(labels).map(([key, value]) => `${key}:${value}`);
  // openapi-fetch widens the points' [at, value] pairs to number[]; the schema (and the server) give pairs.
  return unwrap(api.GET("/api/ops/metrics/query", { params: { query: { name, range, label } }, signal })) as Promise<MetricQuery>;
}

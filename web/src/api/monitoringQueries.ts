/** Query hooks of monitoring: metric series (refreshed every 30 s), the dashboard's snapshot and the storage overview. */
import { keepPreviousData, useQuery } from "@tanstack/react-query";

import { getOverview, getStorageOverview, queryMetric, type Range } from "./monitoring";
import { asApiError } from "./queryClient";

/** How often the dashboard asks again (metrics are collected every 15 s). */
export const REFRESH_MS = 30_000;

export const monitoringKeys = {
  all: ["monitoring"] as const,
  overview: ["monitoring", "overview"] as const,
  storage: ["monitoring", "storage"] as const,
  metric: (name: string, range: Range, labels: Record<string, string>) => ["monitoring", "metric", name, range, labels] as const,
};

/** A metric over `range`; the previous range's lines stay shown while the next one loads. `enabled` false asks nothing. */
export function useMetric(name: string, range: Range, labels: Record<string, string> = {}, enabled = true) {
  return useQuery({
    queryKey: monitoringKeys.metric(name, range, labels),
    queryFn: ({ signal }) => asApiError(queryMetric(name, range, labels, signal)),
    refetchInterval: REFRESH_MS,
    placeholderData: keepPreviousData,
    enabled,
  });
}

export function useOverview() {
  return useQuery({ queryKey: monitoringKeys.overview, queryFn: ({ signal }) => asApiError(getOverview(signal)), refetchInterval: REFRESH_MS });
}

export function useStorageOverview() {
  return useQuery({ queryKey: monitoringKeys.storage, queryFn: ({ signal }) => asApiError(getStorageOverview(signal)), refetchInterval: REFRESH_MS });
}

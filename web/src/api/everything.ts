/** Typed call of the top bar's search: files, documents, containers and people matching some words, by kind. */
import { api, unwrap } from "./client";
import type { components } from "./schema";

export type Everything = components["schemas"]["Everything"];
export type FileFound = components["schemas"]["FileFound"];
export type DocumentFound = components["schemas"]["DocumentFound"];
export type ContainerFound = components["schemas"]["ContainerFound"];
export type PersonFound = components["schemas"]["PersonFound"];

/** The longest query the server takes. */
export const MAX_QUERY = 200;

/** The first `limit` matches of each kind you may see (a kind you may not see is null); `signal` cancels a stale ask. */
export function searchEverything(q: string, limit: number, signal?: AbortSignal): Promise<Everything> {
  return unwrap(api.GET("/api/search/everything", { params: { query: { q, limit } }, signal }));
}

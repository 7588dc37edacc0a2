/** Typed calls of full-text search: the documents whose text, title or notes match, with a snippet of where. */
import { api, unwrap } from "./client";
import type { components } from "./schema";

export type SearchHit = components["schemas"]["SearchHit"];
export type SearchResults = components["schemas"]["SearchResults"];
export type SnippetPart = components["schemas"]["SnippetPart"];
export type FacetBucket = components["schemas"]["FacetBucket"];

/** Words (all must match), "a phrase", prefix*, and tag:, type:, correspondent:, year: filters; documents only. */
export function search(q: string, limit: number): Promise<SearchResults> {
  return unwrap(api.GET("/api/search", { params: { query: { q, limit, kind: "document" } } }));
}

/**
 * What the documents page's search box asks full-text search for: its words, narrowed by the list's type,
 * correspondent and tag filters (as `type:"…"` terms, by name). The category filter does not narrow a search.
 */
import { useTags, useTerms } from "../../api/documentsQueries";
import type { DocumentsLocation } from "./useDocumentsLocation";

/** The search box's syntax, shown under it. */
export const SEARCH_SYNTAX = ['"a phrase"', "pre*", "tag:paid", "type:invoice", "correspondent:acme", "year:2026"] as const;

/** A metadata filter as a search term; the name quoted, so one of several words stays one value. */
function term(field: string, name: string | undefined): string | null {
  return name === undefined ? null : `${field}:"${name.replaceAll('"', "")}"`;
}

/** What to ask the search for: the words and the list's other filters, by name. */
export function useSearchQuery(location: DocumentsLocation): string {
  const { filters } = location;
  const types = useTerms("types");
  const correspondents = useTerms("correspondents");
  const tags = useTags();
  if (filters.q === null) return "";
  const narrowing = [
    filters.type === null ? null : term("type", types.data?.find((item) => item.id === filters.type)?.name),
    filters.correspondent === null ? null : term("correspondent", correspondents.data?.find((item) => item.id === filters.correspondent)?.name),
    filters.tag === null ? null : term("tag", tags.data?.find((item) => item.id === filters.tag)?.name),
  ].filter((value) => value !== null);
  return [filters.q, ...narrowing].join(" ");
}

/**
 * Query hooks of documents: list pages and single documents (polled every 2 s while a shown one's text is being
 * read), text, suggestions, history, the vocabularies, full-text search, the settings, and the count the overview shows.
 */
import { keepPreviousData, useQuery } from "@tanstack/react-query";

import {
  documentHistory,
  documentText,
  getDocument,
  getDocumentSettings,
  listCategories,
  listDocuments,
  listSuggestions,
  listTags,
  listTerms,
  type Document,
  type DocumentQuery,
  type Extraction,
  type TermKind,
} from "./documents";
import { asApiError } from "./queryClient";
import { search } from "./search";
import { documentsKeys } from "./queryKeys";

/** How often a page asks again while a shown document's extraction is pending or running. */
export const EXTRACTION_POLL_MS = 2000;

/** Whether the text of a document is still being read (queued or under way). */
export function isReading(extraction: Extraction | null): boolean {
  return extraction !== null && (extraction.state === "pending" || extraction.state === "running");
}

/** How many times a list or a document is asked again while only a preview is being made (a stuck job stops the polling). */
const PREVIEW_POLLS = 30;

/** Whether a document's text is being read, or (for the first PREVIEW_POLLS answers) its preview is being made. */
function busy(document: Pick<Document, "extraction" | "preview">, answers: number): boolean {
  return isReading(document.extraction) || (document.preview === "pending" && answers <= PREVIEW_POLLS);
}

/** One page of your documents; polled while any of them is being read or previewed; the last page stays shown while the next loads. */
export function useDocuments(query: DocumentQuery, enabled = true) {
  return useQuery({
    queryKey: documentsKeys.list(query),
    queryFn: () => asApiError(listDocuments(query)),
    placeholderData: keepPreviousData,
    enabled,
    refetchInterval: (current) =>
      current.state.data?.items.some((item) => busy(item, current.state.dataUpdateCount)) ? EXTRACTION_POLL_MS : false,
  });
}

/** How many documents you have (the overview's card). */
export function useDocumentCount(enabled = true) {
  const query: DocumentQuery = { sort: "-added", limit: 1, offset: 0 };
  return useQuery({ queryKey: documentsKeys.list(query), queryFn: () => asApiError(listDocuments(query)), enabled, select: (page) => page.total });
}

/** One document (starting from the list's copy when there is one), polled while its text is being read. */
export function useDocument(id: string, initial?: Document) {
  return useQuery({
    queryKey: documentsKeys.document(id),
    queryFn: () => asApiError(getDocument(id)),
    placeholderData: initial,
    refetchInterval: (current) => (current.state.data !== undefined && busy(current.state.data, current.state.dataUpdateCount) ? EXTRACTION_POLL_MS : false),
  });
}

/** The text read from a document, as of its extraction `extraction` (loaded again when that changes; not asked for while it is being read). */
export function useDocumentText(id: string, extraction: Extraction | null) {
  const version = extraction === null ? "none" : `${extraction.state}@${extraction.updated_at}`;
  return useQuery({ queryKey: documentsKeys.text(id, version), queryFn: () => asApiError(documentText(id)), enabled: !isReading(extraction) });
}

/** What Nubes suggests for a document, as of its extraction (asked for again once a reading finishes, like the text). */
export function useSuggestions(id: string, extraction: Extraction | null) {
  const version = extraction === null ? "none" : `${extraction.state}@${extraction.updated_at}`;
  return useQuery({ queryKey: [...documentsKeys.suggestions(id), version], queryFn: () => asApiError(listSuggestions(id)), enabled: !isReading(extraction) });
}

/** How many hits a search shows. */
export const SEARCH_LIMIT = 50;
/** How many times an empty search asks again: the index follows a change a moment later. */
const SEARCH_RETRIES = 10;

/** Full-text search of your documents (`q` empty: nothing asked); an empty answer is asked again a few times. */
export function useSearch(q: string) {
  return useQuery({
    queryKey: documentsKeys.search(q),
    queryFn: () => asApiError(search(q, SEARCH_LIMIT)),
    enabled: q !== "",
    placeholderData: keepPreviousData,
    refetchInterval: (current) => (current.state.data?.total === 0 && current.state.dataUpdateCount <= SEARCH_RETRIES ? EXTRACTION_POLL_MS : false),
  });
}

export function useDocumentSettings(enabled = true) {
  return useQuery({ queryKey: documentsKeys.settings, queryFn: () => asApiError(getDocumentSettings()), enabled });
}

export function useDocumentHistory(id: string) {
  return useQuery({ queryKey: documentsKeys.history(id), queryFn: () => asApiError(documentHistory(id)) });
}

export function useTerms(kind: TermKind) {
  return useQuery({ queryKey: documentsKeys.terms(kind), queryFn: () => asApiError(listTerms(kind)) });
}

export function useTags() {
  return useQuery({ queryKey: documentsKeys.tags, queryFn: () => asApiError(listTags()) });
}

export function useCategories() {
  return useQuery({ queryKey: documentsKeys.categories, queryFn: () => asApiError(listCategories()) });
}

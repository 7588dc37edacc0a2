/**
 * Where the documents page is, read from the URL: the source panel's view (`?view=types|correspondents|tags|shared`), the
 * filters (`type`, `correspondent`, `tag`, `category`, `q`), the order (`sort`), the page (`page`, from 1) and the
 * open document (`doc`). A reload or a shared link shows the same view.
 */
import { useCallback } from "react";
import { useSearchParams } from "react-router";

import type { DocumentQuery, DocumentSort } from "../../api/documents";

/**
 * The source panel's view: your documents (all, or listed under one vocabulary to filter by), or those others
 * shared with you.
 */
export type SourceView = "all" | "types" | "correspondents" | "tags" | "shared";

/** The filters a URL can hold; each names one id (or the search words). */
export type FilterKey = "type" | "correspondent" | "tag" | "category" | "q";

export const FILTER_KEYS: readonly FilterKey[] = ["type", "correspondent", "tag", "category", "q"];

const SORTS: readonly DocumentSort[] = ["added", "-added", "created", "-created", "title", "-title", "modified", "-modified"];
export const DEFAULT_SORT: DocumentSort = "-added";
export const PAGE_SIZE = 25;

function viewOf(value: string | null): SourceView {
  return value === "types" || value === "correspondents" || value === "tags" || value === "shared" ? value : "all";
}

function sortOf(value: string | null): DocumentSort {
  return SORTS.find((sort) => sort === value) ?? DEFAULT_SORT;
}

export interface DocumentsLocation {
  view: SourceView;
  filters: Record<FilterKey, string | null>;
  sort: DocumentSort;
  /** The page shown, from 1. */
  page: number;
  /** The open document's id. */
  selected: string | null;
  /** What to ask the server for. */
  query: DocumentQuery;
  /** Whether any filter is set. */
  filtered: boolean;
  setView: (view: SourceView) => void;
  /** Set or clear one filter (back to the first page). */
  setFilter: (key: FilterKey, value: string | null) => void;
  /** Clear every filter and show all documents. */
  showAll: () => void;
  setSort: (sort: DocumentSort) => void;
  setPage: (page: number) => void;
  select: (id: string | null) => void;
}

export function useDocumentsLocation(): DocumentsLocation {
  const [params, setParams] = useSearchParams();
  const view = viewOf(params.get("view"));
  // An empty parameter (`?q=`) is no filter.
  const filters = Object.fromEntries(FILTER_KEYS.map((key) => [key, params.get(key) === "" ? null : params.get(key)])) as Record<FilterKey, string | null>;
  const sort = sortOf(params.get("sort"));
  const page = Math.max(1, Math.floor(Number(params.get("page") ?? "1")) || 1);
  const selected = params.get("doc");

  /** Change some parameters (null: remove), keeping the others; `replace` for changes not worth a Back step. */
  const change = useCallback(
    (changes: Record<string, string | null>, replace = false) => {
      setParams(
        (current) => {
          const next = new URLSearchParams(current);
          for (const [key, value] of Object.entries(changes)) {
            if (value === null || value === "") next.delete(key);
            else next.set(key, value);
          }
          return next;
        },
        { replace },
      );
    },
    [setParams],
  );

  // Shared documents are another list: its page and open document are not this one's.
  const setView = useCallback(
    (next: SourceView) => {
      const crossing = (next === "shared") !== (view === "shared");
      change(crossing ? { view: next === "all" ? null : next, page: null, doc: null } : { view: next === "all" ? null : next });
    },
    [change, view],
  );
  const setFilter = useCallback((key: FilterKey, value: string | null) => { change({ [key]: value, page: null }, key === "q"); }, [change]);
  const showAll = useCallback(() => {
    change({ view: null, type: null, correspondent: null, tag: null, category: null, q: null, page: null, ...(view === "shared" ? { doc: null } : {}) });
  }, [change, view]);
  const setSort = useCallback((next: DocumentSort) => { change({ sort: next === DEFAULT_SORT ? null : next, page: null }); }, [change]);
  const setPage = useCallback((next: number) => { change({ page: next <= 1 ? null : String(next) }); }, [change]);
  const select = useCallback((id: string | null) => { change({ doc: id }); }, [change]);

  const query: DocumentQuery = {
    ...(view === "shared" ? { scope: "shared" as const } : {}),
    sort,
    limit: PAGE_SIZE,
    offset: (page - 1) * PAGE_SIZE,
    ...(filters.type ? { type_id: filters.type } : {}),
    ...(filters.correspondent ? { correspondent_id: filters.correspondent } : {}),
    ...(filters.tag ? { tag_id: filters.tag } : {}),
    ...(filters.category ? { category_id: filters.category } : {}),
    ...(filters.q ? { q: filters.q } : {}),
  };

  return {
    view,
    filters,
    sort,
    page,
    selected,
    query,
    filtered: FILTER_KEYS.some((key) => filters[key] !== null),
    setView,
    setFilter,
    showAll,
    setSort,
    setPage,
    select,
  };
}

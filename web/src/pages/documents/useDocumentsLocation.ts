/**
 * Where the documents page is, read from the URL: the source panel's view (`?view=types|correspondents|tags|shared`), the
 * filters (`type`, `correspondent`, `tag`, `category`, `q`; a custom field's `field` with `field_value`, `field_min`,
 * `field_max`), whose (`scope=all`: yours and those shared with you), the
 * order (`sort`), the columns shown (`cols`), the page (`page`, from 1) and the open document (`doc`). A reload or a
 * shared link shows the same view; a saved view is these parameters under a name.
 */
import { useCallback } from "react";
import { useSearchParams } from "react-router";

import type { DocumentQuery, DocumentSort } from "../../api/documents";
import type { SavedViewQuery, ViewColumn } from "../../api/documentViews";

/**
 * The source panel's view: your documents (all, or listed under one vocabulary to filter by), or those others
 * shared with you.
 */
export type SourceView = "all" | "types" | "correspondents" | "tags" | "shared";

/** The filters a URL can hold; each names one id (or the search words). */
export type FilterKey = "type" | "correspondent" | "tag" | "category" | "q";

export const FILTER_KEYS: readonly FilterKey[] = ["type", "correspondent", "tag", "category", "q"];

/** A filter by a custom field: documents carrying it, with a value equal to `value` and/or within `min`..`max`. */
export interface FieldFilter {
  id: string;
  value: string | null;
  min: string | null;
  max: string | null;
}

/** The URL parameters of the custom-field filter, by its members. */
const FIELD_PARAMS = { id: "field", value: "field_value", min: "field_min", max: "field_max" } as const;

function fieldFilterOf(params: URLSearchParams): FieldFilter | null {
  const read = (key: string): string | null => {
    const value = params.get(key);
    return value === null || value === "" ? null : value;
  };
  const id = read(FIELD_PARAMS.id);
  return id === null ? null : { id, value: read(FIELD_PARAMS.value), min: read(FIELD_PARAMS.min), max: read(FIELD_PARAMS.max) };
}

/** The parameter changes that set (or, with null, clear) the custom-field filter. */
function fieldChanges(filter: FieldFilter | null): Record<string, string | null> {
  return {
    [FIELD_PARAMS.id]: filter?.id ?? null,
    [FIELD_PARAMS.value]: filter?.value ?? null,
    [FIELD_PARAMS.min]: filter?.min ?? null,
    [FIELD_PARAMS.max]: filter?.max ?? null,
  };
}

/** The documents list's query members of a custom-field filter (none without one). */
export function fieldQuery(filter: Pick<SavedViewQuery, "custom_field_id" | "custom_field_value" | "custom_field_min" | "custom_field_max">): Partial<DocumentQuery> {
  if (!filter.custom_field_id) return {};
  return {
    custom_field_id: filter.custom_field_id,
    ...(filter.custom_field_value ? { custom_field_value: filter.custom_field_value } : {}),
    ...(filter.custom_field_min ? { custom_field_min: filter.custom_field_min } : {}),
    ...(filter.custom_field_max ? { custom_field_max: filter.custom_field_max } : {}),
  };
}

const SORTS: readonly DocumentSort[] = ["added", "-added", "created", "-created", "title", "-title", "modified", "-modified"];
export const DEFAULT_SORT: DocumentSort = "-added";
export const PAGE_SIZE = 25;
const COLUMNS: readonly ViewColumn[] = ["type", "correspondent", "tags", "created", "added", "modified", "text"];

/** The columns a `cols` parameter names, in the table's order (null: the default ones). */
function columnsOf(value: string | null): ViewColumn[] | null {
  if (value === null) return null;
  const named = new Set(value.split(","));
  return COLUMNS.filter((column) => named.has(column));
}

/** The URL parameters that open a saved view's query with its columns (the page and the open document left out). */
export function viewParams(query: SavedViewQuery, columns: readonly ViewColumn[] | null): URLSearchParams {
  const params = new URLSearchParams();
  if (query.scope === "shared") params.set("view", "shared");
  if (query.scope === "all") params.set("scope", "all");
  const filters: [string, string | null | undefined][] = [
    ["type", query.type_id], ["correspondent", query.correspondent_id], ["tag", query.tag_id], ["category", query.category_id], ["q", query.q],
  ];
  for (const [key, value] of filters) if (value) params.set(key, value);
  if (query.custom_field_id) {
    const field: [string, string | null | undefined][] = [
      [FIELD_PARAMS.id, query.custom_field_id], [FIELD_PARAMS.value, query.custom_field_value], [FIELD_PARAMS.min, query.custom_field_min], [FIELD_PARAMS.max, query.custom_field_max],
    ];
    for (const [key, value] of field) if (value) params.set(key, value);
  }
  if (query.sort !== DEFAULT_SORT) params.set("sort", query.sort);
  if (columns !== null) params.set("cols", columns.join(","));
  return params;
}

function viewOf(value: string | null): SourceView {
  return value === "types" || value === "correspondents" || value === "tags" || value === "shared" ? value : "all";
}

function sortOf(value: string | null): DocumentSort {
  return SORTS.find((sort) => sort === value) ?? DEFAULT_SORT;
}

export interface DocumentsLocation {
  view: SourceView;
  filters: Record<FilterKey, string | null>;
  /** The custom-field filter (null: none). */
  fieldFilter: FieldFilter | null;
  sort: DocumentSort;
  /** The columns shown (null: the default ones). */
  columns: ViewColumn[] | null;
  /** The list's query as a saved view holds it (filters, whose, order). */
  viewQuery: SavedViewQuery;
  /** The URL's parameters (a saved view compares itself with them). */
  params: URLSearchParams;
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
  /** Set or clear the custom-field filter (back to the first page). */
  setFieldFilter: (filter: FieldFilter | null) => void;
  /** Clear every filter and show all documents. */
  showAll: () => void;
  setSort: (sort: DocumentSort) => void;
  setPage: (page: number) => void;
  select: (id: string | null) => void;
  setColumns: (columns: ViewColumn[] | null) => void;
  /** Show a saved view: its filters, order and columns instead of the current ones. */
  openView: (query: SavedViewQuery, columns: readonly ViewColumn[]) => void;
}

export function useDocumentsLocation(): DocumentsLocation {
  const [params, setParams] = useSearchParams();
  const view = viewOf(params.get("view"));
  // An empty parameter (`?q=`) is no filter.
  const filters = Object.fromEntries(FILTER_KEYS.map((key) => [key, params.get(key) === "" ? null : params.get(key)])) as Record<FilterKey, string | null>;
  const fieldFilter = fieldFilterOf(params);
  const sort = sortOf(params.get("sort"));
  const page = Math.max(1, Math.floor(Number(params.get("page") ?? "1")) || 1);
  const selected = params.get("doc");
  const columns = columnsOf(params.get("cols"));
  const everyone = view !== "shared" && params.get("scope") === "all";

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
  const setFieldFilter = useCallback((filter: FieldFilter | null) => { change({ ...fieldChanges(filter), page: null }); }, [change]);
  const showAll = useCallback(() => {
    change({
      view: null, scope: null, type: null, correspondent: null, tag: null, category: null, q: null, ...fieldChanges(null), page: null,
      ...(view === "shared" ? { doc: null } : {}),
    });
  }, [change, view]);
  const setSort = useCallback((next: DocumentSort) => { change({ sort: next === DEFAULT_SORT ? null : next, page: null }); }, [change]);
  const setPage = useCallback((next: number) => { change({ page: next <= 1 ? null : String(next) }); }, [change]);
  const select = useCallback((id: string | null) => { change({ doc: id }); }, [change]);
  const setColumns = useCallback((next: ViewColumn[] | null) => { change({ cols: next === null ? null : next.join(",") }, true); }, [change]);
  const openView = useCallback(
    (viewQuery: SavedViewQuery, viewColumns: readonly ViewColumn[]) => { setParams(viewParams(viewQuery, viewColumns)); },
    [setParams],
  );

  const query: DocumentQuery = {
    ...(view === "shared" ? { scope: "shared" as const } : everyone ? { scope: "all" as const } : {}),
    sort,
    limit: PAGE_SIZE,
    offset: (page - 1) * PAGE_SIZE,
    ...(filters.type ? { type_id: filters.type } : {}),
    ...(filters.correspondent ? { correspondent_id: filters.correspondent } : {}),
    ...(filters.tag ? { tag_id: filters.tag } : {}),
    ...(filters.category ? { category_id: filters.category } : {}),
    ...(filters.q ? { q: filters.q } : {}),
    ...(fieldFilter ? fieldQuery({ custom_field_id: fieldFilter.id, custom_field_value: fieldFilter.value, custom_field_min: fieldFilter.min, custom_field_max: fieldFilter.max }) : {}),
  };

  const viewQuery: SavedViewQuery = {
    scope: view === "shared" ? "shared" : everyone ? "all" : "mine",
    sort,
    type_id: filters.type,
    correspondent_id: filters.correspondent,
    tag_id: filters.tag,
    category_id: filters.category,
    q: filters.q,
    custom_field_id: fieldFilter?.id ?? null,
    custom_field_value: fieldFilter?.value ?? null,
    custom_field_min: fieldFilter?.min ?? null,
    custom_field_max: fieldFilter?.max ?? null,
  };

  return {
    view,
    filters,
    fieldFilter,
    sort,
    columns,
    viewQuery,
    params,
    page,
    selected,
    query,
    filtered: FILTER_KEYS.some((key) => filters[key] !== null) || fieldFilter !== null,
    setView,
    setFilter,
    setFieldFilter,
    showAll,
    setSort,
    setPage,
    select,
    setColumns,
    openView,
  };
}

/** The documents table's columns a view may show, and where a saved view opens. */
import type { SavedView, ViewColumn } from "../../api/documentViews";
import { viewParams } from "./useDocumentsLocation";

/** The columns shown when a view names none (the title always shows). */
export const DEFAULT_COLUMNS: readonly ViewColumn[] = ["type", "correspondent", "tags", "created", "added", "text"];

/** Every column a view may show, in the table's order, with its header. */
export const COLUMN_LABELS: Record<ViewColumn, string> = {
  type: "Type",
  correspondent: "Correspondent",
  tags: "Tags",
  created: "Created",
  added: "Added",
  modified: "Modified",
  text: "Text",
};

/** Where a saved view opens. */
export function savedViewHref(view: SavedView): string {
  const params = viewParams(view.query, view.columns).toString();
  return params === "" ? "/documents" : `/documents?${params}`;
}

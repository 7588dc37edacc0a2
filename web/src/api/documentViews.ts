/**
 * Typed calls of saved views (a named documents list: its query, columns and where it is pinned) and of bulk actions
 * on documents (one action on many documents, all or none; many documents' files in one zip), with their query hooks.
 */
import { useQuery } from "@tanstack/react-query";

import { api, unwrap, unwrapEmpty } from "./client";
import { errorFromResponse } from "./problem";
import { asApiError } from "./queryClient";
import type { components } from "./schema";

type Schemas = components["schemas"];

export type SavedView = Schemas["ViewRead"];
export type SavedViewCreate = Schemas["ViewCreate"];
export type SavedViewUpdate = Schemas["ViewUpdate"];
export type SavedViewQuery = Schemas["ViewQuery"];
/** A column of the documents table a view may show (the title always shows). */
export type ViewColumn = SavedView["columns"][number];
export type BulkResult = Schemas["BulkResult"];
/** One bulk action, without the documents it applies to. */
export type BulkAction =
  | { action: "add_tags" | "remove_tags"; tag_ids: string[] }
  | { action: "add_categories" | "remove_categories"; category_ids: string[] }
  | { action: "set_type"; type_id: string | null }
  | { action: "set_correspondent"; correspondent_id: string | null }
  | { action: "remove" | "trash" }
  | { action: "share"; user_id?: string; group_id?: string; permission: "view" | "edit" };

/** Under the documents keys: a change to documents (a deleted term) may change what a view shows. */
export const savedViewsKey = ["documents", "views"] as const;

export function listSavedViews(): Promise<SavedView[]> {
  return unwrap(api.GET("/api/documents/views"));
}

export function createSavedView(view: SavedViewCreate): Promise<SavedView> {
  return unwrap(api.POST("/api/documents/views", { body: view }));
}

export function updateSavedView(id: string, change: SavedViewUpdate): Promise<SavedView> {
  return unwrap(api.PATCH("/api/documents/views/{view_id}", { params: { path: { view_id: id } }, body: change }));
}

export function deleteSavedView(id: string): Promise<void> {
  return unwrapEmpty(api.DELETE("/api/documents/views/{view_id}", { params: { path: { view_id: id } } }));
}

/** Your saved views (in your order), then those shared with the organization. */
export function useSavedViews(enabled = true) {
  return useQuery({ queryKey: savedViewsKey, queryFn: () => asApiError(listSavedViews()), enabled, staleTime: 30_000 });
}

/** Do one action to every document (the server changes all of them or none, and says which it refused). */
export function bulkEdit(documentIds: string[], action: BulkAction): Promise<BulkResult> {
  return unwrap(api.POST("/api/documents/bulk", { body: { document_ids: documentIds, ...action } }));
}

/** Download the documents' files as one zip (the browser saves it as documents.zip). */
export async function downloadZip(documentIds: string[]): Promise<void> {
  const { data, error, response } = await api.POST("/api/documents/bulk/zip", { body: { document_ids: documentIds }, parseAs: "blob" });
  if (!response.ok || data === undefined) throw errorFromResponse(response, error);
  const url = URL.createObjectURL(data);
  const link = document.createElement("a");
  link.href = url;
  link.download = "documents.zip";
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => { URL.revokeObjectURL(url); }, 10_000);
}

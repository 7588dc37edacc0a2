/** The app data store: the collections apps keep for you (documents, attachments, a changes feed), and deleting one. */
import { useQuery } from "@tanstack/react-query";

import { api, unwrap, unwrapEmpty } from "./client";
import { asApiError } from "./queryClient";
import type { components } from "./schema";

export type DataCollection = components["schemas"]["DataCollectionRead"];

export const appDataKeys = {
  collections: ["apps", "data", "collections"] as const,
};

export function listDataCollections(signal?: AbortSignal): Promise<DataCollection[]> {
  return unwrap(api.GET("/api/apps/data/collections", { signal })).then((page) => page.items);
}

/** Delete a collection with every document and attachment in it (its bytes go back to your quota). */
export function deleteDataCollection(collection: DataCollection): Promise<void> {
  return unwrapEmpty(
    api.DELETE("/api/apps/data/{space}/{collection}", { params: { path: { space: collection.space, collection: collection.name } } }),
  );
}

export function useDataCollections() {
  return useQuery({ queryKey: appDataKeys.collections, queryFn: ({ signal }) => asApiError(listDataCollections(signal)) });
}

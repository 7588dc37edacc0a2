/** Query hooks of files and sharing: listings, trash, quota, versions, shares, links, the link policy and the files settings. */
import { keepPreviousData, useQuery } from "@tanstack/react-query";

import { getPlace, getQuota, listFavorites, listFolder, listRecent, listTrash, listVersions, searchFiles, type FileEntry, type FolderListing } from "./files";
import { getFilesSettings } from "./filesSettings";
import { asApiError } from "./queryClient";
import { filesKeys } from "./queryKeys";
import { getAdminLinkPolicy, getLinkPolicy, listLinks, listShares, openPublicLink, searchDirectory, sharedWithMe } from "./sharing";

/** Where the file manager is: a folder of My files, or one of the flat views. */
export type FilesView = "files" | "recent" | "favorites" | "trash" | "search";

/** What a file-manager view lists: the folder (for "files") and its items. */
export interface Listing {
  listing: FolderListing | null;
  items: FileEntry[];
}

async function loadListing(view: FilesView, folderId: string | null, query: string, offset: number): Promise<Listing> {
  if (view === "files") {
    const listing = await listFolder(folderId, undefined, offset);
    return { listing, items: listing.items };
  }
  if (view === "recent") return { listing: null, items: (await listRecent()).items };
  if (view === "favorites") return { listing: null, items: (await listFavorites()).items };
  if (view === "search" && query) return { listing: null, items: (await searchFiles(query)).items };
  return { listing: null, items: [] };
}

/**
 * The items of one view (a folder's with the folder itself; a folder's page from `offset`); the trash has its own
 * query. Nothing is asked for while `enabled` is false.
 */
export function useListing(view: FilesView, folderId: string | null, query: string, enabled = true, offset = 0) {
  const key = offset > 0 ? [...filesKeys.listing(view, folderId, query), offset] : filesKeys.listing(view, folderId, query);
  return useQuery({ queryKey: key, queryFn: () => asApiError(loadListing(view, folderId, query, offset)), enabled });
}

/** Where an entry is listed (nothing is asked for while `id` is null). */
export function usePlace(id: string | null) {
  return useQuery({ queryKey: [...filesKeys.all, "place", id], queryFn: ({ signal }) => asApiError(getPlace(id ?? "", signal)), enabled: id !== null, staleTime: 0 });
}

export function useTrash() {
  return useQuery({ queryKey: filesKeys.trash, queryFn: () => asApiError(listTrash()) });
}

export function useQuota() {
  return useQuery({ queryKey: filesKeys.quota, queryFn: () => asApiError(getQuota()) });
}

export function useVersions(fileId: string) {
  return useQuery({ queryKey: filesKeys.versions(fileId), queryFn: () => asApiError(listVersions(fileId)) });
}

export function useShares(nodeId: string) {
  return useQuery({ queryKey: filesKeys.shares(nodeId), queryFn: () => asApiError(listShares(nodeId)) });
}

export function useSharedWithMe() {
  return useQuery({ queryKey: filesKeys.sharedWithMe, queryFn: () => asApiError(sharedWithMe()) });
}

/** People and groups matching `q` to share with (nothing is asked for while `q` is empty; the last matches stay while the next load). */
export function useDirectorySearch(q: string) {
  return useQuery({ queryKey: filesKeys.directory(q), queryFn: () => asApiError(searchDirectory(q)), enabled: q !== "", placeholderData: keepPreviousData });
}

export function useLinks(nodeId: string) {
  return useQuery({ queryKey: filesKeys.links(nodeId), queryFn: () => asApiError(listLinks(nodeId)) });
}

/** The link policy as it applies to the signed-in user (what the link dialog offers). */
export function useLinkPolicy() {
  return useQuery({ queryKey: filesKeys.linkPolicy, queryFn: () => asApiError(getLinkPolicy()) });
}

export function useAdminLinkPolicy() {
  return useQuery({ queryKey: filesKeys.adminLinkPolicy, queryFn: () => asApiError(getAdminLinkPolicy()) });
}

export function useFilesSettings(tenantId: string) {
  return useQuery({ queryKey: filesKeys.settings(tenantId), queryFn: () => asApiError(getFilesSettings(tenantId)) });
}

/** What a public link shows (a file, or a folder's items): no sign-in needed. */
export function usePublicLink(token: string, folderId: string | null) {
  return useQuery({ queryKey: filesKeys.publicLink(token, folderId), queryFn: () => asApiError(openPublicLink(token, folderId)) });
}

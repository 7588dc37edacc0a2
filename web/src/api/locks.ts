/** WebDAV locks on files and folders as the file manager shows them: a folder's locked files, one file's locks, unlocking. */
import { useQuery } from "@tanstack/react-query";

import { formatShortDateTime, parseDate } from "../lib/format";
import { api, unwrap, unwrapEmpty } from "./client";
import { asApiError } from "./queryClient";
import { filesKeys } from "./queryKeys";
import type { components } from "./schema";

export type FileLock = components["schemas"]["LockRead"];

/** Under the files prefix: anything that refreshes the files refreshes their locks. */
export const lockKeys = {
  all: [...filesKeys.all, "locks"] as const,
  folder: (folderId: string | null) => [...filesKeys.all, "locks", "folder", folderId] as const,
  node: (nodeId: string) => [...filesKeys.all, "locks", "node", nodeId] as const,
};

/** The locks on the files and folders directly in a folder (your root when null), one request a page. */
export function listFolderLocks(folderId: string | null, signal?: AbortSignal): Promise<{ items: FileLock[] }> {
  return unwrap(api.GET("/api/files/locks", { params: { query: folderId ? { parent_id: folderId } : {} }, signal }));
}

/** The locks that hold a file or folder: its own, and those of folders above it taken with depth infinity. */
export function getLocks(id: string, signal?: AbortSignal): Promise<{ items: FileLock[] }> {
  return unwrap(api.GET("/api/files/{file_id}/lock", { params: { path: { file_id: id } }, signal }));
}

/** Remove the locks on a file or folder (yours; anyone's for an administrator). */
export function unlock(id: string): Promise<void> {
  return unwrapEmpty(api.DELETE("/api/files/{file_id}/lock", { params: { path: { file_id: id } } }));
}

/** The locked entries of a folder's listing, by node id (nothing is asked for while `enabled` is false). */
export function useFolderLocks(folderId: string | null, enabled = true) {
  return useQuery({
    queryKey: lockKeys.folder(folderId),
    queryFn: async ({ signal }) => {
      const page = await asApiError(listFolderLocks(folderId, signal));
      const byNode = new Map<string, FileLock>();
      for (const lock of page.items) if (!byNode.has(lock.node_id)) byNode.set(lock.node_id, lock);
      return byNode;
    },
    enabled,
  });
}

export function useLocks(id: string) {
  return useQuery({ queryKey: lockKeys.node(id), queryFn: ({ signal }) => asApiError(getLocks(id, signal)) });
}

/** What a lock says in a tooltip or the details panel: "Locked by Ada until Dec 7, 2026, 14:05 (WebDAV)". */
export function describeLock(lock: FileLock): string {
  const until = parseDate(lock.expires_at);
  return `Locked by ${lock.locked_by} until ${until ? formatShortDateTime(until) : lock.expires_at} (WebDAV)`;
}

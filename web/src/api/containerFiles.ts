/**
 * A container's files, inside its volume on its node (through its agent): list, download, upload with
 * progress, make a folder, rename/move, delete. Paths are relative to the volume root ("" is the root).
 */
import { api, unwrap, unwrapEmpty } from "./client";
import { sendRaw } from "./files";
import type { components } from "./schema";

type Schemas = components["schemas"];

/** One entry of a folder listing; `kind` is file | directory | symlink | other, `modified` seconds since the epoch. */
export type ContainerFile = Schemas["ContainerFile"];
export type ContainerFileList = Schemas["ContainerFileList"];

const containerPath = (containerId: string) => ({ container_id: containerId });

/** The entries of a folder (directories first, as the server sorts them). */
export function listContainerFiles(containerId: string, path: string, signal?: AbortSignal): Promise<ContainerFileList> {
  return unwrap(api.GET("/api/containers/{container_id}/files", { params: { path: containerPath(containerId), query: { path } }, signal }));
}

export function makeContainerFolder(containerId: string, path: string): Promise<ContainerFile> {
  return unwrap(api.POST("/api/containers/{container_id}/files/mkdir", { params: { path: containerPath(containerId) }, body: { path } }));
}

/** Rename or move `path` to `target` (both relative to the volume); the target must not exist. */
export function renameContainerFile(containerId: string, path: string, target: string): Promise<ContainerFile> {
  return unwrap(api.POST("/api/containers/{container_id}/files/rename", { params: { path: containerPath(containerId) }, body: { path, target } }));
}

/** Delete a file, a symlink (not its target) or a folder with all it holds. */
export function deleteContainerFile(containerId: string, path: string): Promise<void> {
  return unwrapEmpty(api.DELETE("/api/containers/{container_id}/files", { params: { path: containerPath(containerId), query: { path } } }));
}

/** Upload `file` to `path` (replacing what is there once every byte arrived), reporting bytes sent. */
export function uploadContainerFile(containerId: string, path: string, file: File, onProgress: (sent: number) => void, signal?: AbortSignal): Promise<ContainerFile> {
  return sendRaw<ContainerFile>("PUT", contentUrl(containerId, path), file, onProgress, signal);
}

/** Where the browser downloads a file from (the session cookie authorizes it; the server names the file). */
export function contentUrl(containerId: string, path: string): string {
  return `/api/containers/${encodeURIComponent(containerId)}/files/content?${new URLSearchParams({ path }).toString()}`;
}

/** Typed calls of the files domain: folders, uploads with progress, rename/move/copy, versions, trash, search, quota. */
import { api, refreshSession, unwrap, unwrapEmpty } from "./client";
import { errorFromResponse, toApiError, type ApiError } from "./problem";
import type { components } from "./schema";

type Schemas = components["schemas"];

export type FileEntry = Schemas["FileRead"];
export type FolderListing = Schemas["FolderListing"];
export type FilePage = Schemas["FilePage"];
/** Where an entry is listed: its folder and its place in the folder's order. */
export type FilePlace = Schemas["FilePlace"];
/** How many entries one page of a folder's listing holds. */
export const FOLDER_PAGE = 500;
export type Quota = Schemas["QuotaRead"];
export type Version = Schemas["VersionRead"];

/** One page of a folder (the first unless `offset` says otherwise). */
export function listFolder(parentId: string | null, signal?: AbortSignal, offset = 0): Promise<FolderListing> {
  const page = { limit: FOLDER_PAGE, ...(offset > 0 ? { offset } : {}) };
  return unwrap(api.GET("/api/files", { params: { query: parentId ? { parent_id: parentId, ...page } : page }, signal }));
}

/** Where an entry is listed (to open the page of its folder that holds it). */
export function getPlace(id: string, signal?: AbortSignal): Promise<FilePlace> {
  return unwrap(api.GET("/api/files/{file_id}/place", { params: { path: { file_id: id } }, signal }));
}

export function createFolder(parentId: string | null, name: string): Promise<FileEntry> {
  return unwrap(api.POST("/api/files/folders", { body: { parent_id: parentId, name } }));
}

export function renameEntry(id: string, name: string): Promise<FileEntry> {
  return unwrap(api.PATCH("/api/files/{file_id}", { params: { path: { file_id: id } }, body: { name } }));
}

export function getEntry(id: string, signal?: AbortSignal): Promise<FileEntry> {
  return unwrap(api.GET("/api/files/{file_id}", { params: { path: { file_id: id } }, signal }));
}

export function moveEntry(id: string, parentId: string | null): Promise<FileEntry> {
  return unwrap(api.PATCH("/api/files/{file_id}", { params: { path: { file_id: id } }, body: { parent_id: parentId } }));
}

export function copyEntry(id: string, parentId: string | null): Promise<FileEntry> {
  return unwrap(api.POST("/api/files/{file_id}/copy", { params: { path: { file_id: id } }, body: { parent_id: parentId } }));
}

export function setFavorite(id: string, favorite: boolean): Promise<FileEntry> {
  const options = { params: { path: { file_id: id } } };
  return unwrap(favorite ? api.PUT("/api/files/{file_id}/favorite", options) : api.DELETE("/api/files/{file_id}/favorite", options));
}

export function searchFiles(q: string, signal?: AbortSignal): Promise<FilePage> {
  return unwrap(api.GET("/api/files/search", { params: { query: { q } }, signal }));
}

export function listRecent(signal?: AbortSignal): Promise<FilePage> {
  return unwrap(api.GET("/api/files/recent", { signal }));
}

export function listFavorites(signal?: AbortSignal): Promise<FilePage> {
  return unwrap(api.GET("/api/files/favorites", { signal }));
}

export function listVersions(id: string, signal?: AbortSignal): Promise<Version[]> {
  return unwrap(api.GET("/api/files/{file_id}/versions", { params: { path: { file_id: id } }, signal }));
}

export function restoreVersion(id: string, versionId: string): Promise<FileEntry> {
  return unwrap(api.POST("/api/files/{file_id}/versions/{version_id}/restore", { params: { path: { file_id: id, version_id: versionId } } }));
}

export function emptyTrash(): Promise<void> {
  return unwrapEmpty(api.DELETE("/api/trash"));
}

export function trashEntry(id: string): Promise<FileEntry> {
  return unwrap(api.DELETE("/api/files/{file_id}", { params: { path: { file_id: id } } }));
}

export function listTrash(signal?: AbortSignal): Promise<FilePage> {
  return unwrap(api.GET("/api/trash", { params: { query: { limit: 500 } }, signal }));
}

export function restoreEntry(id: string, name?: string): Promise<FileEntry> {
  return unwrap(api.POST("/api/trash/{file_id}/restore", { params: { path: { file_id: id } }, body: name === undefined ? {} : { name } }));
}

export function purgeEntry(id: string): Promise<void> {
  return unwrapEmpty(api.DELETE("/api/trash/{file_id}", { params: { path: { file_id: id } } }));
}

export function getQuota(signal?: AbortSignal): Promise<Quota> {
  return unwrap(api.GET("/api/users/me/quota", { signal }));
}

/** Where a file's bytes download from (the browser sends the cookie; the server sets Content-Disposition). */
export function contentUrl(id: string): string {
  return `/api/files/${encodeURIComponent(id)}/content`;
}

/** An earlier content's download address. */
export function versionUrl(id: string, versionId: string): string {
  return `/api/files/${encodeURIComponent(id)}/versions/${encodeURIComponent(versionId)}/content`;
}

/** A 256-pixel WebP preview of an image (404 until the background job has made it). */
export function thumbnailUrl(entry: FileEntry): string {
  // The content's hash in the address: a new version is a new URL, so the browser cache never shows a stale one.
  return `/api/files/${encodeURIComponent(entry.id)}/thumbnail?size=256&v=${encodeURIComponent((entry.sha256 ?? "").slice(0, 12))}`;
}

function csrfToken(): string | null {
  for (const part of document.cookie.split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === "nubes_csrf") return decodeURIComponent(value.join("="));
  }
  return null;
}

function sendOnce(
  method: string,
  url: string,
  body: File | FormData,
  onProgress: (sent: number) => void,
  signal?: AbortSignal,
): Promise<{ status: number; body: unknown; response: Response }> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    if (signal?.aborted) {
      reject(new DOMException("Upload cancelled", "AbortError"));
      return;
    }
    signal?.addEventListener("abort", () => {
      request.abort();
    });
    request.onabort = () => {
      reject(new DOMException("Upload cancelled", "AbortError"));
    };
    request.open(method, url);
    request.withCredentials = true;
    // A form sets its own multipart Content-Type (with the boundary); a raw body says what the file is.
    if (body instanceof File) request.setRequestHeader("Content-Type", body.type || "application/octet-stream");
    const token = csrfToken();
    if (token !== null) request.setRequestHeader("X-CSRF-Token", token);
    request.upload.onprogress = (event) => {
      onProgress(event.loaded);
    };
    request.onerror = () => {
      reject(new TypeError("network error"));
    };
    request.onload = () => {
      let body: unknown = request.responseText;
      try {
        body = JSON.parse(request.responseText);
      } catch {
        // not JSON: errorFromResponse reports it as unexpected
      }
      const headers = new Headers({ "Retry-After": request.getResponseHeader("Retry-After") ?? "" });
      resolve({ status: request.status, body, response: new Response(null, { status: request.status, statusText: request.statusText, headers }) });
    };
    request.send(body);
  });
}

/**
 * Upload one file as the raw body, reporting bytes sent. XMLHttpRequest because fetch reports no upload
 * progress; an expired access cookie is refreshed once and the upload sent again.
 */
export function uploadFile(file: File, parentId: string | null, onProgress: (sent: number) => void, signal?: AbortSignal): Promise<FileEntry> {
  const query = new URLSearchParams({ name: file.name });
  if (parentId) query.set("parent_id", parentId);
  return sendRaw<FileEntry>("POST", `/api/files/upload/raw?${query.toString()}`, file, onProgress, signal);
}

/**
 * Send a file as the raw body of `method url`, reporting bytes sent; the JSON answer is returned as `T`
 * (the caller names the route's response schema). Errors become an ApiError carrying the problem detail.
 */
export function sendRaw<T>(method: string, url: string, file: File, onProgress: (sent: number) => void, signal?: AbortSignal): Promise<T> {
  return sendBody<T>(method, url, file, onProgress, signal);
}

/** Like `sendRaw`, with a multipart form as the body (routes that take a `file` field); progress counts the whole form. */
export function sendForm<T>(method: string, url: string, form: FormData, onProgress: (sent: number) => void, signal?: AbortSignal): Promise<T> {
  return sendBody<T>(method, url, form, onProgress, signal);
}

async function sendBody<T>(method: string, url: string, body: File | FormData, onProgress: (sent: number) => void, signal?: AbortSignal): Promise<T> {
  try {
    let answer = await sendOnce(method, url, body, onProgress, signal);
    if (answer.status === 401 && (await refreshSession())) {
      answer = await sendOnce(method, url, body, onProgress, signal);
    }
    if (answer.status >= 200 && answer.status < 300) return answer.body as T;
    throw errorFromResponse(answer.response, answer.body);
  } catch (caught) {
    if (caught instanceof DOMException && caught.name === "AbortError") throw caught;
    throw toApiError(caught);
  }
}

export type { ApiError };

/** Typed calls of sharing: shares with people and groups, public links, the link policy, and the public link page. */
import { api, unwrap, unwrapEmpty } from "./client";
import { errorFromResponse, toApiError } from "./problem";
import type { components } from "./schema";

type Schemas = components["schemas"];

export type Share = Schemas["ShareRead"];
export type SharePermission = Share["permission"];
export type SharedItem = Schemas["SharedItem"];
export type PublicLinkEntry = Schemas["LinkRead"];
export type LinkKind = PublicLinkEntry["kind"];
export type LinkCreate = Schemas["LinkCreate"];
export type LinkPolicy = Schemas["LinkPolicyRead"];
export type DirectoryEntry = Schemas["DirectoryEntry"];
export type PublicLinkInfo = Schemas["PublicLinkInfo"];
export type PublicEntry = Schemas["PublicEntry"];

export function searchDirectory(q: string, signal?: AbortSignal): Promise<DirectoryEntry[]> {
  return unwrap(api.GET("/api/directory", { params: { query: { q } }, signal })).then((page) => page.items);
}

export function listShares(nodeId: string, signal?: AbortSignal): Promise<Share[]> {
  return unwrap(api.GET("/api/files/{file_id}/shares", { params: { path: { file_id: nodeId } }, signal }));
}

export function createShare(nodeId: string, target: DirectoryEntry, permission: SharePermission): Promise<Share> {
  const body = target.kind === "user" ? { user_id: target.id, permission } : { group_id: target.id, permission };
  return unwrap(api.POST("/api/files/{file_id}/shares", { params: { path: { file_id: nodeId } }, body }));
}

export function updateShare(nodeId: string, shareId: string, permission: SharePermission): Promise<Share> {
  return unwrap(api.PATCH("/api/files/{file_id}/shares/{share_id}", { params: { path: { file_id: nodeId, share_id: shareId } }, body: { permission } }));
}

export function deleteShare(nodeId: string, shareId: string): Promise<void> {
  return unwrapEmpty(api.DELETE("/api/files/{file_id}/shares/{share_id}", { params: { path: { file_id: nodeId, share_id: shareId } } }));
}

export function sharedWithMe(signal?: AbortSignal): Promise<SharedItem[]> {
  return unwrap(api.GET("/api/shares/with-me", { signal })).then((page) => page.items);
}

export function listLinks(nodeId: string, signal?: AbortSignal): Promise<PublicLinkEntry[]> {
  return unwrap(api.GET("/api/files/{file_id}/links", { params: { path: { file_id: nodeId } }, signal }));
}

export function createLink(nodeId: string, body: LinkCreate): Promise<PublicLinkEntry> {
  return unwrap(api.POST("/api/files/{file_id}/links", { params: { path: { file_id: nodeId } }, body }));
}

export function deleteLink(nodeId: string, linkId: string): Promise<void> {
  return unwrapEmpty(api.DELETE("/api/files/{file_id}/links/{link_id}", { params: { path: { file_id: nodeId, link_id: linkId } } }));
}

export function getLinkPolicy(signal?: AbortSignal): Promise<LinkPolicy> {
  return unwrap(api.GET("/api/files/link-policy", { signal }));
}

export function getAdminLinkPolicy(signal?: AbortSignal): Promise<LinkPolicy> {
  return unwrap(api.GET("/api/admin/settings/links", { signal }));
}

export function setAdminLinkPolicy(body: LinkPolicy): Promise<LinkPolicy> {
  return unwrap(api.PUT("/api/admin/settings/links", { body }));
}

// --- the public page: plain fetch, no session (a 401 here means "password needed", not "sign in again") ---

function publicBase(token: string): string {
  return `/api/public/links/${encodeURIComponent(token)}`;
}

async function publicCall<T>(url: string, init?: RequestInit): Promise<T> {
  try {
    const response = await fetch(url, { credentials: "same-origin", ...init });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: errorFromResponse reports it
    }
    if (!response.ok) throw errorFromResponse(response, body);
    return body as T;
  } catch (caught) {
    throw toApiError(caught);
  }
}

export function openPublicLink(token: string, folderId: string | null, signal?: AbortSignal): Promise<PublicLinkInfo> {
  const query = folderId ? `?node_id=${encodeURIComponent(folderId)}` : "";
  return publicCall(`${publicBase(token)}${query}`, { signal });
}

export function unlockPublicLink(token: string, password: string): Promise<void> {
  return publicCall(`${publicBase(token)}/unlock`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ password }),
  }).then(() => undefined);
}

/** Where a link's content (or one item under a shared folder) downloads from; the unlock cookie goes along. */
export function publicContentUrl(token: string, nodeId?: string): string {
  return `${publicBase(token)}/content${nodeId ? `?node_id=${encodeURIComponent(nodeId)}` : ""}`;
}

export function uploadToPublicLink(token: string, file: File, folderId: string | null): Promise<PublicEntry> {
  const form = new FormData();
  form.append("file", file);
  const query = folderId ? `?node_id=${encodeURIComponent(folderId)}` : "";
  return publicCall(`${publicBase(token)}/upload${query}`, { method: "POST", body: form });
}

/** The full address of a link, to copy and send. */
export function linkAddress(link: PublicLinkEntry): string {
  return `${window.location.origin}${link.url_path}`;
}

/** The address a WebDAV client (a mounted drive, rclone) opens the link at; its password, if any, is the Basic password. */
export function linkDavAddress(link: PublicLinkEntry): string {
  return `${window.location.origin}/public.php/dav/files/${encodeURIComponent(link.token)}/`;
}

export const PERMISSION_LABELS: Record<SharePermission, string> = { view: "Can view", edit: "Can edit", reshare: "Can edit and share" };
export const LINK_KIND_LABELS: Record<LinkKind, string> = { view: "View and download", edit: "View, download and upload", upload: "Upload only (drop box)" };

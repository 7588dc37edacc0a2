/**
 * A container's files, inside its volume on its node: list, read, write, rename, make a folder, delete.
 *
 * Written by hand against the routes `/api/containers/{id}/files...` (the generated schema of this branch
 * does not have them yet); replace with the generated client once schema.d.ts carries them.
 */
import { fetchApi } from "./client";
import { errorFromResponse, toApiError } from "./problem";

export type ContainerFileKind = "file" | "dir" | "symlink";

/** One entry of a folder listing. */
export interface ContainerFile {
  name: string;
  kind: ContainerFileKind;
  size: number;
  /** ISO 8601 timestamp of the last change. */
  modified: string;
}

function url(containerId: string, suffix: string, path?: string): string {
  const base = `/api/containers/${encodeURIComponent(containerId)}/files${suffix}`;
  return path === undefined ? base : `${base}?${new URLSearchParams({ path }).toString()}`;
}

async function send(request: Request): Promise<Response> {
  let response: Response;
  try {
    response = await fetchApi(request);
  } catch (error) {
    throw toApiError(error);
  }
  if (response.ok) return response;
  let body: unknown = undefined;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  throw errorFromResponse(response, body);
}

function isEntry(value: unknown): value is ContainerFile {
  if (typeof value !== "object" || value === null) return false;
  const entry = value as Record<string, unknown>;
  return typeof entry.name === "string" && (entry.kind === "file" || entry.kind === "dir" || entry.kind === "symlink");
}

/** The entries of a folder (`path` relative to the volume root, "" or "/" for the root). */
export async function listContainerFiles(containerId: string, path: string, signal?: AbortSignal): Promise<ContainerFile[]> {
  const response = await send(new Request(url(containerId, "", path), { credentials: "include", signal }));
  const body: unknown = await response.json();
  const items: unknown = Array.isArray(body) ? body : (body as { items?: unknown } | null)?.items;
  if (!Array.isArray(items)) throw toApiError(new SyntaxError("not a file listing"));
  return items.filter(isEntry);
}

/** A file's text. */
export async function readContainerFile(containerId: string, path: string): Promise<string> {
  const response = await send(new Request(url(containerId, "/content", path), { credentials: "include" }));
  return response.text();
}

/** Write (create or replace) a file with this text. */
export async function writeContainerFile(containerId: string, path: string, content: string): Promise<void> {
  await send(
    new Request(url(containerId, "/content", path), {
      method: "PUT",
      credentials: "include",
      headers: { "Content-Type": "application/octet-stream" },
      body: content,
    }),
  );
}

export async function renameContainerFile(containerId: string, from: string, to: string): Promise<void> {
  await send(
    new Request(url(containerId, "/rename"), {
      method: "POST",
      credentials: "include",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ from, to }),
    }),
  );
}

export async function makeContainerFolder(containerId: string, path: string): Promise<void> {
  await send(
    new Request(url(containerId, "/mkdir"), {
      method: "POST",
      credentials: "include",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ path }),
    }),
  );
}

export async function deleteContainerFile(containerId: string, path: string): Promise<void> {
  await send(new Request(url(containerId, "", path), { method: "DELETE", credentials: "include" }));
}

/** Where the browser downloads a file from (the content route, which the session cookie authorizes). */
export function containerFileUrl(containerId: string, path: string): string {
  return url(containerId, "/content", path);
}

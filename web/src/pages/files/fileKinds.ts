/** Helpers of the file manager: byte sizes, media kinds, sorting, and the server's suggested free name. */
import type { ApiError } from "../../api/problem";
import { listFolder, type FileEntry } from "../../api/files";

/** 1536 → "1.5 KB" (decimal units, as disks and quotas are sold). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["KB", "MB", "GB", "TB", "PB"];
  let value = bytes;
  let unit = -1;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** The name the server suggests when a name is taken (a 409 `name-taken` problem), if any. */
export function suggestedName(error: ApiError): string | null {
  return error.problem?.errors?.find((entry) => entry.type === "suggested_name")?.msg ?? null;
}

const imageSuffixes = [".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tif", ".tiff"];
const audioSuffixes = [".mp3", ".ogg", ".oga", ".wav", ".flac", ".m4a", ".opus"];
const videoSuffixes = [".mp4", ".webm", ".ogv", ".mov", ".m4v"];

export type MediaKind = "image" | "audio" | "video" | null;

/** What a browser can show of a file: an image, a sound, a video, or nothing. */
export function mediaKind(entry: FileEntry): MediaKind {
  if (entry.kind !== "file") return null;
  const type = entry.content_type;
  const name = entry.name.toLowerCase();
  if (type.startsWith("image/") || imageSuffixes.some((suffix) => name.endsWith(suffix))) return "image";
  if (type.startsWith("audio/") || audioSuffixes.some((suffix) => name.endsWith(suffix))) return "audio";
  if (type.startsWith("video/") || videoSuffixes.some((suffix) => name.endsWith(suffix))) return "video";
  return null;
}

/** Whether the server makes a thumbnail of this file (the same kinds as nubes.files.tasks). */
export function hasThumbnail(entry: FileEntry): boolean {
  const name = entry.name.toLowerCase();
  if (entry.content_type === "application/pdf" || name.endsWith(".pdf")) return true; // its first page
  return mediaKind(entry) === "image" && entry.content_type !== "image/svg+xml" && !name.endsWith(".svg");
}

export type SortKey = "name" | "size" | "modified";
export interface Sort {
  key: SortKey;
  descending: boolean;
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

/** A file's date as people read it: the one its client gave the content (a synced file keeps its own), else when Nubes stored it. */
export function contentDate(entry: FileEntry): string {
  return entry.modified_at ?? entry.updated_at;
}

/** Folders first, then by the chosen key (ties by name). */
export function sortEntries(entries: FileEntry[], sort: Sort): FileEntry[] {
  const direction = sort.descending ? -1 : 1;
  return [...entries].sort((a, b) => {
    const folderFirst = Number(a.kind === "file") - Number(b.kind === "file");
    if (folderFirst !== 0) return folderFirst;
    let order = 0;
    if (sort.key === "size") order = a.size - b.size;
    else if (sort.key === "modified") order = Date.parse(contentDate(a)) - Date.parse(contentDate(b));
    if (order === 0) order = collator.compare(a.name, b.name);
    return order * direction;
  });
}

/** Entries dragged inside the page carry their ids under this type (files from the desktop carry Files). */
export const ENTRY_DRAG_TYPE = "application/x-nubes-entries";

const locations = new Map<string, Promise<string>>();

/** "My files / Projects / 2026": where a folder is (each folder asked once per page load). */
export function folderPath(id: string): Promise<string> {
  let known = locations.get(id);
  if (known === undefined) {
    known = listFolder(id).then(
      (listing) => [...listing.path, listing.folder].map((entry) => (entry.kind === "root" ? "My files" : entry.name)).join(" / "),
      () => "",
    );
    locations.set(id, known);
  }
  return known;
}

/** Forget cached folder paths (after a move or rename). */
export function forgetLocations(): void {
  locations.clear();
}


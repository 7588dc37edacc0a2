/** Which documents the viewer shows, and how their previews are addressed (kept apart from the viewer's lazy chunk). */
import type { Document } from "../../../api/documents";

/** Files larger than this are not loaded into the viewer (pdf.js holds the whole file in memory). */
export const VIEW_LIMIT = 200 * 1024 * 1024;

/** Image types a browser shows in an <img>. */
const BROWSER_IMAGES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/avif", "image/svg+xml"]);
const IMAGE_SUFFIXES = [".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".avif", ".svg"];

/** How the viewer shows a document: as a PDF, as an image, or not at all (null). */
export function viewKind(document: Pick<Document, "content_type" | "file_name">): "pdf" | "image" | null {
  const name = document.file_name.toLowerCase();
  if (document.content_type === "application/pdf" || name.endsWith(".pdf")) return "pdf";
  if (BROWSER_IMAGES.has(document.content_type) || IMAGE_SUFFIXES.some((suffix) => name.endsWith(suffix))) return "image";
  return null;
}

/** The address of a document's preview (an image, or a PDF's first page); its content's hash in it, so a new content is a new URL. */
export function previewUrl(document: Pick<Document, "file_id" | "sha256">): string {
  const version = encodeURIComponent((document.sha256 ?? "").slice(0, 12));
  return `/api/files/${encodeURIComponent(document.file_id)}/thumbnail?size=256&v=${version}`;
}

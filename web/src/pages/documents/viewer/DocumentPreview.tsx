/**
 * A document's preview (an image's thumbnail or a PDF's first page, made by the server in the background) in a box of
 * fixed size, so nothing moves when it arrives: loaded lazily once the document says it is ready (the list is polled
 * while a preview is being made, so no request meets a 404); the file-type icon where there is none.
 */
import { useState } from "react";

import type { Document } from "../../../api/documents";
import { DocumentIcon } from "../../../components/icons";
import { previewUrl } from "./viewKinds";

const BOXES = {
  /** A table row: a small portrait page. */
  row: { box: "h-10 w-8 rounded-sm", icon: "size-5", width: 32, height: 40 },
  /** The slide-over: a larger look at the first page. */
  panel: { box: "h-52 w-full rounded-lg p-3", icon: "size-12", width: 256, height: 184 },
} as const;

function extension(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot > 0 && dot > name.length - 7 ? name.slice(dot + 1).toUpperCase() : "";
}

export function DocumentPreview({ document, size }: { document: Document; size: keyof typeof BOXES }) {
  const box = BOXES[size];
  // The preview that failed to load (gone since the list was read): its URL, so a new content tries again.
  const [failed, setFailed] = useState<string | null>(null);
  const url = previewUrl(document);
  const frame = `flex shrink-0 items-center justify-center overflow-hidden bg-slate-100 ring-1 ring-slate-200 dark:bg-slate-800 dark:ring-slate-700 ${box.box}`;
  if (document.preview === "pending") {
    return (
      <span className={`${frame} animate-pulse`} data-testid="document-preview" data-state="pending" title="The preview is being made">
        <DocumentIcon className={`${box.icon} text-slate-300 dark:text-slate-600`} />
      </span>
    );
  }
  if (document.preview === "none" || failed === url) {
    const label = extension(document.file_name);
    return (
      <span className={`${frame} flex-col gap-1 text-slate-400`} data-testid="document-preview" data-state="none" aria-hidden="true">
        <DocumentIcon className={box.icon} />
        {size === "panel" && label !== "" && <span className="text-xs font-semibold tracking-wide">{label}</span>}
      </span>
    );
  }
  return (
    <span className={frame} data-testid="document-preview" data-state="ready">
      <img
        src={url}
        alt={size === "panel" ? `First page of ${document.title}` : ""}
        loading="lazy"
        decoding="async"
        width={box.width}
        height={box.height}
        className="h-auto max-h-full w-auto max-w-full bg-white shadow-sm ring-1 ring-black/10"
        onError={() => {
          setFailed(url);
        }}
      />
    </span>
  );
}

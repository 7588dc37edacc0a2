/**
 * The full-window viewer of a document, opened from its slide-over ("View"): PDFs in the PDF viewer (pdf.js, which
 * this module's chunk brings: the documents page loads it only when a viewer opens), images in an image view with
 * zoom. Escape or Close leaves it.
 */
import { useEffect, useRef, useState } from "react";

import type { Document } from "../../../api/documents";
import { contentUrl } from "../../../api/files";
import { CloseIcon, DownloadIcon } from "../../../components/icons";
import { formatBytes } from "../../files/fileKinds";
import { PdfViewer } from "./PdfViewer";
import { viewKind, VIEW_LIMIT } from "./viewKinds";
import "./viewer.css";

const tool = "inline-flex h-8 min-w-8 items-center justify-center rounded-md px-2 text-sm text-slate-200 hover:bg-white/10";

/** An image at its size on screen: fitted to the window, or zoomed from its own pixels (100% is one image pixel a pixel). */
function ImageView({ document }: { document: Document }) {
  const image = useRef<HTMLImageElement>(null);
  const [scale, setScale] = useState<number | null>(null); // null: fitted
  const [natural, setNatural] = useState(0);
  const zoom = (factor: number): void => {
    const shown = image.current;
    // From where the fitted image stands, so the first step is from what is on screen.
    const from = scale ?? (shown !== null && shown.naturalWidth > 0 ? shown.clientWidth / shown.naturalWidth : 1);
    setScale(Math.min(8, Math.max(0.05, from * factor)));
  };
  return (
    <div className="flex min-h-0 flex-1 flex-col">
      <div className="flex items-center gap-1 border-b border-white/10 bg-slate-900 px-4 py-2" role="toolbar" aria-label="Image tools">
        <button type="button" className={tool} aria-label="Zoom out" onClick={() => { zoom(1 / 1.25); }}>
          −
        </button>
        <span className="w-12 text-center text-sm text-slate-300 tabular-nums">{scale === null ? "Fit" : `${Math.round(scale * 100)}%`}</span>
        <button type="button" className={tool} aria-label="Zoom in" onClick={() => { zoom(1.25); }}>
          +
        </button>
        <button type="button" className={`${tool} ${scale === null ? "bg-white/15" : ""}`} aria-pressed={scale === null} onClick={() => { setScale(null); }}>
          Fit
        </button>
      </div>
      <div className="min-h-0 flex-1 overflow-auto bg-slate-800 p-6" data-testid="viewer-image">
        <img
          ref={image}
          src={contentUrl(document.file_id)}
          alt={document.title}
          className={scale === null ? "mx-auto max-h-full max-w-full object-contain" : "mx-auto max-w-none"}
          onLoad={(event) => {
            setNatural(event.currentTarget.naturalWidth);
          }}
          style={scale === null || natural === 0 ? undefined : { width: `${Math.round(natural * scale)}px` }}
        />
      </div>
    </div>
  );
}

export default function DocumentViewer({ document, onClose }: { document: Document; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog !== null && !dialog.open) dialog.showModal();
  }, []);
  const kind = viewKind(document);
  const tooLarge = document.size > VIEW_LIMIT;
  return (
    <dialog
      ref={ref}
      aria-label={`Viewing ${document.title}`}
      data-testid="document-viewer"
      className="m-0 h-dvh max-h-none w-dvw max-w-none bg-slate-950 p-0 text-white backdrop:bg-slate-950/80"
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
    >
      <div className="flex h-full flex-col">
        <div className="flex items-center gap-3 border-b border-white/10 px-4 py-2.5">
          <div className="min-w-0">
            <h2 className="truncate font-medium" data-testid="viewer-title">
              {document.title}
            </h2>
            <p className="truncate text-xs text-slate-400">
              {document.file_name} · {formatBytes(document.size)}
            </p>
          </div>
          <a className="ml-auto rounded-lg p-2 hover:bg-white/10" href={contentUrl(document.file_id)} aria-label={`Download ${document.file_name}`} title="Download">
            <DownloadIcon className="size-5" />
          </a>
          <button type="button" className="rounded-lg p-2 hover:bg-white/10" onClick={onClose} aria-label="Close viewer" title="Close (Esc)">
            <CloseIcon className="size-5" />
          </button>
        </div>
        {tooLarge || kind === null ? (
          <div className="flex flex-1 items-center justify-center p-6 text-center text-sm text-slate-300">
            {tooLarge
              ? `This file is ${formatBytes(document.size)}: too large to view here (at most ${formatBytes(VIEW_LIMIT)}). Download it instead.`
              : "Nubes cannot show this kind of file here. Download it instead."}
          </div>
        ) : kind === "pdf" ? (
          <PdfViewer fileId={document.file_id} name={document.file_name} />
        ) : (
          <ImageView document={document} />
        )}
      </div>
    </dialog>
  );
}

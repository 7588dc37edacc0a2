/** The strip of page thumbnails beside the PDF viewer: each drawn small when scrolled near, a click goes to that page. */
import { useEffect, useRef, useState } from "react";

import type { PageSize } from "./PdfPage";
import type { PDFDocumentProxy, RenderTask } from "./pdfjs";
import { useNear } from "./useNear";

/** The width of a thumbnail, in CSS pixels. */
const WIDTH = 112;

function PageThumbnail({
  pdf,
  number,
  fallback,
  root,
  current,
  hits,
  onPick,
}: {
  pdf: PDFDocumentProxy;
  number: number;
  fallback: PageSize;
  root: HTMLElement | null;
  current: boolean;
  hits: number;
  onPick: (number: number) => void;
}) {
  const button = useRef<HTMLButtonElement>(null);
  const host = useRef<HTMLDivElement>(null);
  const near = useNear(button, root, "400px 0px");
  const [ratio, setRatio] = useState(fallback.height / Math.max(1, fallback.width));

  useEffect(() => {
    if (!near) return;
    let cancelled = false;
    const stopped = (): boolean => cancelled;
    let task: RenderTask | null = null;
    const target = host.current;
    void (async () => {
      const page = await pdf.getPage(number);
      if (stopped()) return;
      const base = page.getViewport({ scale: 1 });
      setRatio(base.height / Math.max(1, base.width));
      const viewport = page.getViewport({ scale: (WIDTH / base.width) * Math.min(window.devicePixelRatio || 1, 2) });
      const canvas = window.document.createElement("canvas");
      canvas.width = Math.max(1, Math.floor(viewport.width));
      canvas.height = Math.max(1, Math.floor(viewport.height));
      canvas.className = "block size-full";
      task = page.render({ canvas, viewport });
      await task.promise;
      if (!stopped()) target?.replaceChildren(canvas);
    })().catch(() => {
      // A thumbnail that cannot be drawn stays a blank page; the page itself says what went wrong.
    });
    return () => {
      cancelled = true;
      task?.cancel();
      target?.replaceChildren();
    };
  }, [near, pdf, number]);

  // Keep the current page's thumbnail in sight as the document scrolls.
  useEffect(() => {
    if (current) button.current?.scrollIntoView({ block: "nearest" });
  }, [current]);

  return (
    <button
      ref={button}
      type="button"
      data-testid="viewer-thumbnail"
      data-page={number}
      aria-current={current ? "page" : undefined}
      aria-label={`Go to page ${number}${hits > 0 ? ` (${hits} ${hits === 1 ? "match" : "matches"})` : ""}`}
      className="group flex w-full flex-col items-center gap-1 rounded-lg p-2 hover:bg-white/10 focus-visible:outline-2 focus-visible:outline-sky-400"
      onClick={() => {
        onPick(number);
      }}
    >
      <span className={`relative block overflow-hidden bg-white ${current ? "ring-3 ring-sky-400" : "ring-1 ring-white/20"}`}>
        <span ref={host} className="block" style={{ width: `${WIDTH}px`, height: `${Math.round(WIDTH * ratio)}px` }} />
        {hits > 0 && (
          <span className="absolute top-1 right-1 rounded-full bg-amber-400 px-1.5 text-[10px] font-semibold text-slate-900 tabular-nums">{hits}</span>
        )}
      </span>
      <span className={`text-xs tabular-nums ${current ? "font-semibold text-white" : "text-slate-400"}`}>{number}</span>
    </button>
  );
}

export function PageThumbnails({
  pdf,
  fallback,
  current,
  hitsPerPage,
  onPick,
}: {
  pdf: PDFDocumentProxy;
  fallback: PageSize;
  current: number;
  hitsPerPage: ReadonlyMap<number, number>;
  onPick: (number: number) => void;
}) {
  const [root, setRoot] = useState<HTMLElement | null>(null);
  return (
    <nav
      ref={setRoot}
      aria-label="Pages"
      data-testid="viewer-thumbnails"
      className="hidden w-40 shrink-0 overflow-y-auto border-r border-white/10 bg-slate-900 px-2 py-3 md:block"
    >
      {root !== null &&
        Array.from({ length: pdf.numPages }, (_, index) => (
          <PageThumbnail
            key={index + 1}
            pdf={pdf}
            number={index + 1}
            fallback={fallback}
            root={root}
            current={current === index + 1}
            hits={hitsPerPage.get(index + 1) ?? 0}
            onPick={onPick}
          />
        ))}
    </nav>
  );
}

/**
 * One page of the PDF viewer: a box of the page's size at the current zoom, drawn (canvas + text layer) only while it
 * is near the visible part of the viewer and emptied when it scrolls far away, so a long PDF costs what is on screen.
 * Search matches are marked in its text layer; the current one is scrolled into view when asked.
 */
import { useEffect, useRef, useState, type CSSProperties } from "react";

import type { ItemRange } from "./pdfSearch";
import { TextLayer, type PDFDocumentProxy, type RenderTask } from "./pdfjs";
import { useNear } from "./useNear";

/** A canvas has at most this many pixels (a page zoomed far on a dense screen is drawn less sharp, not out of memory). */
const MAX_CANVAS_PIXELS = 16_777_216;

/** How far outside the visible area pages are drawn ahead of the scroll. */
const NEAR = "1200px 0px";

export interface PageSize {
  width: number;
  height: number;
  /** PDF's UserUnit: how many points one unit of the page is (almost always 1). */
  unit?: number;
}

/** Where the page's text layer stands: the spans pdf.js made and the strings they started with. */
interface DrawnText {
  divs: HTMLElement[];
  strings: string[];
}

function markRanges(text: DrawnText, ranges: readonly ItemRange[], marked: Set<number>): HTMLElement | null {
  // Put back what earlier matches changed, then mark these.
  for (const index of marked) {
    const div = text.divs[index];
    if (div !== undefined) div.textContent = text.strings[index] ?? "";
  }
  marked.clear();
  const byItem = new Map<number, ItemRange[]>();
  for (const range of ranges) byItem.set(range.item, [...(byItem.get(range.item) ?? []), range]);
  let current: HTMLElement | null = null;
  for (const [index, parts] of byItem) {
    const div = text.divs[index];
    const source = text.strings[index];
    if (div === undefined || source === undefined) continue;
    parts.sort((a, b) => a.from - b.from);
    const nodes: Node[] = [];
    let at = 0;
    for (const part of parts) {
      if (part.from > at) nodes.push(window.document.createTextNode(source.slice(at, part.from)));
      const mark = window.document.createElement("mark");
      mark.className = part.current ? "search-hit current" : "search-hit";
      mark.textContent = source.slice(Math.max(part.from, at), part.to);
      if (part.current && current === null) current = mark;
      nodes.push(mark);
      at = Math.max(at, part.to);
    }
    if (at < source.length) nodes.push(window.document.createTextNode(source.slice(at)));
    div.replaceChildren(...nodes);
    marked.add(index);
  }
  return current;
}

export function PdfPage({
  pdf,
  number,
  scale,
  fallback,
  root,
  ranges,
  focus,
  onElement,
}: {
  pdf: PDFDocumentProxy;
  /** 1-based. */
  number: number;
  scale: number;
  /** The page's size at zoom 1 until its own is known (the first page's). */
  fallback: PageSize;
  /** The scrolling element the page is visible in. */
  root: HTMLElement | null;
  ranges: readonly ItemRange[];
  /** Changes when the current match moves: the page that holds it scrolls it into view. */
  focus: string;
  onElement: (number: number, element: HTMLDivElement | null) => void;
}) {
  const box = useRef<HTMLDivElement>(null);
  const canvasHost = useRef<HTMLDivElement>(null);
  const textHost = useRef<HTMLDivElement>(null);
  const near = useNear(box, root, NEAR);
  const [size, setSize] = useState<PageSize | null>(null);
  const [drawn, setDrawn] = useState<DrawnText | null>(null);
  const [failed, setFailed] = useState(false);
  const marked = useRef(new Set<number>());
  const wantFocus = useRef(false);

  useEffect(() => {
    onElement(number, box.current);
    return () => {
      onElement(number, null);
    };
  }, [number, onElement]);

  useEffect(() => {
    if (!near) return;
    let cancelled = false;
    const stopped = (): boolean => cancelled;
    let task: RenderTask | null = null;
    let layer: TextLayer | null = null;
    const canvases = canvasHost.current;
    const texts = textHost.current;
    void (async () => {
      const page = await pdf.getPage(number);
      if (stopped()) return;
      const base = page.getViewport({ scale: 1 });
      setSize({ width: base.width, height: base.height, unit: base.userUnit });
      const viewport = page.getViewport({ scale });
      const ratio = Math.min(window.devicePixelRatio || 1, Math.sqrt(MAX_CANVAS_PIXELS / Math.max(1, viewport.width * viewport.height)));
      const canvas = window.document.createElement("canvas");
      canvas.width = Math.max(1, Math.floor(viewport.width * ratio));
      canvas.height = Math.max(1, Math.floor(viewport.height * ratio));
      canvas.className = "absolute inset-0 block size-full";
      task = page.render({ canvas, viewport, transform: ratio === 1 ? undefined : [ratio, 0, 0, ratio, 0, 0] });
      await task.promise;
      if (stopped()) return;
      canvases?.replaceChildren(canvas);
      const container = window.document.createElement("div");
      container.className = "textLayer";
      layer = new TextLayer({ textContentSource: page.streamTextContent(), container, viewport });
      await layer.render();
      if (stopped()) return;
      texts?.replaceChildren(container);
      marked.current.clear();
      setDrawn({ divs: layer.textDivs, strings: layer.textContentItemsStr });
    })().catch((error: unknown) => {
      // A cancelled render (zoom changed, page scrolled away) is not a failure.
      if (!cancelled && !(error instanceof Error && error.name === "RenderingCancelledException")) setFailed(true);
    });
    return () => {
      cancelled = true;
      task?.cancel();
      layer?.cancel();
      canvases?.replaceChildren();
      texts?.replaceChildren();
      setDrawn(null);
    };
  }, [near, pdf, number, scale]);

  // The page that holds the current match: scroll to the page now, to the match once its text is drawn.
  useEffect(() => {
    if (!ranges.some((range) => range.current)) return;
    wantFocus.current = true;
    if (drawn === null) box.current?.scrollIntoView({ block: "start" });
    // Only a new current match asks for the scroll; new ranges or a redraw alone do not.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [focus]);

  useEffect(() => {
    if (drawn === null) return;
    const current = markRanges(drawn, ranges, marked.current);
    if (current !== null && wantFocus.current) {
      wantFocus.current = false;
      current.scrollIntoView({ block: "center", inline: "nearest" });
    }
  }, [drawn, ranges]);

  const shown = size ?? fallback;
  const style = {
    width: `${Math.floor(shown.width * scale)}px`,
    height: `${Math.floor(shown.height * scale)}px`,
    "--total-scale-factor": String(scale * (shown.unit ?? 1)),
    "--scale-round-x": "1px",
    "--scale-round-y": "1px",
  } as CSSProperties;
  return (
    <div
      ref={box}
      data-testid="pdf-page"
      data-page={number}
      data-drawn={drawn !== null ? "true" : "false"}
      aria-label={`Page ${number}`}
      role="region"
      className="relative mx-auto shrink-0 bg-white shadow-md ring-1 ring-black/10"
      style={style}
    >
      <div ref={canvasHost} className="absolute inset-0" />
      <div ref={textHost} className="absolute inset-0" />
      {failed && <p className="absolute inset-x-0 top-1/2 text-center text-sm text-rose-700">Page {number} could not be drawn.</p>}
    </div>
  );
}

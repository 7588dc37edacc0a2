/**
 * The PDF viewer: the file's bytes from the download route (the session's cookie and CSRF, refresh on 401), parsed
 * by pdf.js in its worker; pages drawn as they scroll near, a strip of page thumbnails, zoom (in, out, fit width),
 * "page x of y", and search in the text layer (every match marked, Enter / Shift+Enter for the next / previous,
 * "n of m").
 */
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent } from "react";

import { fetchApi } from "../../../api/client";
import { contentUrl } from "../../../api/files";
import { errorFromResponse, toApiError } from "../../../api/problem";
import { Alert } from "../../../components/Form";
import { SearchIcon } from "../../../components/icons";
import { PageThumbnails } from "./PageThumbnails";
import { PdfPage, type PageSize } from "./PdfPage";
import { findMatches, itemRanges, pageText, type ItemRange, type Match, type PageText } from "./pdfSearch";
import { openPdf, type PDFDocumentProxy } from "./pdfjs";

const ZOOM_STEPS = [0.25, 0.33, 0.5, 0.67, 0.75, 0.9, 1, 1.1, 1.25, 1.5, 1.75, 2, 2.5, 3, 4];
const MIN_ZOOM = ZOOM_STEPS[0] ?? 0.25;
const MAX_ZOOM = ZOOM_STEPS[ZOOM_STEPS.length - 1] ?? 4;
const NO_RANGES: readonly ItemRange[] = [];
/** Horizontal room kept beside a page fitted to the width. */
const GUTTER = 48;

type Zoom = { fit: true } | { fit: false; scale: number };

const tool =
  "inline-flex h-8 min-w-8 items-center justify-center rounded-md px-2 text-sm text-slate-200 hover:bg-white/10 disabled:cursor-not-allowed disabled:opacity-40";

/** Why a PDF cannot be shown, in the reader's words. */
function openError(error: unknown): string {
  const name = error instanceof Error ? error.name : "";
  if (name === "PasswordException") return "This PDF is protected by a password. Download it to open it with the password.";
  if (name === "InvalidPDFException") return "This file is not a PDF that can be shown (it may be damaged). Download it instead.";
  return toApiError(error).message;
}

/** Load the document's PDF: its bytes through the API client's fetch, then pdf.js. */
function usePdf(fileId: string): { pdf: PDFDocumentProxy | null; error: string | null } {
  const [pdf, setPdf] = useState<PDFDocumentProxy | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let cancelled = false;
    const stopped = (): boolean => cancelled;
    let opened: PDFDocumentProxy | null = null;
    void (async () => {
      const response = await fetchApi(new Request(contentUrl(fileId)));
      if (!response.ok) throw errorFromResponse(response, await response.json().catch(() => null));
      const data = await response.arrayBuffer();
      if (stopped()) return;
      opened = await openPdf(data);
      if (stopped()) {
        void opened.destroy();
        return;
      }
      setPdf(opened);
    })().catch((reason: unknown) => {
      if (!cancelled) setError(openError(reason));
    });
    return () => {
      cancelled = true;
      void opened?.destroy();
    };
  }, [fileId]);
  return { pdf, error };
}

/** The text of every page, read in the background once a search asks for it; `done` when all pages are in. */
function usePageTexts(pdf: PDFDocumentProxy | null, wanted: boolean): { texts: (PageText | undefined)[]; done: boolean } {
  const [texts, setTexts] = useState<(PageText | undefined)[]>([]);
  const [done, setDone] = useState(false);
  const started = useRef(false);
  useEffect(() => {
    if (pdf === null || !wanted || started.current) return;
    started.current = true;
    let cancelled = false;
    const stopped = (): boolean => cancelled;
    void (async () => {
      const read: (PageText | undefined)[] = [];
      for (let number = 1; number <= pdf.numPages && !stopped(); number += 1) {
        const page = await pdf.getPage(number);
        const content = await page.getTextContent();
        read.push(pageText(content.items as { str?: string; hasEOL?: boolean }[]));
        // Show matches as pages come in: every few pages, and at the end.
        if (number % 10 === 0 || number === pdf.numPages) setTexts([...read]);
      }
      if (!stopped()) setDone(true);
    })().catch(() => {
      if (!cancelled) setDone(true);
    });
    return () => {
      cancelled = true;
      started.current = false;
    };
  }, [pdf, wanted]);
  return { texts, done };
}

export function PdfViewer({ fileId, name }: { fileId: string; name: string }) {
  const { pdf, error } = usePdf(fileId);
  const [base, setBase] = useState<PageSize | null>(null);
  const [scroller, setScroller] = useState<HTMLDivElement | null>(null);
  const [width, setWidth] = useState(0);
  const [zoom, setZoom] = useState<Zoom>({ fit: true });
  const [page, setPage] = useState(1);
  const [pageDraft, setPageDraft] = useState<string | null>(null);
  const [query, setQuery] = useState("");
  const [searched, setSearched] = useState("");
  // The current match of the search it was picked in (a new search starts at its first match).
  const [picked, setPicked] = useState({ search: "", index: 0 });
  const [steps, setSteps] = useState(0);
  const elements = useRef(new Map<number, HTMLDivElement>());
  const keepPage = useRef<number | null>(null);
  const searchBox = useRef<HTMLInputElement>(null);

  // The first page's size stands for every page until each is drawn (most PDFs have one page size).
  useEffect(() => {
    if (pdf === null) return;
    void pdf.getPage(1).then((first) => {
      const viewport = first.getViewport({ scale: 1 });
      setBase({ width: viewport.width, height: viewport.height, unit: viewport.userUnit });
    });
  }, [pdf]);

  useEffect(() => {
    if (scroller === null) return;
    const observer = new ResizeObserver(() => {
      setWidth(scroller.clientWidth);
    });
    observer.observe(scroller);
    return () => {
      observer.disconnect();
    };
  }, [scroller]);

  const fitScale = base !== null && width > 0 ? Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, (width - GUTTER) / base.width)) : 1;
  const scale = zoom.fit ? fitScale : zoom.scale;

  // A zoom keeps the page that was in view in view.
  useLayoutEffect(() => {
    const kept = keepPage.current;
    keepPage.current = null;
    if (kept !== null) elements.current.get(kept)?.scrollIntoView({ block: "start" });
  }, [scale]);

  const zoomTo = (next: Zoom): void => {
    keepPage.current = page;
    setZoom(next);
  };
  const zoomIn = (): void => {
    zoomTo({ fit: false, scale: ZOOM_STEPS.find((step) => step > scale + 0.001) ?? MAX_ZOOM });
  };
  const zoomOut = (): void => {
    zoomTo({ fit: false, scale: [...ZOOM_STEPS].reverse().find((step) => step < scale - 0.001) ?? MIN_ZOOM });
  };

  const onElement = useCallback((number: number, element: HTMLDivElement | null) => {
    if (element === null) elements.current.delete(number);
    else elements.current.set(number, element);
  }, []);

  const goTo = useCallback((number: number) => {
    elements.current.get(number)?.scrollIntoView({ block: "start" });
    setPage(number);
  }, []);

  // "Page x of y" follows the scroll: the page that covers the upper third of the view.
  useEffect(() => {
    if (scroller === null || pdf === null) return;
    let frame = 0;
    const onScroll = (): void => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => {
        const line = scroller.getBoundingClientRect().top + scroller.clientHeight / 3;
        let seen = 1;
        for (let number = 1; number <= pdf.numPages; number += 1) {
          const element = elements.current.get(number);
          if (element === undefined) continue;
          if (element.getBoundingClientRect().top <= line) seen = number;
          else break;
        }
        setPage(seen);
      });
    };
    scroller.addEventListener("scroll", onScroll, { passive: true });
    return () => {
      cancelAnimationFrame(frame);
      scroller.removeEventListener("scroll", onScroll);
    };
  }, [scroller, pdf]);

  // Search: the words are looked for a moment after typing stops.
  useEffect(() => {
    const timer = window.setTimeout(() => {
      setSearched(query.trim());
    }, 250);
    return () => {
      window.clearTimeout(timer);
    };
  }, [query]);
  const { texts, done } = usePageTexts(pdf, searched !== "");
  const matches = useMemo(() => findMatches(texts, searched), [texts, searched]);
  const current = picked.search === searched ? picked.index : 0;
  // What moves the view to the current match: a new search once it found something, and each step.
  const focus = `${searched}|${String(matches.length > 0)}|${String(steps)}`;
  const currentMatch: Match | null = matches[Math.min(current, matches.length - 1)] ?? null;
  const rangesByPage = useMemo(() => {
    const byPage = new Map<number, Match[]>();
    for (const match of matches) byPage.set(match.page, [...(byPage.get(match.page) ?? []), match]);
    const ranges = new Map<number, ItemRange[]>();
    for (const [number, pageMatches] of byPage) {
      const text = texts[number - 1];
      if (text !== undefined) ranges.set(number, itemRanges(text, pageMatches, currentMatch));
    }
    return { ranges, counts: new Map([...byPage].map(([number, list]) => [number, list.length])) };
  }, [matches, texts, currentMatch]);

  const step = (delta: number): void => {
    if (matches.length === 0) return;
    setPicked({ search: searched, index: (Math.min(current, matches.length - 1) + delta + matches.length) % matches.length });
    setSteps((count) => count + 1);
  };
  const onSearchKey = (event: KeyboardEvent<HTMLInputElement>): void => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    step(event.shiftKey ? -1 : 1);
  };

  // Ctrl+F / Cmd+F searches the PDF, not the page around it.
  useEffect(() => {
    const onKey = (event: globalThis.KeyboardEvent): void => {
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "f") {
        event.preventDefault();
        searchBox.current?.focus();
        searchBox.current?.select();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => {
      window.removeEventListener("keydown", onKey);
    };
  }, []);

  let count = "";
  if (searched !== "") {
    if (matches.length > 0) count = `${Math.min(current, matches.length - 1) + 1} of ${matches.length}${done ? "" : "+"}`;
    else count = done ? "No matches" : "Searching…";
  }

  const pages = pdf?.numPages ?? 0;
  return (
    <div className="flex min-h-0 flex-1 flex-col">
      <div className="flex flex-wrap items-center gap-x-4 gap-y-2 border-b border-white/10 bg-slate-900 px-4 py-2" role="toolbar" aria-label="PDF tools">
        <div className="flex items-center gap-1 text-sm text-slate-300">
          <label htmlFor="viewer-page" className="sr-only">
            Page
          </label>
          <span aria-hidden="true">Page</span>
          <input
            id="viewer-page"
            data-testid="viewer-page"
            inputMode="numeric"
            className="w-12 rounded-md border border-white/15 bg-slate-950 px-1.5 py-1 text-center text-sm text-white tabular-nums"
            value={pageDraft ?? String(page)}
            disabled={pdf === null}
            onChange={(event) => {
              setPageDraft(event.target.value);
            }}
            onFocus={(event) => {
              event.target.select();
            }}
            onBlur={() => {
              setPageDraft(null);
            }}
            onKeyDown={(event) => {
              if (event.key !== "Enter") return;
              const wanted = Number.parseInt(pageDraft ?? "", 10);
              if (Number.isFinite(wanted)) goTo(Math.min(pages, Math.max(1, wanted)));
              setPageDraft(null);
            }}
          />
          <span data-testid="viewer-page-count" className="tabular-nums">
            of {pages || "…"}
          </span>
        </div>

        <div className="flex items-center gap-1" aria-label="Zoom" role="group">
          <button type="button" className={tool} onClick={zoomOut} disabled={pdf === null || scale <= MIN_ZOOM} aria-label="Zoom out" title="Zoom out">
            −
          </button>
          <span className="w-12 text-center text-sm text-slate-300 tabular-nums" data-testid="viewer-zoom">
            {Math.round(scale * 100)}%
          </span>
          <button type="button" className={tool} onClick={zoomIn} disabled={pdf === null || scale >= MAX_ZOOM} aria-label="Zoom in" title="Zoom in">
            +
          </button>
          <button
            type="button"
            className={`${tool} ${zoom.fit ? "bg-white/15" : ""}`}
            aria-pressed={zoom.fit}
            onClick={() => {
              zoomTo({ fit: true });
            }}
          >
            Fit width
          </button>
        </div>

        <div className="ml-auto flex items-center gap-2">
          <div className="relative">
            <SearchIcon className="pointer-events-none absolute top-1/2 left-2 size-4 -translate-y-1/2 text-slate-400" />
            <input
              ref={searchBox}
              type="search"
              data-testid="viewer-search"
              aria-label={`Search in ${name}`}
              placeholder="Find in document"
              className="w-56 rounded-md border border-white/15 bg-slate-950 py-1 pr-2 pl-8 text-sm text-white placeholder:text-slate-500"
              value={query}
              disabled={pdf === null}
              onChange={(event) => {
                setQuery(event.target.value);
              }}
              onKeyDown={onSearchKey}
            />
          </div>
          <span className="min-w-20 text-sm text-slate-300 tabular-nums" data-testid="viewer-search-count" role="status" aria-live="polite">
            {count}
          </span>
          <button type="button" className={tool} onClick={() => { step(-1); }} disabled={matches.length === 0} aria-label="Previous match" title="Previous match (Shift+Enter)">
            ↑
          </button>
          <button type="button" className={tool} onClick={() => { step(1); }} disabled={matches.length === 0} aria-label="Next match" title="Next match (Enter)">
            ↓
          </button>
        </div>
      </div>

      <div className="flex min-h-0 flex-1">
        {pdf !== null && base !== null && (
          <PageThumbnails pdf={pdf} fallback={base} current={page} hitsPerPage={rangesByPage.counts} onPick={goTo} />
        )}
        <div ref={setScroller} className="min-w-0 flex-1 overflow-auto bg-slate-800" data-testid="viewer-pages">
          {error !== null && (
            <div className="mx-auto max-w-lg p-6">
              <Alert tone="danger">{error}</Alert>
            </div>
          )}
          {error === null && (pdf === null || base === null) && <p className="p-6 text-center text-sm text-slate-300">Opening {name}…</p>}
          {pdf !== null && base !== null && (
            <div className="flex w-max min-w-full flex-col items-center gap-4 px-6 py-6">
              {Array.from({ length: pdf.numPages }, (_, index) => (
                <PdfPage
                  key={index + 1}
                  pdf={pdf}
                  number={index + 1}
                  scale={scale}
                  fallback={base}
                  root={scroller}
                  ranges={rangesByPage.ranges.get(index + 1) ?? NO_RANGES}
                  focus={currentMatch?.page === index + 1 ? focus : ""}
                  onElement={onElement}
                />
              ))}
            </div>
          )}
        </div>
      </div>
    </div>
  );
}

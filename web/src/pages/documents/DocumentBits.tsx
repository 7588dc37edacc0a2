/** Small pieces of the documents pages: a tag's coloured chip, and where reading a document's text stands. */
import type { ReactNode } from "react";

import type { Extraction, Tag } from "../../api/documents";
import { Badge } from "../../components/Badge";
import { CloseIcon } from "../../components/icons";
import { methodLabel, textOn } from "./vocabulary";

/** A tag in its colour; with `onRemove`, a × that takes it off. */
export function TagChip({ tag, onRemove }: { tag: Pick<Tag, "name" | "color">; onRemove?: () => void }) {
  return (
    <span
      className="inline-flex max-w-full items-center gap-1 rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-black/10 ring-inset dark:ring-white/15"
      style={{ backgroundColor: tag.color, color: textOn(tag.color) }}
      data-testid="tag-chip"
    >
      <span className="truncate">{tag.name}</span>
      {onRemove !== undefined && (
        <button type="button" className="-mr-1 rounded-full p-0.5 hover:bg-black/15" aria-label={`Remove tag ${tag.name}`} onClick={onRemove}>
          <CloseIcon className="size-3" />
        </button>
      )}
    </span>
  );
}

/** A progress bar with its percent (text being read). */
function Progress({ value, label }: { value: number; label: string }) {
  return (
    <span className="inline-flex items-center gap-2">
      <progress className="h-1.5 w-20 accent-sky-600" max={100} value={value} aria-label={label} />
      <span className="text-xs text-slate-600 tabular-nums dark:text-slate-400">{value}%</span>
    </span>
  );
}

/** Where reading the text stands, compact (a table cell): waiting, a progress bar, read, or failed (the reason on hover). */
export function ExtractionCell({ extraction, title }: { extraction: Extraction | null; title: string }) {
  let content: ReactNode;
  if (extraction === null) content = <span className="text-slate-400">—</span>;
  else if (extraction.state === "pending") content = <Badge>Waiting</Badge>;
  else if (extraction.state === "running") content = <Progress value={extraction.progress} label={`Reading the text of ${title}`} />;
  else if (extraction.state === "done") content = <Badge tone="success">Read</Badge>;
  else content = <Badge tone="danger">Failed</Badge>;
  return (
    <span data-testid="extraction" data-state={extraction?.state ?? "none"} title={extraction?.state === "failed" ? (extraction.error ?? "") : undefined}>
      {content}
    </span>
  );
}

/** Where reading the text stands, in full (the document panel): what is happening, how far, and why it failed. */
export function ExtractionStatus({ extraction, action }: { extraction: Extraction | null; action?: ReactNode }) {
  let tone: "neutral" | "brand" | "success" | "danger" = "neutral";
  let text: string;
  if (extraction === null) text = "Nothing to read: the file has no content yet.";
  else if (extraction.state === "pending") text = "Waiting to read its text…";
  else if (extraction.state === "running") {
    tone = "brand";
    text = `Reading its text${extraction.method === "ocr" ? " (OCR)" : ""}…`;
  } else if (extraction.state === "done") {
    tone = "success";
    text = `Text read by ${methodLabel(extraction)}${extraction.pages > 0 ? `, ${extraction.pages} ${extraction.pages === 1 ? "page" : "pages"}` : ""}.`;
  } else {
    tone = "danger";
    text = "Reading its text failed.";
  }
  const frame = {
    neutral: "border-slate-200 bg-slate-50 dark:border-slate-800 dark:bg-slate-950",
    brand: "border-sky-200 bg-sky-50 dark:border-sky-900 dark:bg-sky-950/40",
    success: "border-emerald-200 bg-emerald-50 dark:border-emerald-900 dark:bg-emerald-950/40",
    danger: "border-rose-200 bg-rose-50 dark:border-rose-900 dark:bg-rose-950/40",
  }[tone];
  return (
    <div className={`rounded-lg border px-3 py-2 text-sm ${frame}`} data-testid="extraction-status" data-state={extraction?.state ?? "none"} role="status">
      <div className="flex items-center justify-between gap-3">
        <span className="text-slate-800 dark:text-slate-200">{text}</span>
        {action}
      </div>
      {extraction !== null && (extraction.state === "running" || extraction.state === "pending") && (
        <div className="mt-2 flex items-center gap-2">
          <progress className="h-1.5 w-full accent-sky-600" max={100} value={extraction.progress} aria-label="Reading progress" />
          <span className="text-xs text-slate-600 tabular-nums dark:text-slate-400">{extraction.progress}%</span>
        </div>
      )}
      {extraction?.state === "failed" && extraction.error && <p className="mt-1 text-xs text-rose-800 dark:text-rose-200">{extraction.error}</p>}
    </div>
  );
}

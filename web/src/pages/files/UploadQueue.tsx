/** The upload queue panel: per-file progress bars, speed, cancel and retry (or "Upload anyway" for a duplicate), and what to do about an error. */
import { buttonClass } from "../../components/Button";
import { formatBytes } from "./fileKinds";
import type { UploadItem } from "./uploadQueue";

export function UploadQueue({
  items,
  onCancel,
  onRetry,
  onClear,
  onUploadAnyway,
}: {
  items: UploadItem[];
  onCancel: (id: number) => void;
  onRetry: (id: number) => void;
  onClear: () => void;
  /** Keep a duplicate as a second copy (queues whose uploader detects duplicates). */
  onUploadAnyway?: (id: number) => void;
}) {
  if (items.length === 0) return null;
  const active = items.filter((item) => item.state === "queued" || item.state === "sending").length;
  return (
    <section aria-label="Uploads" className="mb-4 rounded-xl border border-slate-200 bg-white p-3 dark:border-slate-800 dark:bg-slate-900">
      <div className="mb-2 flex items-center justify-between text-sm">
        <h2 className="font-semibold text-slate-900 dark:text-white">{active > 0 ? `Uploading ${active} of ${items.length}` : "Uploads finished"}</h2>
        {active < items.length && (
          <button type="button" className="text-xs text-sky-700 hover:underline dark:text-sky-400" onClick={onClear}>
            Clear finished
          </button>
        )}
      </div>
      <ul className="max-h-64 space-y-2 overflow-y-auto">
        {items.map((item) => {
          const total = Math.max(item.file.size, 1);
          // A multipart form counts a few hundred bytes of headers on top of the file.
          const sent = Math.min(item.sent, item.file.size);
          const status = item.duplicate
            ? "Already there"
            : item.state === "failed"
              ? "Failed"
              : item.state === "done"
                ? "Done"
                : item.state === "cancelled"
                  ? "Cancelled"
                  : item.state === "queued"
                    ? "Waiting"
                    : `${formatBytes(sent)} of ${formatBytes(item.file.size)}${item.speed > 0 ? ` · ${formatBytes(item.speed)}/s` : ""}`;
          return (
            <li key={item.id} data-testid="upload" data-state={item.state} data-duplicate={item.duplicate ?? undefined} className="rounded-lg border border-slate-100 px-3 py-2 text-sm dark:border-slate-800">
              <div className="flex items-center justify-between gap-3">
                <span className="truncate font-medium">{item.file.name}</span>
                <span className="flex shrink-0 items-center gap-2 text-xs text-slate-500">
                  {status}
                  {(item.state === "queued" || item.state === "sending") && (
                    <button type="button" className={buttonClass.small} aria-label={`Cancel upload of ${item.file.name}`} onClick={() => { onCancel(item.id); }}>
                      Cancel
                    </button>
                  )}
                  {item.duplicate && onUploadAnyway !== undefined && (
                    <button type="button" className={buttonClass.small} aria-label={`Upload ${item.file.name} anyway`} onClick={() => { onUploadAnyway(item.id); }}>
                      Upload anyway
                    </button>
                  )}
                  {(item.state === "failed" || item.state === "cancelled") && !item.duplicate && (
                    <button type="button" className={buttonClass.small} aria-label={`Retry upload of ${item.file.name}`} onClick={() => { onRetry(item.id); }}>
                      Retry
                    </button>
                  )}
                </span>
              </div>
              {!item.duplicate && (
                <progress
                  className={`mt-1 h-1.5 w-full ${item.state === "failed" ? "accent-rose-600" : "accent-sky-600"}`}
                  max={total}
                  value={item.state === "done" ? total : sent}
                  aria-label={`Upload of ${item.file.name}`}
                />
              )}
              {item.error !== undefined && (
                <p className={`mt-1 text-xs ${item.duplicate ? "text-amber-800 dark:text-amber-200" : "text-rose-700 dark:text-rose-300"}`}>
                  {item.error} <span className="text-slate-600 dark:text-slate-400">{item.hint}</span>
                </p>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

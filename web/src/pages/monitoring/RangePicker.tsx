/** The 1 h / 24 h / 7 d / 30 d switch above the monitoring charts. */
import { RANGES, type Range } from "../../api/monitoring";

const LABELS: Record<Range, string> = { "1h": "1 hour", "24h": "24 hours", "7d": "7 days", "30d": "30 days" };

export function RangePicker({ range, onChange }: { range: Range; onChange: (range: Range) => void }) {
  return (
    <div role="group" aria-label="Range" className="inline-flex rounded-lg bg-slate-100 p-1 dark:bg-slate-900">
      {RANGES.map((item) => (
        <button
          key={item}
          type="button"
          aria-pressed={item === range}
          title={`Last ${LABELS[item]}`}
          onClick={() => {
            onChange(item);
          }}
          className={
            item === range
              ? "rounded-md bg-white px-3 py-1 text-sm font-medium text-slate-900 shadow-sm ring-1 ring-slate-200 dark:bg-slate-800 dark:text-white dark:ring-slate-700"
              : "rounded-md px-3 py-1 text-sm font-medium text-slate-600 hover:text-slate-900 dark:text-slate-400 dark:hover:text-white"
          }
        >
          {item}
        </button>
      ))}
    </div>
  );
}

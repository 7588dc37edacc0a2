/** "21–40 of 57" with Previous / Next, for offset-paged lists. */
import { buttonClass } from "./Button";

export function Pagination({
  offset,
  limit,
  total,
  shown,
  onChange,
}: {
  offset: number;
  limit: number;
  total: number;
  shown: number;
  onChange: (offset: number) => void;
}) {
  const first = total === 0 ? 0 : offset + 1;
  const last = offset + shown;
  return (
    <nav aria-label="Pages" className="flex flex-wrap items-center justify-between gap-3 border-t border-slate-200 px-4 py-3 text-sm dark:border-slate-800">
      <p className="text-slate-600 tabular-nums dark:text-slate-400">
        {total === 0 ? (
          "No results"
        ) : (
          <>
            <span className="font-medium text-slate-900 dark:text-white">
              {first}–{last}
            </span>{" "}
            of <span className="font-medium text-slate-900 dark:text-white">{total}</span>
          </>
        )}
      </p>
      <div className="flex gap-2">
        <button
          type="button"
          className={buttonClass.secondary}
          disabled={offset === 0}
          onClick={() => {
            onChange(Math.max(0, offset - limit));
          }}
        >
          Previous
        </button>
        <button
          type="button"
          className={buttonClass.secondary}
          disabled={last >= total}
          onClick={() => {
            onChange(offset + limit);
          }}
        >
          Next
        </button>
      </div>
    </nav>
  );
}

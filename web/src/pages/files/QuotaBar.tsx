/** The storage bar: used of total, with how much of it is trash and old versions. */
import { Link } from "react-router";

import { useQuota } from "../../api/filesQueries";
import { formatBytes } from "./fileKinds";

/** It loads again when `filesKeys.quota` (or all of `filesKeys.all`) is invalidated after a change. */
export function QuotaBar() {
  const { data } = useQuota();
  if (data === undefined) return <div className="h-16" />;
  const limit = data.quota_bytes ?? data.tenant_quota_bytes;
  const total = limit ?? Math.max(data.used_bytes, 1);
  const percent = (bytes: number): string => `${Math.min(100, (bytes / total) * 100).toFixed(2)}%`;
  const current = Math.max(0, data.used_bytes - data.trash_bytes - data.versions_bytes);
  const full = limit !== null && data.used_bytes / limit >= 0.9;
  return (
    <section aria-label="Storage" data-testid="quota" className="rounded-xl border border-slate-200 bg-white p-3 text-xs dark:border-slate-800 dark:bg-slate-900">
      <div className="flex justify-between text-sm">
        <span className="font-medium text-slate-900 dark:text-white">Storage</span>
        <span className={full ? "font-medium text-rose-700 dark:text-rose-300" : "text-slate-600 dark:text-slate-400"}>
          {formatBytes(data.used_bytes)} used{limit !== null ? ` of ${formatBytes(limit)}` : ""}
        </span>
      </div>
      <div
        className="mt-2 flex h-2 overflow-hidden rounded-full bg-slate-100 dark:bg-slate-800"
        role="meter"
        aria-label="Storage used"
        aria-valuemin={0}
        aria-valuemax={total}
        aria-valuenow={data.used_bytes}
      >
        <span className={full ? "bg-rose-500" : "bg-sky-600"} style={{ width: percent(current) }} />
        <span className="bg-amber-400" style={{ width: percent(data.versions_bytes) }} />
        <span className="bg-slate-400" style={{ width: percent(data.trash_bytes) }} />
      </div>
      <ul className="mt-2 flex flex-wrap gap-x-3 gap-y-1 text-slate-600 dark:text-slate-400">
        <li>
          <span className="mr-1 inline-block size-2 rounded-full bg-sky-600" />
          Files {formatBytes(current)}
        </li>
        <li>
          <span className="mr-1 inline-block size-2 rounded-full bg-amber-400" />
          Versions {formatBytes(data.versions_bytes)}
        </li>
        <li>
          <span className="mr-1 inline-block size-2 rounded-full bg-slate-400" />
          <Link to="/files?view=trash" className="hover:underline">
            Trash {formatBytes(data.trash_bytes)}
          </Link>
        </li>
      </ul>
      {limit === null && <p className="mt-1 text-slate-500">No quota applies to you.</p>}
      {full && <p className="mt-1 text-rose-700 dark:text-rose-300">Almost full: empty the trash or delete old versions to make room.</p>}
    </section>
  );
}

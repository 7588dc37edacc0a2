/** The list table of the admin pages: column headings, one row per item, skeleton rows while loading, and an empty-state line. */
import type { ReactNode } from "react";

import { Skeleton } from "./Card";

/** Classes of a body cell in the framed look (rows render their own <tr>/<td>). */
export const tdClass = "px-4 py-3 align-middle";

const thClass = {
  framed: "px-4 py-3 text-left text-xs font-semibold tracking-wide text-slate-500 uppercase dark:text-slate-400",
  plain: "pr-3 pb-2 text-left",
};

/** A column heading; `srOnly` for the actions column, whose heading only screen readers hear. */
export type Column = string | { header: string; srOnly: true };

export function DataTable<T>({
  columns,
  rows,
  loading = false,
  skeletonRows = 2,
  renderRow,
  empty,
  look = "framed",
  frame = true,
  testId,
}: {
  columns: readonly Column[];
  /** The items; undefined before the first load. */
  rows: readonly T[] | undefined;
  /** Shows skeleton rows while there are no rows yet. */
  loading?: boolean;
  skeletonRows?: number;
  /** One <tr> per item (it carries the row's data-testid). */
  renderRow: (row: T) => ReactNode;
  /** What an empty list says (nothing when omitted). */
  empty?: ReactNode;
  /** `framed`: the bordered admin table with a grey heading row; `plain`: a light table inside a Card. */
  look?: "framed" | "plain";
  /** For `framed`: draw the rounded border (off when the table sits in a panel that has one). */
  frame?: boolean;
  testId?: string;
}) {
  const framed = look === "framed";
  const table = (
    <table className={framed ? "min-w-full divide-y divide-slate-200 text-sm dark:divide-slate-800" : "w-full text-left text-sm"} data-testid={testId}>
      <thead className={framed ? "bg-slate-50 dark:bg-slate-900/60" : "text-xs text-slate-500 uppercase dark:text-slate-400"}>
        <tr>
          {columns.map((column) => {
            const header = typeof column === "string" ? column : column.header;
            return (
              <th key={header} scope="col" className={thClass[look]}>
                {typeof column === "string" ? header : <span className="sr-only">{header}</span>}
              </th>
            );
          })}
        </tr>
      </thead>
      <tbody className={framed ? "divide-y divide-slate-100 dark:divide-slate-800" : undefined}>
        {rows === undefined && loading
          ? Array.from({ length: skeletonRows }, (_, row) => (
              <tr key={row}>
                <td className={framed ? tdClass : "py-2"} colSpan={columns.length}>
                  <Skeleton className="h-8 w-full" />
                </td>
              </tr>
            ))
          : rows?.map(renderRow)}
        {rows?.length === 0 && empty !== undefined && (
          <tr>
            <td colSpan={columns.length} className={framed ? "px-4 py-12 text-center text-sm text-slate-500 dark:text-slate-400" : "py-6 text-center text-slate-500"}>
              {empty}
            </td>
          </tr>
        )}
      </tbody>
    </table>
  );
  if (!framed) return table;
  const scroller = <div className="overflow-x-auto">{table}</div>;
  return frame ? <div className="overflow-hidden rounded-xl border border-slate-200 bg-white shadow-sm dark:border-slate-800 dark:bg-slate-900">{scroller}</div> : scroller;
}

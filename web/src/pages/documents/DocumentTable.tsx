/** The documents list: title, type, correspondent, tags as coloured chips, dates and where reading the text stands; sortable columns. */
import type { ReactNode } from "react";

import type { Document, DocumentSort } from "../../api/documents";
import type { ViewColumn } from "../../api/documentViews";
import { describeTimestamp } from "../../lib/format";
import { ExtractionCell, TagChip } from "./DocumentBits";
import { DocumentPreview } from "./viewer/DocumentPreview";
import { DEFAULT_COLUMNS } from "./viewColumns";
import { sortColumn, type SortColumn } from "./vocabulary";

const th = "px-3 py-3 text-left text-xs font-semibold tracking-wide text-slate-500 uppercase dark:text-slate-400";
const td = "px-3 py-2 align-middle";

/** A calendar date ("2026-03-14") in the reader's words, or a dash. */
function formatDay(value: string | null): string {
  if (value === null) return "—";
  const date = new Date(`${value}T00:00:00`);
  return Number.isNaN(date.getTime()) ? value : date.toLocaleDateString(undefined, { dateStyle: "medium" });
}

function SortHeader({ label, column, sort, onSort }: { label: string; column: SortColumn; sort: DocumentSort; onSort: (sort: DocumentSort) => void }) {
  const current = sortColumn(sort);
  const active = current.column === column;
  // A first click sorts titles A–Z and dates newest first; the next click turns it round.
  const firstDescending = column !== "title";
  const nextDescending = active ? !current.descending : firstDescending;
  return (
    <th scope="col" className={th} aria-sort={active ? (current.descending ? "descending" : "ascending") : "none"}>
      <button
        type="button"
        className="inline-flex items-center gap-1 uppercase hover:text-slate-900 dark:hover:text-white"
        onClick={() => { onSort(nextDescending ? `-${column}` : column); }}
      >
        {label}
        <span aria-hidden="true">{active ? (current.descending ? "↓" : "↑") : ""}</span>
      </button>
    </th>
  );
}

export function DocumentTable({
  documents,
  sort,
  onSort,
  selected,
  onOpen,
  footer,
  columns = DEFAULT_COLUMNS,
  picked,
  onPick,
}: {
  documents: readonly Document[];
  sort: DocumentSort;
  onSort: (sort: DocumentSort) => void;
  selected: string | null;
  onOpen: (document: Document) => void;
  footer?: ReactNode;
  columns?: readonly ViewColumn[];
  /** The documents ticked for a bulk action (no checkboxes without `onPick`). */
  picked?: ReadonlySet<string>;
  /** Tick (`on`) or untick these documents. */
  onPick?: (documents: readonly Document[], on: boolean) => void;
}) {
  const shows = (column: ViewColumn): boolean => columns.includes(column);
  const pickable = onPick !== undefined && picked !== undefined;
  const pickedHere = pickable ? documents.filter((document) => picked.has(document.id)).length : 0;
  return (
    <div className="overflow-hidden rounded-xl border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
      <div className="overflow-x-auto">
        <table className="min-w-full divide-y divide-slate-200 text-sm dark:divide-slate-800" aria-label="Documents">
          <thead>
            <tr>
              {pickable && (
                <th scope="col" className="w-10 py-3 pr-1 pl-4">
                  <input
                    type="checkbox"
                    className="size-4 rounded border-slate-300 accent-sky-600"
                    aria-label="Select all on this page"
                    checked={pickedHere > 0 && pickedHere === documents.length}
                    ref={(box) => { if (box) box.indeterminate = pickedHere > 0 && pickedHere < documents.length; }}
                    onChange={(event) => { onPick(documents, event.target.checked); }}
                  />
                </th>
              )}
              <SortHeader label="Title" column="title" sort={sort} onSort={onSort} />
              {shows("type") && <th scope="col" className={`${th} hidden xl:table-cell`}>Type</th>}
              {shows("correspondent") && <th scope="col" className={`${th} hidden 2xl:table-cell`}>Correspondent</th>}
              {shows("tags") && <th scope="col" className={th}>Tags</th>}
              {shows("created") && <SortHeader label="Created" column="created" sort={sort} onSort={onSort} />}
              {shows("added") && <SortHeader label="Added" column="added" sort={sort} onSort={onSort} />}
              {shows("modified") && <SortHeader label="Modified" column="modified" sort={sort} onSort={onSort} />}
              {shows("text") && <th scope="col" className={th}>Text</th>}
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
            {documents.map((document) => {
              const isSelected = document.id === selected;
              const isPicked = picked?.has(document.id) ?? false;
              return (
                <tr
                  key={document.id}
                  data-testid="document-row"
                  data-id={document.id}
                  data-title={document.title}
                  aria-current={isSelected ? "true" : undefined}
                  data-picked={isPicked ? "true" : undefined}
                  className={`cursor-pointer ${isSelected ? "bg-sky-50 shadow-[inset_3px_0_0_0] shadow-sky-500 dark:bg-sky-950/40" : "hover:bg-slate-50 dark:hover:bg-slate-800/50"}`}
                  onClick={() => { onOpen(document); }}
                >
                  {pickable && (
                    <td className="w-10 py-2 pr-1 pl-4 align-middle" onClick={(event) => { event.stopPropagation(); }}>
                      <input
                        type="checkbox"
                        className="size-4 rounded border-slate-300 accent-sky-600"
                        aria-label={`Select ${document.title}`}
                        checked={isPicked}
                        onChange={(event) => { onPick([document], event.target.checked); }}
                      />
                    </td>
                  )}
                  <td className={`${td} max-w-80`}>
                    <div className="flex items-center gap-3">
                      <DocumentPreview document={document} size="row" />
                      <div className="min-w-0">
                        <button
                          type="button"
                          className="block max-w-full truncate text-left font-medium text-slate-900 hover:underline dark:text-white"
                          title={document.file_name}
                          onClick={(event) => {
                            event.stopPropagation();
                            onOpen(document);
                          }}
                        >
                          {document.title}
                        </button>
                        {/* On narrower screens the type (below xl) and the correspondent (below 2xl) sit under the title instead of in their columns. */}
                        {((shows("type") && document.type !== null) || (shows("correspondent") && document.correspondent !== null)) && (
                          <p className="truncate text-xs text-slate-500 2xl:hidden dark:text-slate-400">
                            {shows("type") && document.type !== null && <span className="xl:hidden">{document.type.name}</span>}
                            {shows("type") && shows("correspondent") && document.type !== null && document.correspondent !== null && <span className="xl:hidden"> · </span>}
                            {shows("correspondent") && document.correspondent !== null && <span>{document.correspondent.name}</span>}
                          </p>
                        )}
                      </div>
                    </div>
                  </td>
                  {shows("type") && (
                    <td className={`${td} hidden whitespace-nowrap text-slate-700 xl:table-cell dark:text-slate-300`}>{document.type?.name ?? <span className="text-slate-400">—</span>}</td>
                  )}
                  {shows("correspondent") && (
                    <td className={`${td} hidden whitespace-nowrap text-slate-700 2xl:table-cell dark:text-slate-300`}>
                      {document.correspondent?.name ?? <span className="text-slate-400">—</span>}
                    </td>
                  )}
                  {shows("tags") && (
                    <td className={`${td} min-w-32`}>
                      {document.tags.length === 0 ? (
                        <span className="text-slate-400">—</span>
                      ) : (
                        <span className="flex max-w-56 flex-wrap gap-1">
                          {document.tags.map((tag) => (
                            <TagChip key={tag.id} tag={tag} />
                          ))}
                        </span>
                      )}
                    </td>
                  )}
                  {shows("created") && <td className={`${td} whitespace-nowrap`}>{formatDay(document.created_on)}</td>}
                  {shows("added") && (
                    <td className={`${td} whitespace-nowrap`} title={describeTimestamp(document.added_at).title}>
                      {describeTimestamp(document.added_at).text}
                    </td>
                  )}
                  {shows("modified") && (
                    <td className={`${td} whitespace-nowrap`} title={describeTimestamp(document.modified_at).title}>
                      {describeTimestamp(document.modified_at).text}
                    </td>
                  )}
                  {shows("text") && (
                    <td className={`${td} whitespace-nowrap`}>
                      <ExtractionCell extraction={document.extraction} title={document.title} />
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {footer}
    </div>
  );
}

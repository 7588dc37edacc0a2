/** The files page's controls above the list: breadcrumbs (a drop target for moving), the sort picker and the layout toggle. */
import { Link } from "react-router";

import type { FolderListing } from "../../api/files";
import { Skeleton } from "../../components/Card";
import { ENTRY_DRAG_TYPE, type Sort } from "./fileKinds";
import type { Layout } from "./filesViews";

/** Where the folder is, each ancestor a link and a drop target: dropping entries there moves them into it. */
export function Breadcrumbs({ listing, onDropInto }: { listing: FolderListing | null; onDropInto: (ids: string[], folderId: string) => void }) {
  return (
    <nav aria-label="Breadcrumbs" className="mr-auto flex flex-wrap items-center gap-1 text-sm">
      {listing === null ? (
        <Skeleton className="h-5 w-48" />
      ) : (
        [...listing.path, listing.folder].map((entry, index, all) => (
          <span key={entry.id} className="flex items-center gap-1">
            {index > 0 && <span className="text-slate-400">/</span>}
            {index === all.length - 1 ? (
              <span aria-current="page" className="font-medium text-slate-900 dark:text-white">
                {entry.kind === "root" ? "My files" : entry.name}
              </span>
            ) : (
              <Link
                className="rounded px-1 text-sky-700 hover:underline dark:text-sky-400"
                to={entry.kind === "root" ? "/files" : `/files?folder=${encodeURIComponent(entry.id)}`}
                onDragOver={(event) => {
                  event.preventDefault();
                }}
                onDrop={(event) => {
                  const moved = event.dataTransfer.getData(ENTRY_DRAG_TYPE);
                  if (!moved) return;
                  event.preventDefault();
                  event.stopPropagation();
                  onDropInto(JSON.parse(moved) as string[], entry.id);
                }}
              >
                {entry.kind === "root" ? "My files" : entry.name}
              </Link>
            )}
          </span>
        ))
      )}
    </nav>
  );
}

export function SortPicker({ sort, onChange }: { sort: Sort; onChange: (sort: Sort) => void }) {
  return (
  <label className="inline-flex items-center gap-2 text-sm text-slate-600 dark:text-slate-400">
    Sort
    <select
      aria-label="Sort by"
      className="rounded-lg border border-slate-300 bg-white px-2 py-1.5 text-sm dark:border-slate-700 dark:bg-slate-900"
      value={`${sort.key}-${sort.descending ? "desc" : "asc"}`}
      onChange={(event) => {
        const [key, direction] = event.target.value.split("-");
        onChange({ key: key === "size" || key === "modified" ? key : "name", descending: direction === "desc" });
      }}
    >
      <option value="name-asc">Name A–Z</option>
      <option value="name-desc">Name Z–A</option>
      <option value="size-asc">Smallest first</option>
      <option value="size-desc">Largest first</option>
      <option value="modified-desc">Newest first</option>
      <option value="modified-asc">Oldest first</option>
    </select>
  </label>
  );
}

/** List, grid, or (in My files) gallery. */
export function LayoutToggle({ layout, inFiles, onChange }: { layout: Layout; inFiles: boolean; onChange: (layout: Layout) => void }) {
  return (
  <div role="group" aria-label="Layout" className="inline-flex overflow-hidden rounded-lg border border-slate-300 text-sm dark:border-slate-700">
    {(["list", "grid", "gallery"] as const)
      .filter((option) => option !== "gallery" || inFiles)
      .map((option) => (
        <button
          key={option}
          type="button"
          aria-pressed={layout === option}
          className={`px-3 py-1.5 capitalize ${layout === option ? "bg-sky-600 text-white" : "bg-white text-slate-700 hover:bg-slate-50 dark:bg-slate-900 dark:text-slate-200"}`}
          onClick={() => {
            onChange(option);
          }}
        >
          {option}
        </button>
      ))}
  </div>
  );
}

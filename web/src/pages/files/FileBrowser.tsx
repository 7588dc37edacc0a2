/** A list or grid of files and folders: sorting, multi-select (checkboxes, shift-click, select all), keyboard, drag and drop. */
import { useEffect, useState, type DragEvent, type KeyboardEvent, type MouseEvent } from "react";

import type { FileEntry } from "../../api/files";
import { describeLock, type FileLock } from "../../api/locks";
import { DocumentIcon, FolderIcon, LockIcon } from "../../components/icons";
import { describeTimestamp } from "../../lib/format";
import { contentDate, ENTRY_DRAG_TYPE, folderPath, formatBytes, hasThumbnail, type Sort, type SortKey } from "./fileKinds";
import { Thumbnail } from "./media";
import { RowMenu, type RowAction } from "./RowMenu";

const th = "px-3 py-3 text-left text-xs font-semibold tracking-wide text-slate-500 uppercase dark:text-slate-400";
const td = "px-3 py-2 align-middle";

function Location({ entry, onOpenLocation }: { entry: FileEntry; onOpenLocation: (folderId: string | null) => void }) {
  const [path, setPath] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    if (entry.parent_id !== null) {
      void folderPath(entry.parent_id).then((text) => {
        if (live) setPath(text);
      });
    }
    return () => {
      live = false;
    };
  }, [entry.parent_id]);
  return (
    <button
      type="button"
      className="max-w-64 truncate text-left text-xs text-sky-700 hover:underline dark:text-sky-400"
      title="Open the folder it is in"
      data-testid="location"
      onClick={(event) => {
        event.stopPropagation();
        onOpenLocation(entry.parent_id);
      }}
    >
      {path ?? "…"}
    </button>
  );
}

function SortHeader({ label, sortKey, sort, onSort }: { label: string; sortKey: SortKey; sort: Sort; onSort: (sort: Sort) => void }) {
  const active = sort.key === sortKey;
  return (
    <th className={th} aria-sort={active ? (sort.descending ? "descending" : "ascending") : "none"}>
      <button
        type="button"
        className="inline-flex items-center gap-1 uppercase hover:text-slate-900 dark:hover:text-white"
        onClick={() => {
          onSort({ key: sortKey, descending: active ? !sort.descending : false });
        }}
      >
        {label}
        <span aria-hidden="true">{active ? (sort.descending ? "↓" : "↑") : ""}</span>
      </button>
    </th>
  );
}

export interface BrowserProps {
  entries: FileEntry[];
  layout: "list" | "grid";
  sort: Sort;
  onSort: (sort: Sort) => void;
  selected: Set<string>;
  onSelect: (selected: Set<string>) => void;
  /** Show each entry's folder (search results, recents, favorites). */
  showLocation?: boolean;
  actionsFor: (entry: FileEntry) => RowAction[];
  onOpen: (entry: FileEntry) => void;
  onOpenLocation: (folderId: string | null) => void;
  onToggleFavorite: (entry: FileEntry) => void;
  onDelete: (entries: FileEntry[]) => void;
  onRename: (entry: FileEntry) => void;
  /** Files from the desktop dropped on a folder. */
  onDropFiles: (files: FileList, folder: FileEntry) => void;
  /** Entries of the page dropped on a folder (a move). */
  onDropEntries: (ids: string[], folder: FileEntry) => void;
  /** The WebDAV locks of the listed entries, by id (a lock icon, with who holds it until when). */
  locks?: Map<string, FileLock>;
}

export function FileBrowser(props: BrowserProps) {
  const { entries, layout, selected, onSelect } = props;
  const [anchor, setAnchor] = useState<number | null>(null);
  const [focus, setFocus] = useState(0);
  const [dropTarget, setDropTarget] = useState<string | null>(null);
  const focusIndex = Math.min(focus, entries.length - 1);

  const toggle = (index: number, event: { shiftKey: boolean }): void => {
    const entry = entries[index];
    if (entry === undefined) return;
    const next = new Set(selected);
    if (event.shiftKey && anchor !== null) {
      const [from, to] = anchor < index ? [anchor, index] : [index, anchor];
      for (const item of entries.slice(from, to + 1)) next.add(item.id);
    } else if (next.has(entry.id)) {
      next.delete(entry.id);
    } else {
      next.add(entry.id);
    }
    setAnchor(index);
    setFocus(index);
    onSelect(next);
  };

  const allSelected = entries.length > 0 && entries.every((entry) => selected.has(entry.id));
  const chosen = (): FileEntry[] => {
    const picked = entries.filter((entry) => selected.has(entry.id));
    if (picked.length > 0) return picked;
    const focused = entries[focusIndex];
    return focused === undefined ? [] : [focused];
  };

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>): void => {
    if ((event.target as HTMLElement).closest("input, [role=menu]") !== null && event.key !== "Delete") return;
    const focused = entries[focusIndex];
    if (event.key === "ArrowDown" || event.key === "ArrowRight") {
      event.preventDefault();
      setFocus(Math.min(entries.length - 1, focusIndex + 1));
    } else if (event.key === "ArrowUp" || event.key === "ArrowLeft") {
      event.preventDefault();
      setFocus(Math.max(0, focusIndex - 1));
    } else if (event.key === "Enter" && focused !== undefined) {
      event.preventDefault();
      props.onOpen(focused);
    } else if (event.key === " " && focused !== undefined) {
      event.preventDefault();
      toggle(focusIndex, event);
    } else if (event.key === "Delete") {
      const targets = chosen();
      if (targets.length > 0) {
        event.preventDefault();
        props.onDelete(targets);
      }
    } else if (event.key === "F2") {
      const targets = chosen();
      if (targets.length === 1 && targets[0] !== undefined) {
        event.preventDefault();
        props.onRename(targets[0]);
      }
    } else if (event.key === "a" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      onSelect(new Set(entries.map((entry) => entry.id)));
    } else if (event.key === "Escape") {
      onSelect(new Set());
    }
  };

  const dragProps = (entry: FileEntry, index: number) => ({
    draggable: true,
    onDragStart: (event: DragEvent) => {
      const ids = selected.has(entry.id) ? [...selected] : [entry.id];
      event.dataTransfer.setData(ENTRY_DRAG_TYPE, JSON.stringify(ids));
      event.dataTransfer.effectAllowed = "move";
    },
    onDragOver: (event: DragEvent) => {
      if (entry.kind === "file") return;
      event.preventDefault();
      event.stopPropagation();
      setDropTarget(entry.id);
    },
    onDragLeave: () => {
      setDropTarget((current) => (current === entry.id ? null : current));
    },
    onDrop: (event: DragEvent) => {
      if (entry.kind === "file") return;
      event.preventDefault();
      event.stopPropagation();
      setDropTarget(null);
      const moved = event.dataTransfer.getData(ENTRY_DRAG_TYPE);
      if (moved) {
        const ids = (JSON.parse(moved) as string[]).filter((id) => id !== entry.id);
        if (ids.length > 0) props.onDropEntries(ids, entry);
      } else if (event.dataTransfer.files.length > 0) {
        props.onDropFiles(event.dataTransfer.files, entry);
      }
    },
    onClick: (event: MouseEvent) => {
      setFocus(index);
      if (event.shiftKey || event.ctrlKey || event.metaKey) toggle(index, event);
    },
  });

  const nameLink = (entry: FileEntry) => (
    <button
      type="button"
      className="truncate text-left font-medium text-slate-900 hover:underline dark:text-white"
      onClick={(event) => {
        if (event.shiftKey || event.ctrlKey || event.metaKey) return;
        props.onOpen(entry);
      }}
    >
      {entry.name}
    </button>
  );

  const star = (entry: FileEntry) => (
    <button
      type="button"
      aria-pressed={entry.favorite}
      aria-label={entry.favorite ? `Unstar ${entry.name}` : `Star ${entry.name}`}
      className={`text-base leading-none ${entry.favorite ? "text-amber-500" : "text-slate-300 hover:text-amber-500 dark:text-slate-600"}`}
      onClick={(event) => {
        event.stopPropagation();
        props.onToggleFavorite(entry);
      }}
    >
      {entry.favorite ? "★" : "☆"}
    </button>
  );

  const checkbox = (entry: FileEntry, index: number) => (
    <input
      type="checkbox"
      className="size-4 accent-sky-600"
      aria-label={`Select ${entry.name}`}
      checked={selected.has(entry.id)}
      onClick={(event) => {
        event.stopPropagation();
        toggle(index, event);
      }}
      onChange={() => undefined}
    />
  );

  const lockMark = (entry: FileEntry) => {
    const lock = props.locks?.get(entry.id);
    if (lock === undefined) return null;
    const text = describeLock(lock);
    return (
      <span title={text} aria-label={text} role="img" data-testid="lock-mark" className="shrink-0 text-amber-600 dark:text-amber-400">
        <LockIcon className="size-4" />
      </span>
    );
  };

  const icon = (entry: FileEntry, size: string) =>
    entry.kind === "file" ? <DocumentIcon className={`${size} text-slate-400`} /> : <FolderIcon className={`${size} text-sky-600`} />;

  return (
    <div tabIndex={0} onKeyDown={onKeyDown} aria-label="Files" role="region" className="rounded-xl focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-500">
      {layout === "list" ? (
        <div className="overflow-x-auto rounded-xl border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
          <table className="min-w-full divide-y divide-slate-200 text-sm dark:divide-slate-800">
            <thead>
              <tr>
                <th className={`${th} w-8`}>
                  <input
                    type="checkbox"
                    className="size-4 accent-sky-600"
                    aria-label="Select all"
                    checked={allSelected}
                    onChange={() => {
                      onSelect(allSelected ? new Set() : new Set(entries.map((entry) => entry.id)));
                    }}
                  />
                </th>
                <SortHeader label="Name" sortKey="name" sort={props.sort} onSort={props.onSort} />
                {props.showLocation && <th className={th}>Folder</th>}
                <SortHeader label="Size" sortKey="size" sort={props.sort} onSort={props.onSort} />
                <SortHeader label="Modified" sortKey="modified" sort={props.sort} onSort={props.onSort} />
                <th className={th}>
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
              {entries.map((entry, index) => (
                <tr
                  key={entry.id}
                  data-testid="file-row"
                  data-id={entry.id}
                  data-name={entry.name}
                  data-kind={entry.kind}
                  data-selected={selected.has(entry.id) || undefined}
                  aria-selected={selected.has(entry.id)}
                  className={`${selected.has(entry.id) ? "bg-sky-50 dark:bg-sky-950/40" : ""} ${dropTarget === entry.id ? "outline-2 outline-sky-500" : ""} ${
                    index === focusIndex ? "shadow-[inset_3px_0_0_0] shadow-sky-500" : ""
                  }`}
                  {...dragProps(entry, index)}
                >
                  <td className={td}>{checkbox(entry, index)}</td>
                  <td className={td}>
                    <span className="flex items-center gap-2">
                      {hasThumbnail(entry) ? <Thumbnail entry={entry} className="size-6 rounded" /> : icon(entry, "size-4")}
                      {nameLink(entry)}
                      {lockMark(entry)}
                      {star(entry)}
                    </span>
                  </td>
                  {props.showLocation && (
                    <td className={td}>
                      <Location entry={entry} onOpenLocation={props.onOpenLocation} />
                    </td>
                  )}
                  <td className={`${td} whitespace-nowrap`}>{entry.kind === "file" ? formatBytes(entry.size) : "—"}</td>
                  <td className={`${td} whitespace-nowrap`} title={describeTimestamp(contentDate(entry)).title}>
                    {describeTimestamp(contentDate(entry)).text}
                  </td>
                  <td className={`${td} text-right`}>
                    <RowMenu name={entry.name} actions={props.actionsFor(entry)} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <>
          <div className="mb-2 flex items-center gap-2 text-sm text-slate-600 dark:text-slate-400">
            <label className="inline-flex items-center gap-2">
              <input
                type="checkbox"
                className="size-4 accent-sky-600"
                checked={allSelected}
                onChange={() => {
                  onSelect(allSelected ? new Set() : new Set(entries.map((entry) => entry.id)));
                }}
              />
              Select all
            </label>
          </div>
          <ul className="grid grid-cols-2 gap-3 sm:grid-cols-3 md:grid-cols-4 xl:grid-cols-6">
            {entries.map((entry, index) => (
              <li
                key={entry.id}
                data-testid="file-card"
                data-id={entry.id}
                data-name={entry.name}
                data-kind={entry.kind}
                data-selected={selected.has(entry.id) || undefined}
                className={`relative flex flex-col rounded-xl border bg-white dark:bg-slate-900 ${
                  selected.has(entry.id) ? "border-sky-500 ring-1 ring-sky-500" : "border-slate-200 dark:border-slate-800"
                } ${dropTarget === entry.id ? "ring-2 ring-sky-500" : ""} ${index === focusIndex ? "shadow-md" : ""}`}
                {...dragProps(entry, index)}
              >
                <div className="absolute top-2 left-2 z-10">{checkbox(entry, index)}</div>
                <div className="absolute top-1 right-1 z-10">
                  <RowMenu name={entry.name} actions={props.actionsFor(entry)} />
                </div>
                <button
                  type="button"
                  tabIndex={-1}
                  className="flex aspect-[4/3] items-center justify-center overflow-hidden rounded-t-xl bg-slate-50 dark:bg-slate-950"
                  onClick={(event) => {
                    if (!(event.shiftKey || event.ctrlKey || event.metaKey)) props.onOpen(entry);
                  }}
                  aria-label={`Open ${entry.name}`}
                >
                  {hasThumbnail(entry) ? <Thumbnail entry={entry} className="max-h-full max-w-full" /> : icon(entry, "size-12")}
                </button>
                <div className="flex items-center gap-1 px-2 py-1.5 text-sm">
                  <span className="min-w-0 flex-1 truncate">{nameLink(entry)}</span>
                  {lockMark(entry)}
                  {star(entry)}
                </div>
                <div className="px-2 pb-2 text-xs text-slate-500">
                  {entry.kind === "file" ? formatBytes(entry.size) : "Folder"} · {describeTimestamp(contentDate(entry)).text}
                  {props.showLocation && (
                    <div>
                      <Location entry={entry} onOpenLocation={props.onOpenLocation} />
                    </div>
                  )}
                </div>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

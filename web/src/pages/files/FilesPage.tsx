/**
 * /files: the file manager. My files (list, grid or gallery), recent, favorites, search and trash; uploads by
 * picker or drag and drop with a queue; rename, move, copy, star, delete; a details panel with versions.
 *
 * The URL holds where you are (`?folder=`, `?view=recent|favorites|trash|search`, `?q=`); the layout and the sort
 * are remembered in localStorage.
 */
import { useCallback, useMemo, useRef, useState } from "react";
import { useSearchParams } from "react-router";

import {
  contentUrl,
  createFolder,
  listFavorites,
  listFolder,
  listRecent,
  moveEntry,
  renameEntry,
  searchFiles,
  setFavorite,
  trashEntry,
  type FileEntry,
  type FolderListing,
} from "../../api/files";
import { toApiError } from "../../api/problem";
import { buttonClass } from "../../components/Button";
import { Skeleton } from "../../components/Card";
import { ConfirmDialog } from "../../components/Dialog";
import { Alert } from "../../components/Form";
import { PlusIcon } from "../../components/icons";
import { PageHeader } from "../../components/PageHeader";
import { useDocumentTitle } from "../../hooks/useDocumentTitle";
import { useResource } from "../../hooks/useResource";
import { DetailsPanel } from "./DetailsPanel";
import { FolderPickerDialog, NameDialog } from "./dialogs";
import { FileBrowser } from "./FileBrowser";
import { LinkDialog } from "./LinkDialog";
import { ShareDialog } from "./ShareDialog";
import { ENTRY_DRAG_TYPE, forgetLocations, mediaKind, sortEntries, type Sort } from "./fileKinds";
import { Gallery, MediaViewer } from "./media";
import { QuotaBar } from "./QuotaBar";
import type { RowAction } from "./RowMenu";
import { TrashView } from "./TrashView";
import { useUploads } from "./uploadQueue";
import { UploadQueue } from "./UploadQueue";
import { useRemembered } from "./useRemembered";
import { FilesEmpty } from "./FilesEmpty";
import { FilesNav } from "./FilesNav";
import { Breadcrumbs, LayoutToggle, SortPicker } from "./FilesToolbar";
import { SearchBox } from "./SearchBox";
import { LAYOUT_KEY, SORT_KEY, viewOf, views, type Layout } from "./filesViews";

interface Loaded {
  listing: FolderListing | null;
  items: FileEntry[];
}

export function FilesPage() {
  const [params, setParams] = useSearchParams();
  const view = viewOf(params.get("view"));
  const folderId = view === "files" ? params.get("folder") : null;
  const query = params.get("q") ?? "";
  useDocumentTitle(view === "files" ? "Files" : views.find((item) => item.view === view)?.label ?? "Search");

  const [layout, setLayout] = useRemembered<Layout>(LAYOUT_KEY, "list", (value) => value === "list" || value === "grid" || value === "gallery");
  const [sort, setSort] = useRemembered<Sort>(SORT_KEY, { key: "name", descending: false }, (value) => typeof value === "object" && value !== null && "key" in value);
  // The selection belongs to one place: going elsewhere starts with nothing selected.
  const place = `${view}|${folderId ?? ""}|${query}`;
  const [selection, setSelection] = useState<{ place: string; ids: Set<string> }>({ place, ids: new Set() });
  const selected = selection.place === place ? selection.ids : new Set<string>();
  const setSelected = useCallback((ids: Set<string>) => { setSelection({ place, ids }); }, [place]);
  const [details, setDetails] = useState<FileEntry | null>(null);
  const [creating, setCreating] = useState(false);
  const [renaming, setRenaming] = useState<FileEntry | null>(null);
  const [picking, setPicking] = useState<{ mode: "move" | "copy"; entries: FileEntry[] } | null>(null);
  const [deleting, setDeleting] = useState<FileEntry[] | null>(null);
  const [viewing, setViewing] = useState<{ entries: FileEntry[]; index: number } | null>(null);
  const [sharing, setSharing] = useState<FileEntry | null>(null);
  const [linking, setLinking] = useState<FileEntry | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [quotaRound, setQuotaRound] = useState(0);
  const [dragging, setDragging] = useState(false);
  const picker = useRef<HTMLInputElement>(null);

  const load = useCallback(
    async (signal: AbortSignal): Promise<Loaded> => {
      if (view === "files") {
        const listing = await listFolder(folderId, signal);
        return { listing, items: listing.items };
      }
      if (view === "recent") return { listing: null, items: (await listRecent(signal)).items };
      if (view === "favorites") return { listing: null, items: (await listFavorites(signal)).items };
      if (view === "search" && query) return { listing: null, items: (await searchFiles(query, signal)).items };
      return { listing: null, items: [] };
    },
    [view, folderId, query],
  );
  const { data, error, loading, reload } = useResource(load);
  const listing = data?.listing ?? null;
  // Recents keep the server's order (newest first) until a column is clicked.
  const [recentSortedAt, setRecentSortedAt] = useState<string | null>(null);
  const recentSorted = recentSortedAt === place;
  const setRecentSorted = (sorted: boolean): void => { setRecentSortedAt(sorted ? place : null); };
  const entries = useMemo(() => {
    const items = data?.items ?? [];
    return view === "recent" && !recentSorted ? items : sortEntries(items, sort);
  }, [data, sort, view, recentSorted]);

  const refresh = useCallback((): void => {
    forgetLocations();
    reload();
    setQuotaRound((round) => round + 1);
  }, [reload]);

  const uploads = useUploads(refresh);
  const currentFolder = listing?.folder.id ?? null;

  const go = (next: Record<string, string>): void => {
    setDetails(null);
    setParams(next);
  };
  const openFolder = (id: string | null): void => {
    go(id ? { folder: id } : {});
  };

  const open = (entry: FileEntry): void => {
    if (entry.kind !== "file") {
      openFolder(entry.id);
      return;
    }
    const kind = mediaKind(entry);
    if (kind === null) {
      window.location.assign(contentUrl(entry.id));
      return;
    }
    const same = entries.filter((item) => mediaKind(item) === kind);
    setViewing({ entries: same, index: same.findIndex((item) => item.id === entry.id) });
  };

  const run = async (work: () => Promise<unknown>): Promise<void> => {
    setActionError(null);
    try {
      await work();
    } catch (caught) {
      setActionError(toApiError(caught).message);
    }
    refresh();
  };

  const toggleFavorite = (targets: FileEntry[], favorite: boolean): void => {
    void run(async () => {
      for (const entry of targets) await setFavorite(entry.id, favorite);
    });
  };

  const download = (targets: FileEntry[]): void => {
    // No multi-file archive route: each file downloads on its own, a folder as its zip.
    targets.forEach((entry, index) => {
      window.setTimeout(() => {
        const link = document.createElement("a");
        link.href = contentUrl(entry.id);
        link.download = "";
        document.body.append(link);
        link.click();
        link.remove();
      }, index * 400);
    });
  };

  /** The row menu of one entry. */
  const actionsFor = (entry: FileEntry): RowAction[] => [
    { id: "open", label: entry.kind === "file" ? "Open" : "Open folder", onSelect: () => { open(entry); } },
    { id: "download", label: entry.kind === "file" ? "Download" : "Download as zip", onSelect: () => { download([entry]); } },
    { id: "details", label: entry.kind === "file" ? "Details and versions" : "Details", onSelect: () => { setDetails(entry); } },
    { id: "rename", label: "Rename", onSelect: () => { setRenaming(entry); } },
    { id: "move", label: "Move to…", onSelect: () => { setPicking({ mode: "move", entries: [entry] }); } },
    { id: "copy", label: "Copy to…", onSelect: () => { setPicking({ mode: "copy", entries: [entry] }); } },
    { id: "share", label: "Share…", onSelect: () => { setSharing(entry); } },
    { id: "link", label: "Get link…", onSelect: () => { setLinking(entry); } },
    { id: "favorite", label: entry.favorite ? "Remove from favorites" : "Add to favorites", onSelect: () => { toggleFavorite([entry], !entry.favorite); } },
    ...(view === "search" || view === "recent" || view === "favorites"
      ? [{ id: "location", label: "Open location", onSelect: () => { openFolder(entry.parent_id); } }]
      : []),
    { id: "delete", label: "Delete", danger: true, onSelect: () => { setDeleting([entry]); } },
  ];

  const picked = entries.filter((entry) => selected.has(entry.id));
  const inFiles = view === "files";

  const onPageDrop = (event: React.DragEvent): void => {
    event.preventDefault();
    setDragging(false);
    if (!inFiles || event.dataTransfer.types.includes(ENTRY_DRAG_TYPE)) return;
    if (event.dataTransfer.files.length > 0) uploads.add(event.dataTransfer.files, currentFolder);
  };

  const title = view === "search" ? `Search: ${query}` : view === "files" ? "Files" : (views.find((item) => item.view === view)?.label ?? "Files");

  const headerActions = (
    <>
      <SearchBox
        query={query}
        onSearch={useCallback(
          (q: string) => {
            setDetails(null);
            setParams(q ? { view: "search", q } : {});
          },
          [setParams],
        )}
      />
      {inFiles && (
        <>
          <button
            type="button"
            className={buttonClass.secondary}
            onClick={() => {
              setCreating(true);
            }}
          >
            <PlusIcon className="size-4" /> New folder
          </button>
          <button type="button" className={buttonClass.primary} onClick={() => picker.current?.click()}>
            Upload
          </button>
          <input
            ref={picker}
            type="file"
            multiple
            className="hidden"
            data-testid="upload-input"
            onChange={(event) => {
              if (event.target.files) uploads.add(event.target.files, currentFolder);
              event.target.value = "";
            }}
          />
        </>
      )}
    </>
  );

  const effectiveLayout = layout === "gallery" && !inFiles ? "list" : layout;

  const empty = <FilesEmpty view={view} query={query} onUpload={() => picker.current?.click()} />;

  return (
    <div>
      <PageHeader title={title} description={inFiles ? "Your files and folders." : undefined} actions={headerActions} />
      <div className="flex flex-col gap-6 lg:flex-row">
        <div className="flex w-full shrink-0 flex-col gap-4 lg:w-56">
          <FilesNav view={view} />
          <QuotaBar key={quotaRound} />
        </div>

        <div
          className="relative min-w-0 flex-1"
          data-testid="drop-zone"
          onDragOver={(event) => {
            event.preventDefault();
            if (inFiles && event.dataTransfer.types.includes("Files")) setDragging(true);
          }}
          onDragLeave={(event) => {
            if (!event.currentTarget.contains(event.relatedTarget as Node | null)) setDragging(false);
          }}
          onDrop={onPageDrop}
        >
          {dragging && (
            <div className="pointer-events-none absolute inset-0 z-30 flex items-center justify-center rounded-xl border-2 border-dashed border-sky-500 bg-sky-50/80 text-lg font-medium text-sky-800 dark:bg-sky-950/80 dark:text-sky-100">
              Drop to upload into {listing?.folder.kind === "file" || listing?.folder.kind === "root" || listing === null ? "My files" : listing.folder.name}
            </div>
          )}
          {view === "trash" ? (
            <TrashView onChanged={refresh} />
          ) : (
            <>
              <div className="mb-4 flex flex-wrap items-center gap-3">
                {inFiles ? (
                  <Breadcrumbs
                    listing={listing}
                    onDropInto={(ids, folder) => {
                      void run(async () => {
                        for (const id of ids) await moveEntry(id, folder);
                      });
                    }}
                  />
                ) : (
                  <p className="mr-auto text-sm text-slate-600 dark:text-slate-400">
                    {loading ? "Loading…" : `${entries.length} ${entries.length === 1 ? "item" : "items"}`}
                  </p>
                )}
                <SortPicker
                  sort={sort}
                  onChange={(next) => {
                    setRecentSorted(true);
                    setSort(next);
                  }}
                />
                <LayoutToggle layout={layout} inFiles={inFiles} onChange={setLayout} />
              </div>

              <UploadQueue items={uploads.items} onCancel={uploads.cancel} onRetry={uploads.retry} onClear={uploads.clearFinished} />

              {picked.length > 0 && (
                <div role="toolbar" aria-label="Selection" className="sticky top-0 z-20 mb-3 flex flex-wrap items-center gap-2 rounded-xl border border-sky-200 bg-sky-50 px-3 py-2 text-sm dark:border-sky-900 dark:bg-sky-950">
                  <span className="mr-2 font-medium" data-testid="selection-count">
                    {picked.length} selected
                  </span>
                  <button type="button" className={buttonClass.small} onClick={() => { download(picked); }}>
                    Download
                  </button>
                  <button type="button" className={buttonClass.small} onClick={() => { setPicking({ mode: "move", entries: picked }); }}>
                    Move
                  </button>
                  <button type="button" className={buttonClass.small} onClick={() => { setPicking({ mode: "copy", entries: picked }); }}>
                    Copy
                  </button>
                  <button type="button" className={buttonClass.small} onClick={() => { toggleFavorite(picked, !picked.every((entry) => entry.favorite)); }}>
                    {picked.every((entry) => entry.favorite) ? "Unstar" : "Star"}
                  </button>
                  <button type="button" className={buttonClass.smallDanger} onClick={() => { setDeleting(picked); }}>
                    Delete
                  </button>
                  <button type="button" className="ml-auto text-xs text-sky-700 hover:underline dark:text-sky-300" onClick={() => { setSelected(new Set()); }}>
                    Clear selection
                  </button>
                </div>
              )}

              {(error ?? actionError) && <Alert tone="danger">{actionError ?? error?.message}</Alert>}
              <div className="flex flex-col gap-4 xl:flex-row">
                <div className="min-w-0 flex-1">
                  {loading && data === undefined ? (
                    <Skeleton className="h-32 w-full" />
                  ) : entries.length === 0 ? (
                    empty
                  ) : effectiveLayout === "gallery" ? (
                    <Gallery entries={entries} />
                  ) : (
                    <FileBrowser
                      entries={entries}
                      layout={effectiveLayout}
                      sort={sort}
                      onSort={(next) => {
                        setRecentSorted(true);
                        setSort(next);
                      }}
                      selected={selected}
                      onSelect={setSelected}
                      showLocation={!inFiles}
                      actionsFor={actionsFor}
                      onOpen={open}
                      onOpenLocation={openFolder}
                      onToggleFavorite={(entry) => { toggleFavorite([entry], !entry.favorite); }}
                      onDelete={setDeleting}
                      onRename={setRenaming}
                      onDropFiles={(files, folder) => { uploads.add(files, folder.id); }}
                      onDropEntries={(ids, folder) => {
                        void run(async () => {
                          for (const id of ids) await moveEntry(id, folder.id);
                        });
                      }}
                    />
                  )}
                </div>
                {details !== null && (
                  <DetailsPanel
                    key={details.id}
                    entry={entries.find((entry) => entry.id === details.id) ?? details}
                    onClose={() => { setDetails(null); }}
                    onChanged={refresh}
                  />
                )}
              </div>
            </>
          )}
        </div>
      </div>

      {sharing !== null && (
        <ShareDialog
          entry={sharing}
          onClose={() => {
            setSharing(null);
          }}
        />
      )}
      {linking !== null && (
        <LinkDialog
          entry={linking}
          onClose={() => {
            setLinking(null);
          }}
        />
      )}
      {creating && (
        <NameDialog
          title="New folder"
          submitLabel="Create folder"
          initial=""
          onClose={() => { setCreating(false); }}
          onSubmit={async (name) => {
            await createFolder(currentFolder, name);
            setCreating(false);
            refresh();
          }}
        />
      )}
      {renaming !== null && (
        <NameDialog
          title={`Rename ${renaming.name}`}
          submitLabel="Rename"
          initial={renaming.name}
          onClose={() => { setRenaming(null); }}
          onSubmit={async (name) => {
            await renameEntry(renaming.id, name);
            setRenaming(null);
            refresh();
          }}
        />
      )}
      {picking !== null && (
        <FolderPickerDialog
          mode={picking.mode}
          entries={picking.entries}
          onChanged={() => {
            setSelected(new Set());
            refresh();
          }}
          onClose={() => { setPicking(null); }}
        />
      )}
      <ConfirmDialog
        open={deleting !== null}
        title={deleting?.length === 1 ? `Delete ${deleting[0]?.name ?? ""}?` : `Delete ${deleting?.length ?? 0} items?`}
        confirmLabel="Move to trash"
        onCancel={() => { setDeleting(null); }}
        onConfirm={() => {
          const targets = deleting ?? [];
          setDeleting(null);
          setSelected(new Set());
          void run(async () => {
            for (const entry of targets) await trashEntry(entry.id);
          });
        }}
      >
        {deleting?.length === 1 ? "It goes" : "They go"} to the trash, where you can restore {deleting?.length === 1 ? "it" : "them"}; the space is freed when you
        delete for good.
      </ConfirmDialog>
      {viewing !== null && (
        <MediaViewer entries={viewing.entries} index={viewing.index} onIndex={(index) => { setViewing({ ...viewing, index }); }} onClose={() => { setViewing(null); }} />
      )}
      {params.get("folder") !== null && data === undefined && error !== null && (
        <p className="mt-4 text-sm">
          <button type="button" className="text-sky-700 underline" onClick={() => { openFolder(null); }}>
            Go to my files
          </button>
        </p>
      )}
    </div>
  );
}

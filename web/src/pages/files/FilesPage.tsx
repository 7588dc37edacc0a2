/**
 * /files: the file manager. My files (list, grid or gallery), recent, favorites, search and trash; uploads by
 * picker or drag and drop with a queue; rename, move, copy, star, delete; a details panel with versions.
 *
 * The URL holds where you are (useFilesLocation); the layout and the sort are remembered in localStorage; the
 * listing comes from the query cache (useFolder); the selection and the open details belong to one place.
 */
import { useRef, useState } from "react";

import { contentUrl, FOLDER_PAGE, moveEntry, setFavorite, trashEntry, type FileEntry } from "../../api/files";
import { useFolderLocks } from "../../api/locks";
import { buttonClass } from "../../components/Button";
import { Skeleton } from "../../components/Card";
import { Alert } from "../../components/Form";
import { PlusIcon } from "../../components/icons";
import { PageHeader } from "../../components/PageHeader";
import { Pagination } from "../../components/Pagination";
import { useDocumentTitle } from "../../hooks/useDocumentTitle";
import { useTask } from "../../lib/useAction";
import { DetailsPanel } from "./DetailsPanel";
import { DropZone } from "./DropZone";
import { download, rowActions, type RowHandlers } from "./fileActions";
import { FileBrowser } from "./FileBrowser";
import { FileDialogs, type FileDialog } from "./FileDialogs";
import { mediaKind } from "./fileKinds";
import { FilesEmpty } from "./FilesEmpty";
import { FilesNav } from "./FilesNav";
import { Breadcrumbs, LayoutToggle, SortPicker } from "./FilesToolbar";
import { LAYOUT_KEY, type Layout } from "./filesViews";
import { Gallery } from "./media";
import { QuotaBar } from "./QuotaBar";
import { SearchBox } from "./SearchBox";
import { SelectionToolbar } from "./SelectionToolbar";
import { TrashView } from "./TrashView";
import { useUploads } from "./uploadQueue";
import { UploadQueue } from "./UploadQueue";
import { useFilesLocation } from "./useFilesLocation";
import { useFilesRefresh, useFolder } from "./useFolder";
import { usePlaceState } from "./usePlaceState";
import { useRemembered } from "./useRemembered";
import { useWantedFile } from "./useWantedFile";

export function FilesPage() {
  const location = useFilesLocation();
  const { view, query, place, openFolder } = location;
  const inFiles = view === "files";
  useDocumentTitle(inFiles ? "Files" : view === "search" ? "Search" : location.title);

  const [layout, setLayout] = useRemembered<Layout>(LAYOUT_KEY, "list", (value) => value === "list" || value === "grid" || value === "gallery");
  const folder = useFolder(location);
  const { listing, entries, sort, setSort } = folder;
  const [selected, setSelected] = usePlaceState<Set<string>>(place, new Set());
  const [details, setDetails] = usePlaceState<FileEntry | null>(place, null);
  const [dialog, setDialog] = useState<FileDialog | null>(null);
  const picker = useRef<HTMLInputElement>(null);
  const refresh = useFilesRefresh();
  const uploads = useUploads(refresh);
  const currentFolder = listing?.folder.id ?? null;
  const folderLocks = useFolderLocks(currentFolder, inFiles && currentFolder !== null);

  // `?file=` (the top bar's search opens a file in its folder): selected, its details shown, on any page of the folder.
  useWantedFile(folder, (wanted) => {
    setSelected(new Set([wanted.id]));
    setDetails(wanted);
  });

  // Changes made in place (star, move by drag, trash): the error stays on the page, and the list refreshes either way.
  const task = useTask();
  const act = (work: () => Promise<void>): void => {
    void task.run(work).then(refresh);
  };
  const toggleFavorite = (targets: FileEntry[], favorite: boolean): void => {
    act(async () => {
      for (const entry of targets) await setFavorite(entry.id, favorite);
    });
  };
  const moveInto = (ids: string[], folderId: string | null): void => {
    act(async () => {
      for (const id of ids) await moveEntry(id, folderId);
    });
  };
  const trash = (targets: FileEntry[]): void => {
    setSelected(new Set());
    act(async () => {
      for (const entry of targets) await trashEntry(entry.id);
    });
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
    setDialog({ kind: "view", entries: same, index: same.findIndex((item) => item.id === entry.id) });
  };

  const handlers: RowHandlers = {
    open,
    details: setDetails,
    rename: (entry) => { setDialog({ kind: "rename", entry }); },
    pick: (mode, targets) => { setDialog({ kind: "pick", mode, entries: targets }); },
    share: (entry) => { setDialog({ kind: "share", entry }); },
    link: (entry) => { setDialog({ kind: "link", entry }); },
    favorite: toggleFavorite,
    openFolder,
    remove: (targets) => { setDialog({ kind: "delete", entries: targets }); },
  };

  const picked = entries.filter((entry) => selected.has(entry.id));
  const effectiveLayout = layout === "gallery" && !inFiles ? "list" : layout;
  const error = task.error?.message ?? folder.error?.message ?? null;
  const folderName = listing?.folder.kind === "file" || listing?.folder.kind === "root" || listing === null ? "My files" : listing.folder.name;

  const headerActions = (
    <>
      <SearchBox query={query} onSearch={location.search} />
      {inFiles && (
        <>
          <button type="button" className={buttonClass.secondary} onClick={() => { setDialog({ kind: "create" }); }}>
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

  const list =
    folder.loading && !folder.loaded ? (
      <Skeleton className="h-32 w-full" />
    ) : entries.length === 0 ? (
      <FilesEmpty view={view} query={query} onUpload={() => picker.current?.click()} />
    ) : effectiveLayout === "gallery" ? (
      <Gallery entries={entries} />
    ) : (
      <FileBrowser
        entries={entries}
        layout={effectiveLayout}
        sort={sort}
        onSort={setSort}
        selected={selected}
        onSelect={setSelected}
        showLocation={!inFiles}
        actionsFor={(entry) => rowActions(entry, view, handlers)}
        onOpen={open}
        onOpenLocation={openFolder}
        onToggleFavorite={(entry) => { toggleFavorite([entry], !entry.favorite); }}
        onDelete={handlers.remove}
        onRename={handlers.rename}
        onDropFiles={(files, target) => { uploads.add(files, target.id); }}
        onDropEntries={(ids, target) => { moveInto(ids, target.id); }}
        locks={inFiles ? folderLocks.data : undefined}
      />
    );

  return (
    <div>
      <PageHeader title={location.title} description={inFiles ? "Your files and folders." : undefined} actions={headerActions} />
      <div className="flex flex-col gap-6 lg:flex-row">
        <div className="flex w-full shrink-0 flex-col gap-4 lg:w-56">
          <FilesNav view={view} />
          <QuotaBar />
        </div>

        <DropZone enabled={inFiles} folderName={folderName} onFiles={(files) => { uploads.add(files, currentFolder); }}>
          {view === "trash" ? (
            <TrashView onChanged={refresh} />
          ) : (
            <>
              <div className="mb-4 flex flex-wrap items-center gap-3">
                {inFiles ? (
                  <Breadcrumbs listing={listing} onDropInto={moveInto} />
                ) : (
                  <p className="mr-auto text-sm text-slate-600 dark:text-slate-400">
                    {folder.loading ? "Loading…" : `${entries.length} ${entries.length === 1 ? "item" : "items"}`}
                  </p>
                )}
                <SortPicker sort={sort} onChange={setSort} />
                <LayoutToggle layout={layout} inFiles={inFiles} onChange={setLayout} />
              </div>

              <UploadQueue items={uploads.items} onCancel={uploads.cancel} onRetry={uploads.retry} onClear={uploads.clearFinished} />
              <SelectionToolbar
                picked={picked}
                onDownload={() => { download(picked); }}
                onPick={(mode) => { handlers.pick(mode, picked); }}
                onFavorite={(favorite) => { toggleFavorite(picked, favorite); }}
                onDelete={() => { handlers.remove(picked); }}
                onClear={() => { setSelected(new Set()); }}
              />

              {error !== null && <Alert tone="danger">{error}</Alert>}
              <div className="flex flex-col gap-4 xl:flex-row">
                <div className="min-w-0 flex-1">
                  {list}
                  {inFiles && listing !== null && listing.total > FOLDER_PAGE && (
                    <Pagination offset={folder.offset} limit={FOLDER_PAGE} total={listing.total} shown={entries.length} onChange={folder.setOffset} />
                  )}
                </div>
                {details !== null && (
                  // Beside a long list, the details stay in view while it scrolls (to a file far down, say).
                  <div className="xl:sticky xl:top-20 xl:self-start">
                    <DetailsPanel
                      key={details.id}
                      entry={entries.find((entry) => entry.id === details.id) ?? details}
                      onClose={() => { setDetails(null); }}
                      onChanged={refresh}
                    />
                  </div>
                )}
              </div>
            </>
          )}
        </DropZone>
      </div>

      <FileDialogs
        dialog={dialog}
        folderId={currentFolder}
        onOpen={setDialog}
        onClose={() => { setDialog(null); }}
        onChanged={refresh}
        onMoved={() => {
          setSelected(new Set());
          refresh();
        }}
        onTrash={trash}
      />
      {location.namesFolder && !folder.loaded && folder.error !== null && (
        <p className="mt-4 text-sm">
          <button type="button" className="text-sky-700 underline" onClick={() => { openFolder(null); }}>
            Go to my files
          </button>
        </p>
      )}
    </div>
  );
}

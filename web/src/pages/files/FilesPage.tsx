/** /files: the signed-in user's files. Breadcrumbs, a folder's list, uploads with progress, new folder, rename, trash. */
import { useCallback, useRef, useState, type SubmitEvent } from "react";
import { Link, useSearchParams } from "react-router";

import { contentUrl, createFolder, getQuota, listFolder, listTrash, purgeEntry, renameEntry, restoreEntry, trashEntry, uploadFile, type FileEntry } from "../../api/files";
import { toApiError, type ApiError } from "../../api/problem";
import { buttonClass } from "../../components/Button";
import { Skeleton } from "../../components/Card";
import { ConfirmDialog, Dialog } from "../../components/Dialog";
import { EmptyState } from "../../components/EmptyState";
import { Alert, Field, inputClass } from "../../components/Form";
import { DocumentIcon, DownloadIcon, FolderIcon, PlusIcon } from "../../components/icons";
import { PageHeader } from "../../components/PageHeader";
import { useDocumentTitle } from "../../hooks/useDocumentTitle";
import { useResource } from "../../hooks/useResource";
import { describeTimestamp } from "../../lib/format";
import { LinkDialog } from "./LinkDialog";
import { ShareDialog } from "./ShareDialog";

const th = "px-4 py-3 text-left text-xs font-semibold tracking-wide text-slate-500 uppercase dark:text-slate-400";
const td = "px-4 py-3 align-middle";

/** 1536 → "1.5 KB" (decimal units, as disks and quotas are sold). */
function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["KB", "MB", "GB", "TB", "PB"];
  let value = bytes;
  let unit = -1;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** The name the server suggests when a name is taken (a 409 `name-taken` problem), if any. */
function suggestedName(error: ApiError): string | null {
  return error.problem?.errors?.find((entry) => entry.type === "suggested_name")?.msg ?? null;
}

interface Upload {
  id: number;
  name: string;
  size: number;
  sent: number;
  state: "sending" | "done" | "failed";
  error?: string;
}

function NameDialog({
  open,
  title,
  submitLabel,
  initial,
  onSubmit,
  onClose,
}: {
  open: boolean;
  title: string;
  submitLabel: string;
  initial: string;
  onSubmit: (name: string) => Promise<void>;
  onClose: () => void;
}) {
  const [name, setName] = useState(initial);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  const submit = async (event: SubmitEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await onSubmit(name);
    } catch (caught) {
      setError(toApiError(caught));
    } finally {
      setBusy(false);
    }
  };

  const suggestion = error === null ? null : suggestedName(error);
  return (
    <Dialog open={open} title={title} onClose={onClose} size="sm">
      <form
        className="space-y-4"
        onSubmit={(event) => {
          void submit(event);
        }}
      >
        {error !== null && (
          <Alert tone="danger">
            {error.message}
            {suggestion !== null && (
              <button
                type="button"
                className="ml-2 underline"
                onClick={() => {
                  setName(suggestion);
                }}
              >
                Use “{suggestion}”
              </button>
            )}
          </Alert>
        )}
        <Field label="Name">
          {(control) => (
            <input
              {...control}
              className={inputClass}
              name="entry-name"
              autoComplete="off"
              required
              autoFocus
              value={name}
              onChange={(event) => {
                setName(event.target.value);
              }}
            />
          )}
        </Field>
        <div className="flex justify-end gap-3 pt-2">
          <button type="button" className={buttonClass.secondary} onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className={buttonClass.primary} disabled={busy}>
            {busy ? "Saving…" : submitLabel}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** The storage used; remounted (a new `key`) after each change so it loads again. */
function QuotaLine() {
  const load = useCallback((signal: AbortSignal) => getQuota(signal), []);
  const { data } = useResource(load);
  if (data === undefined) return null;
  const limit = data.quota_bytes;
  const share = limit ? Math.min(100, Math.round((data.used_bytes / limit) * 100)) : null;
  return (
    <div className="mb-4 text-sm text-slate-600 dark:text-slate-400" data-testid="quota">
      {formatBytes(data.used_bytes)} used{limit ? ` of ${formatBytes(limit)} (${share}%)` : ""} · versions and trash count
      {share !== null && (
        <progress className="ml-3 h-1.5 w-40 align-middle accent-sky-600" max={100} value={share} aria-label="Storage used" />
      )}
    </div>
  );
}

function TrashView() {
  const load = useCallback((signal: AbortSignal) => listTrash(signal), []);
  const { data, error, loading, reload } = useResource(load);
  const [actionError, setActionError] = useState<string | null>(null);
  const [purging, setPurging] = useState<FileEntry | null>(null);

  const restore = async (entry: FileEntry): Promise<void> => {
    setActionError(null);
    try {
      await restoreEntry(entry.id);
    } catch (caught) {
      const problem = toApiError(caught);
      const suggestion = suggestedName(problem);
      if (suggestion === null) {
        setActionError(problem.message);
        return;
      }
      await restoreEntry(entry.id, suggestion);
    }
    reload();
  };

  return (
    <div>
      {(error ?? actionError) && <Alert tone="danger">{actionError ?? error?.message}</Alert>}
      {loading && data === undefined ? (
        <Skeleton className="h-24 w-full" />
      ) : data?.items.length ? (
        <div className="overflow-x-auto rounded-xl border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
          <table className="min-w-full divide-y divide-slate-200 text-sm dark:divide-slate-800">
            <thead>
              <tr>
                <th className={th}>Name</th>
                <th className={th}>Size</th>
                <th className={th}>Deleted</th>
                <th className={th}>
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
              {data.items.map((entry) => (
                <tr key={entry.id} data-testid="trash-row" data-name={entry.name}>
                  <td className={`${td} font-medium text-slate-900 dark:text-white`}>{entry.name}</td>
                  <td className={td}>{entry.kind === "file" ? formatBytes(entry.size) : "—"}</td>
                  <td className={td}>{describeTimestamp(entry.trashed_at).text}</td>
                  <td className={`${td} text-right whitespace-nowrap`}>
                    <button type="button" className={buttonClass.small} onClick={() => void restore(entry)} aria-label={`Restore ${entry.name}`}>
                      Restore
                    </button>{" "}
                    <button
                      type="button"
                      className={buttonClass.smallDanger}
                      onClick={() => {
                        setPurging(entry);
                      }}
                      aria-label={`Delete ${entry.name} for good`}
                    >
                      Delete for good
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <EmptyState icon={FolderIcon} title="The trash is empty">
          What you delete waits here until you restore it or delete it for good.
        </EmptyState>
      )}
      <ConfirmDialog
        open={purging !== null}
        title={`Delete ${purging?.name ?? ""} for good?`}
        confirmLabel="Delete for good"
        onCancel={() => {
          setPurging(null);
        }}
        onConfirm={() => {
          if (purging === null) return;
          void purgeEntry(purging.id).then(
            () => {
              setPurging(null);
              reload();
            },
            (caught: unknown) => {
              setPurging(null);
              setActionError(toApiError(caught).message);
            },
          );
        }}
      >
        It and everything in it, with all its versions, is removed and its space is freed. This cannot be undone.
      </ConfirmDialog>
    </div>
  );
}

export function FilesPage() {
  useDocumentTitle("Files");
  const [params, setParams] = useSearchParams();
  const folderId = params.get("folder");
  const inTrash = params.get("view") === "trash";
  const load = useCallback((signal: AbortSignal) => listFolder(folderId, signal), [folderId]);
  const { data, error, loading, reload } = useResource(load);
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [creating, setCreating] = useState(false);
  const [renaming, setRenaming] = useState<FileEntry | null>(null);
  const [deleting, setDeleting] = useState<FileEntry | null>(null);
  const [sharing, setSharing] = useState<FileEntry | null>(null);
  const [linking, setLinking] = useState<FileEntry | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [quotaRound, setQuotaRound] = useState(0);
  const picker = useRef<HTMLInputElement>(null);
  const nextUpload = useRef(1);

  const refresh = (): void => {
    reload();
    setQuotaRound((round) => round + 1);
  };

  const startUploads = (files: FileList): void => {
    const target = data?.folder.id ?? null;
    for (const file of Array.from(files)) {
      const id = nextUpload.current++;
      setUploads((current) => [...current, { id, name: file.name, size: file.size, sent: 0, state: "sending" }]);
      const update = (change: Partial<Upload>): void => {
        setUploads((current) => current.map((upload) => (upload.id === id ? { ...upload, ...change } : upload)));
      };
      uploadFile(file, target, (sent) => {
        update({ sent });
      }).then(
        () => {
          update({ state: "done", sent: file.size });
          refresh();
        },
        (caught: unknown) => {
          update({ state: "failed", error: toApiError(caught).message });
        },
      );
    }
  };

  const folderLink = (id: string | null): string => (id ? `/files?folder=${encodeURIComponent(id)}` : "/files");

  const actions = (
    <>
      <Link className={buttonClass.secondary} to="/files/shared">
        Shared with me
      </Link>
      <Link className={buttonClass.secondary} to={inTrash ? "/files" : "/files?view=trash"}>
        {inTrash ? "Back to files" : "Trash"}
      </Link>
      {!inTrash && (
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
              if (event.target.files) startUploads(event.target.files);
              event.target.value = "";
            }}
          />
        </>
      )}
    </>
  );

  return (
    <div>
      <PageHeader title={inTrash ? "Trash" : "Files"} description={inTrash ? undefined : "Your files and folders."} actions={actions} />
      {inTrash ? (
        <TrashView />
      ) : (
        <div
          data-testid="drop-zone"
          onDragOver={(event) => {
            event.preventDefault();
          }}
          onDrop={(event) => {
            event.preventDefault();
            if (event.dataTransfer.files.length > 0) startUploads(event.dataTransfer.files);
          }}
        >
          <QuotaLine key={quotaRound} />
          <nav aria-label="Breadcrumbs" className="mb-4 flex flex-wrap items-center gap-1 text-sm">
            {data === undefined ? (
              <Skeleton className="h-5 w-48" />
            ) : (
              [...data.path, data.folder].map((entry, index, all) => (
                <span key={entry.id} className="flex items-center gap-1">
                  {index > 0 && <span className="text-slate-400">/</span>}
                  {index === all.length - 1 ? (
                    <span aria-current="page" className="font-medium text-slate-900 dark:text-white">
                      {entry.kind === "root" ? "My files" : entry.name}
                    </span>
                  ) : (
                    <Link className="text-sky-700 hover:underline dark:text-sky-400" to={folderLink(entry.kind === "root" ? null : entry.id)}>
                      {entry.kind === "root" ? "My files" : entry.name}
                    </Link>
                  )}
                </span>
              ))
            )}
          </nav>
          {uploads.length > 0 && (
            <ul aria-label="Uploads" className="mb-4 space-y-2">
              {uploads.map((upload) => (
                <li key={upload.id} data-testid="upload" data-state={upload.state} className="rounded-lg border border-slate-200 px-3 py-2 text-sm dark:border-slate-800">
                  <div className="flex justify-between gap-3">
                    <span className="truncate">{upload.name}</span>
                    <span className="text-slate-500">
                      {upload.state === "failed" ? "Failed" : upload.state === "done" ? "Done" : `${formatBytes(upload.sent)} of ${formatBytes(upload.size)}`}
                    </span>
                  </div>
                  <progress className="mt-1 h-1.5 w-full accent-sky-600" max={Math.max(upload.size, 1)} value={upload.state === "done" ? Math.max(upload.size, 1) : upload.sent} aria-label={`Upload of ${upload.name}`} />
                  {upload.error !== undefined && <p className="mt-1 text-xs text-rose-700 dark:text-rose-300">{upload.error}</p>}
                </li>
              ))}
            </ul>
          )}
          {(error ?? actionError) && <Alert tone="danger">{actionError ?? error?.message}</Alert>}
          {loading && data === undefined ? (
            <Skeleton className="h-32 w-full" />
          ) : data?.items.length ? (
            <div className="overflow-x-auto rounded-xl border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
              <table className="min-w-full divide-y divide-slate-200 text-sm dark:divide-slate-800">
                <thead>
                  <tr>
                    <th className={th}>Name</th>
                    <th className={th}>Size</th>
                    <th className={th}>Modified</th>
                    <th className={th}>
                      <span className="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
                  {data.items.map((entry) => (
                    <tr key={entry.id} data-testid="file-row" data-name={entry.name} data-kind={entry.kind}>
                      <td className={td}>
                        <span className="flex items-center gap-2">
                          {entry.kind === "file" ? <DocumentIcon className="size-4 text-slate-400" /> : <FolderIcon className="size-4 text-sky-600" />}
                          {entry.kind === "file" ? (
                            <a className="font-medium text-slate-900 hover:underline dark:text-white" href={contentUrl(entry.id)}>
                              {entry.name}
                            </a>
                          ) : (
                            <Link className="font-medium text-slate-900 hover:underline dark:text-white" to={folderLink(entry.id)}>
                              {entry.name}
                            </Link>
                          )}
                        </span>
                      </td>
                      <td className={td}>{entry.kind === "file" ? formatBytes(entry.size) : "—"}</td>
                      <td className={td}>{describeTimestamp(entry.updated_at).text}</td>
                      <td className={`${td} text-right whitespace-nowrap`}>
                        <a className={buttonClass.small} href={contentUrl(entry.id)} aria-label={`Download ${entry.name}`}>
                          <DownloadIcon className="size-3.5" />
                        </a>{" "}
                        <button
                          type="button"
                          className={buttonClass.small}
                          aria-label={`Share ${entry.name}`}
                          onClick={() => {
                            setSharing(entry);
                          }}
                        >
                          Share…
                        </button>{" "}
                        <button
                          type="button"
                          className={buttonClass.small}
                          aria-label={`Get link to ${entry.name}`}
                          onClick={() => {
                            setLinking(entry);
                          }}
                        >
                          Get link…
                        </button>{" "}
                        <button
                          type="button"
                          className={buttonClass.small}
                          aria-label={`Rename ${entry.name}`}
                          onClick={() => {
                            setRenaming(entry);
                          }}
                        >
                          Rename
                        </button>{" "}
                        <button
                          type="button"
                          className={buttonClass.smallDanger}
                          aria-label={`Delete ${entry.name}`}
                          onClick={() => {
                            setDeleting(entry);
                          }}
                        >
                          Delete
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : (
            <EmptyState icon={FolderIcon} title="This folder is empty">
              Upload files with the button above or drop them here.
            </EmptyState>
          )}
        </div>
      )}
      {creating && (
        <NameDialog
          open
          title="New folder"
          submitLabel="Create folder"
          initial=""
          onClose={() => {
            setCreating(false);
          }}
          onSubmit={async (name) => {
            await createFolder(data?.folder.id ?? null, name);
            setCreating(false);
            refresh();
          }}
        />
      )}
      {renaming !== null && (
        <NameDialog
          open
          title={`Rename ${renaming.name}`}
          submitLabel="Rename"
          initial={renaming.name}
          onClose={() => {
            setRenaming(null);
          }}
          onSubmit={async (name) => {
            await renameEntry(renaming.id, name);
            setRenaming(null);
            refresh();
          }}
        />
      )}
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
      <ConfirmDialog
        open={deleting !== null}
        title={`Delete ${deleting?.name ?? ""}?`}
        confirmLabel="Move to trash"
        onCancel={() => {
          setDeleting(null);
        }}
        onConfirm={() => {
          if (deleting === null) return;
          setActionError(null);
          void trashEntry(deleting.id).then(
            () => {
              setDeleting(null);
              refresh();
            },
            (caught: unknown) => {
              setDeleting(null);
              setActionError(toApiError(caught).message);
            },
          );
        }}
      >
        It goes to the trash, where you can restore it; its space is freed when you delete it for good.
      </ConfirmDialog>
      {params.get("folder") !== null && data === undefined && error !== null && (
        <p className="mt-4 text-sm">
          <button
            type="button"
            className="text-sky-700 underline"
            onClick={() => {
              setParams({});
            }}
          >
            Go to my files
          </button>
        </p>
      )}
    </div>
  );
}

/** The files tab: browse a container's volume; download, upload (with progress), new folder, rename, delete. */
import { useCallback, useRef, useState } from "react";

import {
  contentUrl,
  deleteContainerFile,
  listContainerFiles,
  makeContainerFolder,
  renameContainerFile,
  uploadContainerFile,
  type ContainerFile,
} from "../../api/containerFiles";
import { toApiError } from "../../api/problem";
import { buttonClass } from "../../components/Button";
import { ConfirmDialog, Dialog } from "../../components/Dialog";
import { Alert, Field, inputClass } from "../../components/Form";
import { useResource } from "../../hooks/useResource";
import { describeTimestamp } from "../../lib/format";
import { formatBytes } from "./containerState";

function join(folder: string, name: string): string {
  return folder === "" ? name : `${folder}/${name}`;
}

type Prompt = { kind: "mkdir" } | { kind: "rename"; entry: ContainerFile };
interface Upload {
  name: string;
  sent: number;
  total: number;
}

export function ContainerFilesTab({ containerId }: { containerId: string }) {
  const [folder, setFolder] = useState("");
  const load = useCallback((signal: AbortSignal) => listContainerFiles(containerId, folder, signal), [containerId, folder]);
  const listing = useResource(load);
  const [prompt, setPrompt] = useState<Prompt | null>(null);
  const [promptValue, setPromptValue] = useState("");
  const [promptError, setPromptError] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<ContainerFile | null>(null);
  const [deleteError, setDeleteError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [upload, setUpload] = useState<Upload | null>(null);
  const picker = useRef<HTMLInputElement>(null);

  async function run(action: () => Promise<unknown>, onError: (message: string) => void): Promise<boolean> {
    setBusy(true);
    onError("");
    try {
      await action();
      listing.reload();
      return true;
    } catch (caught) {
      onError(toApiError(caught).message);
      return false;
    } finally {
      setBusy(false);
    }
  }
  const show = (setter: (value: string | null) => void) => (message: string) => { setter(message === "" ? null : message); };

  async function uploadFiles(files: FileList) {
    for (const file of Array.from(files)) {
      setUpload({ name: file.name, sent: 0, total: file.size });
      const ok = await run(
        () => uploadContainerFile(containerId, join(folder, file.name), file, (sent) => { setUpload({ name: file.name, sent, total: file.size }); }),
        show(setError),
      );
      if (!ok) break;
    }
    setUpload(null);
  }

  function openFolder(path: string) {
    setError(null);
    setFolder(path);
  }

  const crumbs = folder === "" ? [] : folder.split("/");
  const entries = listing.data?.entries ?? [];

  return (
    <div className="space-y-3" data-testid="container-files-tab">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <nav aria-label="Folder" className="flex flex-wrap items-center gap-1 font-mono text-sm">
          <button type="button" className="text-sky-700 hover:underline dark:text-sky-300" onClick={() => { openFolder(""); }}>
            /
          </button>
          {crumbs.map((crumb, index) => (
            <span key={crumbs.slice(0, index + 1).join("/")} className="flex items-center gap-1">
              <button type="button" className="text-sky-700 hover:underline dark:text-sky-300" onClick={() => { openFolder(crumbs.slice(0, index + 1).join("/")); }}>
                {crumb}
              </button>
              {index < crumbs.length - 1 && <span>/</span>}
            </span>
          ))}
        </nav>
        <div className="flex gap-2">
          <input
            ref={picker}
            type="file"
            multiple
            className="sr-only"
            aria-label="Files to upload"
            data-testid="container-upload-input"
            onChange={(event) => {
              const files = event.target.files;
              if (files !== null && files.length > 0) void uploadFiles(files).then(() => { event.target.value = ""; });
            }}
          />
          <button type="button" className={buttonClass.small} disabled={upload !== null} onClick={() => picker.current?.click()}>
            Upload
          </button>
          <button type="button" className={buttonClass.small} onClick={() => { setPrompt({ kind: "mkdir" }); setPromptValue(""); setPromptError(null); }}>
            New folder
          </button>
        </div>
      </div>
      {upload !== null && (
        <div className="flex items-center gap-3 text-sm" data-testid="container-upload-progress">
          <span className="truncate">Uploading {upload.name}</span>
          <progress className="h-2 flex-1" max={Math.max(upload.total, 1)} value={upload.sent} aria-label={`Uploading ${upload.name}`} />
          <span className="tabular-nums text-slate-600 dark:text-slate-400">
            {formatBytes(upload.sent)} / {formatBytes(upload.total)}
          </span>
        </div>
      )}
      {listing.error !== null && <Alert tone="danger">{listing.error.message}</Alert>}
      {error !== null && <Alert tone="danger">{error}</Alert>}
      <table className="w-full text-left text-sm" data-testid="container-files">
        <thead className="text-xs text-slate-500 uppercase dark:text-slate-400">
          <tr>
            <th className="pb-2">Name</th>
            <th className="pb-2">Size</th>
            <th className="pb-2">Modified</th>
            <th className="pb-2">Actions</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((entry) => {
            const modified = describeTimestamp(new Date(entry.modified * 1000).toISOString());
            return (
              <tr key={entry.path} className="border-t border-slate-200 dark:border-slate-800" data-testid="container-file-row">
                <td className="py-2 pr-4">
                  {entry.kind === "directory" ? (
                    <button type="button" className="font-medium text-sky-700 hover:underline dark:text-sky-300" onClick={() => { openFolder(entry.path); }}>
                      {entry.name}/
                    </button>
                  ) : (
                    <span className="text-slate-900 dark:text-white">
                      {entry.name}
                      {entry.kind === "symlink" && <span className="ml-1 text-xs text-slate-500">(link, not followed)</span>}
                    </span>
                  )}
                </td>
                <td className="py-2 pr-4 text-slate-600 dark:text-slate-400">{entry.kind === "file" ? formatBytes(entry.size) : "–"}</td>
                <td className="py-2 pr-4 text-slate-600 dark:text-slate-400" title={modified.title}>
                  {modified.text}
                </td>
                <td className="py-2">
                  <div className="flex flex-wrap gap-2">
                    {entry.kind === "file" && (
                      <a className={buttonClass.small} href={contentUrl(containerId, entry.path)} download={entry.name}>
                        Download
                      </a>
                    )}
                    <button
                      type="button"
                      className={buttonClass.small}
                      aria-label={`Rename ${entry.name}`}
                      onClick={() => { setPrompt({ kind: "rename", entry }); setPromptValue(entry.name); setPromptError(null); }}
                    >
                      Rename
                    </button>
                    <button
                      type="button"
                      className={buttonClass.smallDanger}
                      aria-label={`Delete ${entry.name}`}
                      onClick={() => { setDeleting(entry); setDeleteError(null); }}
                    >
                      Delete
                    </button>
                  </div>
                </td>
              </tr>
            );
          })}
          {listing.data?.entries.length === 0 && (
            <tr>
              <td colSpan={4} className="py-6 text-center text-slate-500">
                This folder is empty.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <Dialog open={prompt !== null} title={prompt?.kind === "mkdir" ? "New folder" : "Rename"} onClose={() => { setPrompt(null); }} size="sm">
        <form
          className="space-y-4"
          onSubmit={(event) => {
            event.preventDefault();
            if (prompt === null || promptValue.trim() === "") return;
            const target = join(folder, promptValue.trim());
            const action = prompt.kind === "mkdir" ? () => makeContainerFolder(containerId, target) : () => renameContainerFile(containerId, prompt.entry.path, target);
            void run(action, show(setPromptError)).then((ok) => {
              if (ok) setPrompt(null);
            });
          }}
        >
          {promptError !== null && <Alert tone="danger">{promptError}</Alert>}
          <Field label="Name">
            {(control) => <input {...control} data-autofocus className={inputClass} value={promptValue} onChange={(e) => { setPromptValue(e.target.value); }} />}
          </Field>
          <div className="flex justify-end">
            <button type="submit" className={buttonClass.primary} disabled={busy}>
              {prompt?.kind === "mkdir" ? "Create" : "Rename"}
            </button>
          </div>
        </form>
      </Dialog>
      <ConfirmDialog
        open={deleting !== null}
        title={`Delete ${deleting?.name ?? ""}?`}
        confirmLabel="Delete"
        busy={busy}
        error={deleteError}
        onCancel={() => { setDeleting(null); }}
        onConfirm={() => {
          if (deleting === null) return;
          void run(() => deleteContainerFile(containerId, deleting.path), show(setDeleteError)).then((ok) => {
            if (ok) setDeleting(null);
          });
        }}
      >
        {deleting?.kind === "directory" ? "The folder and everything in it is deleted from the container's volume." : "It is deleted from the container's volume."}
      </ConfirmDialog>
    </div>
  );
}

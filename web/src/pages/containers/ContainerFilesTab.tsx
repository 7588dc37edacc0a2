/** The files tab: browse a container's volume; download, upload (with progress), new folder, rename, delete. */
import { useRef, useState } from "react";

import {
  contentUrl,
  deleteContainerFile,
  makeContainerFolder,
  renameContainerFile,
  uploadContainerFile,
  type ContainerFile,
} from "../../api/containerFiles";
import { useContainerFiles } from "../../api/containerQueries";
import { useInvalidate } from "../../api/queryClient";
import { containerKeys } from "../../api/queryKeys";
import { buttonClass } from "../../components/Button";
import { ConfirmDialog, Dialog } from "../../components/Dialog";
import { Alert, Field, inputClass } from "../../components/Form";
import { describeTimestamp } from "../../lib/format";
import { useAction, useConfirm, useTask } from "../../lib/useAction";
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
  const listing = useContainerFiles(containerId, folder);
  const invalidate = useInvalidate();
  const refresh = (): void => void invalidate(containerKeys.files(containerId, folder));
  const [prompt, setPrompt] = useState<Prompt | null>(null);
  const [promptValue, setPromptValue] = useState("");
  const [upload, setUpload] = useState<Upload | null>(null);
  const picker = useRef<HTMLInputElement>(null);
  const uploading = useTask();
  const { setError } = uploading;
  const error = uploading.error?.message ?? null;
  const promptAction = useAction(
    (target: string, entry: ContainerFile | null) => (entry === null ? makeContainerFolder(containerId, target) : renameContainerFile(containerId, entry.path, target)),
    () => {
      setPrompt(null);
      refresh();
    },
  );
  const remove = useConfirm((entry: ContainerFile) => deleteContainerFile(containerId, entry.path), refresh);
  const busy = uploading.busy || promptAction.busy;

  async function uploadFiles(files: FileList) {
    await uploading.run(async () => {
      try {
        for (const file of Array.from(files)) {
          setUpload({ name: file.name, sent: 0, total: file.size });
          await uploadContainerFile(containerId, join(folder, file.name), file, (sent) => { setUpload({ name: file.name, sent, total: file.size }); });
          refresh();
        }
      } finally {
        setUpload(null);
      }
    });
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
          <button type="button" className={buttonClass.small} onClick={() => { setPrompt({ kind: "mkdir" }); setPromptValue(""); promptAction.setError(null); }}>
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
                      onClick={() => { setPrompt({ kind: "rename", entry }); setPromptValue(entry.name); promptAction.setError(null); }}
                    >
                      Rename
                    </button>
                    <button
                      type="button"
                      className={buttonClass.smallDanger}
                      aria-label={`Delete ${entry.name}`}
                      onClick={() => { remove.ask(entry); }}
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
            void promptAction.run(join(folder, promptValue.trim()), prompt.kind === "mkdir" ? null : prompt.entry);
          }}
        >
          {promptAction.error !== null && <Alert tone="danger">{promptAction.error.message}</Alert>}
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
      <ConfirmDialog title={`Delete ${remove.target?.name ?? ""}?`} confirmLabel="Delete" {...remove.dialog}>
        {remove.target?.kind === "directory" ? "The folder and everything in it is deleted from the container's volume." : "It is deleted from the container's volume."}
      </ConfirmDialog>
    </div>
  );
}

/** The files tab: browse a container's volume, open and edit a text file, new file or folder, rename, delete, download. */
import { useCallback, useState } from "react";

import {
  containerFileUrl,
  deleteContainerFile,
  listContainerFiles,
  makeContainerFolder,
  readContainerFile,
  renameContainerFile,
  writeContainerFile,
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

type Prompt = { kind: "mkdir" } | { kind: "new-file" } | { kind: "rename"; entry: ContainerFile };

export function ContainerFilesTab({ containerId }: { containerId: string }) {
  const [folder, setFolder] = useState("");
  const load = useCallback((signal: AbortSignal) => listContainerFiles(containerId, folder, signal), [containerId, folder]);
  const listing = useResource(load);
  const [editing, setEditing] = useState<{ path: string; content: string } | null>(null);
  const [prompt, setPrompt] = useState<Prompt | null>(null);
  const [promptValue, setPromptValue] = useState("");
  const [deleting, setDeleting] = useState<ContainerFile | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function run(action: () => Promise<void>): Promise<boolean> {
    setBusy(true);
    setError(null);
    try {
      await action();
      listing.reload();
      return true;
    } catch (caught) {
      setError(toApiError(caught).message);
      return false;
    } finally {
      setBusy(false);
    }
  }

  const crumbs = folder === "" ? [] : folder.split("/");
  const entries = [...(listing.data ?? [])].sort((a, b) => Number(b.kind === "dir") - Number(a.kind === "dir") || a.name.localeCompare(b.name));

  if (editing !== null) {
    return (
      <div className="space-y-3" data-testid="file-editor">
        <div className="flex items-center justify-between gap-3">
          <code className="font-mono text-sm">/{editing.path}</code>
          <div className="flex gap-2">
            <button type="button" className={buttonClass.secondary} onClick={() => { setEditing(null); }}>
              Close
            </button>
            <button
              type="button"
              className={buttonClass.primary}
              disabled={busy}
              onClick={() => void run(() => writeContainerFile(containerId, editing.path, editing.content))}
            >
              {busy ? "Saving…" : "Save"}
            </button>
          </div>
        </div>
        {error !== null && <Alert tone="danger">{error}</Alert>}
        <textarea
          aria-label="File content"
          className={`${inputClass} h-[28rem] font-mono text-xs`}
          spellCheck={false}
          value={editing.content}
          onChange={(e) => { setEditing({ ...editing, content: e.target.value }); }}
        />
      </div>
    );
  }

  return (
    <div className="space-y-3">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <nav aria-label="Folder" className="flex flex-wrap items-center gap-1 font-mono text-sm">
          <button type="button" className="text-sky-700 hover:underline dark:text-sky-300" onClick={() => { setFolder(""); }}>
            /
          </button>
          {crumbs.map((crumb, index) => (
            <span key={crumbs.slice(0, index + 1).join("/")} className="flex items-center gap-1">
              <button type="button" className="text-sky-700 hover:underline dark:text-sky-300" onClick={() => { setFolder(crumbs.slice(0, index + 1).join("/")); }}>
                {crumb}
              </button>
              {index < crumbs.length - 1 && <span>/</span>}
            </span>
          ))}
        </nav>
        <div className="flex gap-2">
          <button type="button" className={buttonClass.small} onClick={() => { setPrompt({ kind: "new-file" }); setPromptValue(""); }}>
            New file
          </button>
          <button type="button" className={buttonClass.small} onClick={() => { setPrompt({ kind: "mkdir" }); setPromptValue(""); }}>
            New folder
          </button>
        </div>
      </div>
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
            const path = join(folder, entry.name);
            const modified = describeTimestamp(entry.modified);
            return (
              <tr key={entry.name} className="border-t border-slate-200 dark:border-slate-800">
                <td className="py-2 pr-4">
                  {entry.kind === "dir" ? (
                    <button type="button" className="font-medium text-sky-700 hover:underline dark:text-sky-300" onClick={() => { setFolder(path); }}>
                      {entry.name}/
                    </button>
                  ) : (
                    <button
                      type="button"
                      className="text-slate-900 hover:underline dark:text-white"
                      onClick={() =>
                        void readContainerFile(containerId, path).then(
                          (content) => { setEditing({ path, content }); },
                          (caught: unknown) => { setError(toApiError(caught).message); },
                        )
                      }
                    >
                      {entry.name}
                      {entry.kind === "symlink" && <span className="ml-1 text-xs text-slate-500">(link)</span>}
                    </button>
                  )}
                </td>
                <td className="py-2 pr-4 text-slate-600 dark:text-slate-400">{entry.kind === "dir" ? "–" : formatBytes(entry.size)}</td>
                <td className="py-2 pr-4 text-slate-600 dark:text-slate-400" title={modified.title}>
                  {modified.text}
                </td>
                <td className="py-2">
                  <div className="flex flex-wrap gap-2">
                    {entry.kind === "file" && (
                      <a className={buttonClass.small} href={containerFileUrl(containerId, path)} download={entry.name}>
                        Download
                      </a>
                    )}
                    <button type="button" className={buttonClass.small} onClick={() => { setPrompt({ kind: "rename", entry }); setPromptValue(entry.name); }}>
                      Rename
                    </button>
                    <button type="button" className={buttonClass.smallDanger} onClick={() => { setDeleting(entry); }}>
                      Delete
                    </button>
                  </div>
                </td>
              </tr>
            );
          })}
          {listing.data?.length === 0 && (
            <tr>
              <td colSpan={4} className="py-6 text-center text-slate-500">
                This folder is empty.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <Dialog
        open={prompt !== null}
        title={prompt?.kind === "mkdir" ? "New folder" : prompt?.kind === "new-file" ? "New file" : "Rename"}
        onClose={() => { setPrompt(null); }}
        size="sm"
      >
        <form
          className="space-y-4"
          onSubmit={(event) => {
            event.preventDefault();
            if (prompt === null || promptValue.trim() === "") return;
            const target = join(folder, promptValue.trim());
            const action =
              prompt.kind === "mkdir"
                ? () => makeContainerFolder(containerId, target)
                : prompt.kind === "new-file"
                  ? () => writeContainerFile(containerId, target, "")
                  : () => renameContainerFile(containerId, join(folder, prompt.entry.name), target);
            void run(action).then((ok) => {
              if (ok) setPrompt(null);
            });
          }}
        >
          <Field label="Name">{(control) => <input {...control} data-autofocus className={inputClass} value={promptValue} onChange={(e) => { setPromptValue(e.target.value); }} />}</Field>
          <div className="flex justify-end">
            <button type="submit" className={buttonClass.primary} disabled={busy}>
              Save
            </button>
          </div>
        </form>
      </Dialog>
      <ConfirmDialog
        open={deleting !== null}
        title={`Delete ${deleting?.name ?? ""}?`}
        confirmLabel="Delete"
        busy={busy}
        error={error}
        onCancel={() => { setDeleting(null); }}
        onConfirm={() => {
          if (deleting === null) return;
          void run(() => deleteContainerFile(containerId, join(folder, deleting.name))).then((ok) => {
            if (ok) setDeleting(null);
          });
        }}
      >
        {deleting?.kind === "dir" ? "The folder and everything in it is deleted from the container's volume." : "The file is deleted from the container's volume."}
      </ConfirmDialog>
    </div>
  );
}

/** Dialogs of the file manager: a name (new folder, rename), and a folder picker tree (move, copy). */
import { useCallback, useState, type SubmitEvent } from "react";

import { copyEntry, moveEntry, type FileEntry } from "../../api/files";
import { useListing } from "../../api/filesQueries";
import { toApiError } from "../../api/problem";
import { buttonClass } from "../../components/Button";
import { Dialog } from "../../components/Dialog";
import { Alert, TextField } from "../../components/Form";
import { FolderIcon } from "../../components/icons";
import { useTask } from "../../lib/useAction";
import { suggestedName } from "./fileKinds";

export function NameDialog({
  title,
  submitLabel,
  initial,
  onSubmit,
  onClose,
}: {
  title: string;
  submitLabel: string;
  initial: string;
  onSubmit: (name: string) => Promise<void>;
  onClose: () => void;
}) {
  const [name, setName] = useState(initial);
  const { run, busy, error } = useTask();

  const submit = async (event: SubmitEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    await run(() => onSubmit(name));
  };

  const suggestion = error === null ? null : suggestedName(error);
  return (
    <Dialog open title={title} onClose={onClose} size="sm">
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
        <TextField
          label="Name"
          name="entry-name"
          autoComplete="off"
          required
          data-autofocus
          value={name}
          onChange={setName}
        />
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

/** One folder of the picker; its subfolders load when it is opened. */
function FolderNode({
  id,
  name,
  depth,
  blocked,
  chosen,
  onChoose,
  startOpen,
}: {
  id: string | null;
  name: string;
  depth: number;
  blocked: Set<string>;
  chosen: string | null | undefined;
  onChoose: (id: string | null, name: string) => void;
  startOpen?: boolean;
}) {
  const [open, setOpen] = useState(startOpen ?? false);
  const isBlocked = id !== null && blocked.has(id);
  // The same query as the folder's listing in the file manager: opened once, it stays loaded.
  const listing = useListing("files", id, "", open && !isBlocked);
  const children = listing.data?.items.filter((item) => item.kind === "folder") ?? null;
  const error = listing.error?.message ?? null;

  const selected = chosen === id;
  return (
    <li role="treeitem" aria-expanded={isBlocked ? undefined : open} aria-selected={selected} aria-disabled={isBlocked || undefined}>
      <div className="flex items-center gap-1" style={{ paddingLeft: `${depth * 1.25}rem` }}>
        <button
          type="button"
          className="inline-flex size-6 items-center justify-center rounded text-slate-500 hover:bg-slate-100 disabled:invisible dark:hover:bg-slate-800"
          aria-label={`${open ? "Close" : "Open"} ${name}`}
          disabled={isBlocked}
          onClick={() => {
            setOpen(!open);
          }}
        >
          {open ? "▾" : "▸"}
        </button>
        <button
          type="button"
          data-testid="picker-folder"
          data-name={name}
          disabled={isBlocked}
          title={isBlocked ? "A folder cannot go into itself or one of its own folders" : undefined}
          className={`flex flex-1 items-center gap-2 rounded-md px-2 py-1 text-left text-sm disabled:cursor-not-allowed disabled:opacity-50 ${
            selected ? "bg-sky-100 font-medium text-sky-900 dark:bg-sky-500/20 dark:text-sky-100" : "hover:bg-slate-100 dark:hover:bg-slate-800"
          }`}
          onClick={() => {
            onChoose(id, name);
          }}
        >
          <FolderIcon className="size-4 text-sky-600" />
          <span className="truncate">{name}</span>
        </button>
      </div>
      {open && !isBlocked && (
        <ul role="group">
          {error !== null && <li className="pl-8 text-xs text-rose-700">{error}</li>}
          {children === null && error === null && <li className="pl-10 text-xs text-slate-500">Loading…</li>}
          {children?.length === 0 && depth > 0 && <li className="pl-12 text-xs text-slate-400">No folders inside</li>}
          {children?.map((child) => (
            <FolderNode key={child.id} id={child.id} name={child.name} depth={depth + 1} blocked={blocked} chosen={chosen} onChoose={onChoose} />
          ))}
        </ul>
      )}
    </li>
  );
}

/** Choose a folder and move or copy the given entries into it; errors from the server are shown as they come. */
export function FolderPickerDialog({
  mode,
  entries,
  onChanged,
  onClose,
}: {
  mode: "move" | "copy";
  entries: FileEntry[];
  /** Called after a run, also a partly failed one (what did go through is shown). */
  onChanged: () => void;
  onClose: () => void;
}) {
  const [target, setTarget] = useState<{ id: string | null; name: string } | undefined>(undefined);
  const { run: work, busy } = useTask();
  const [errors, setErrors] = useState<string[]>([]);
  // A folder cannot go into itself (the server says so too; the tree does not even offer it).
  const blocked = new Set(mode === "move" ? entries.filter((entry) => entry.kind === "folder").map((entry) => entry.id) : []);
  const verb = mode === "move" ? "Move" : "Copy";
  const what = entries.length === 1 ? (entries[0]?.name ?? "") : `${entries.length} items`;

  const choose = useCallback((id: string | null, name: string) => {
    setTarget({ id, name });
    setErrors([]);
  }, []);

  const run = async (): Promise<void> => {
    if (target === undefined) return;
    const failures: string[] = [];
    await work(async () => {
      for (const entry of entries) {
        try {
          await (mode === "move" ? moveEntry(entry.id, target.id) : copyEntry(entry.id, target.id));
        } catch (caught) {
          failures.push(`${entry.name}: ${toApiError(caught).message}`);
        }
      }
    });
    onChanged();
    if (failures.length === 0) {
      onClose();
      return;
    }
    setErrors(failures);
  };

  return (
    <Dialog open title={`${verb} ${what}`} description={`Choose the folder to ${mode} into.`} onClose={onClose}>
      {errors.length > 0 && (
        <Alert tone="danger">
          <ul>
            {errors.map((message) => (
              <li key={message}>{message}</li>
            ))}
          </ul>
        </Alert>
      )}
      <ul role="tree" aria-label="Folders" className="mt-2 max-h-72 overflow-y-auto rounded-lg border border-slate-200 p-2 dark:border-slate-800">
        <FolderNode id={null} name="My files" depth={0} blocked={blocked} chosen={target?.id} onChoose={choose} startOpen />
      </ul>
      <div className="mt-5 flex items-center justify-end gap-3">
        <span className="mr-auto truncate text-sm text-slate-600 dark:text-slate-400">{target === undefined ? "No folder chosen" : `Into ${target.name}`}</span>
        <button type="button" className={buttonClass.secondary} onClick={onClose}>
          {errors.length > 0 ? "Close" : "Cancel"}
        </button>
        <button
          type="button"
          className={buttonClass.primary}
          disabled={busy || target === undefined}
          onClick={() => {
            void run();
          }}
        >
          {busy ? "Working…" : `${verb} here`}
        </button>
      </div>
    </Dialog>
  );
}

/** "Restore from backup" in the trash: pick a restore point, find one of your files or folders as it was, bring a copy into the trash. */
import { useState } from "react";

import { restoreFromBackup, useBackedUpFiles, useRestorePoints, type BackedUpFile } from "../../api/backups";
import { buttonClass } from "../../components/Button";
import { Dialog } from "../../components/Dialog";
import { Alert, Field, inputClass } from "../../components/Form";
import { DocumentIcon, FolderIcon } from "../../components/icons";
import { useTask } from "../../lib/useAction";
import { formatBytes } from "./fileKinds";

export function BackupRestore({ onRestored }: { onRestored: () => void }) {
  const points = useRestorePoints();
  const [open, setOpen] = useState(false);
  const [runId, setRunId] = useState<string | null>(null);
  const [trail, setTrail] = useState<BackedUpFile[]>([]);
  const [done, setDone] = useState<string | null>(null);
  const task = useTask();
  const parent = trail.at(-1) ?? null;
  const files = useBackedUpFiles(open ? runId : null, parent?.id ?? null);

  const available = points.data ?? [];
  const newest = available[0];
  if (newest === undefined) return null;
  const chosen = runId ?? newest.id;

  const restore = async (item: BackedUpFile): Promise<void> => {
    setDone(null);
    await task.run(async () => {
      await restoreFromBackup(chosen, item.id);
      setDone(`A copy of “${item.name}” is in your trash, in a folder named after the backup: restore it from there.`);
      onRestored();
    });
  };

  return (
    <div className="mb-3 flex justify-end">
      <button
        type="button"
        className={buttonClass.small}
        onClick={() => {
          setRunId(newest.id);
          setTrail([]);
          setDone(null);
          setOpen(true);
        }}
      >
        Restore from backup
      </button>
      <Dialog
        open={open}
        title="Restore from backup"
        description="Your files as they were at a backup. What you pick is copied into your trash; nothing you have now is changed."
        onClose={() => {
          setOpen(false);
        }}
      >
        <div className="space-y-4">
          {done !== null && <Alert tone="success">{done}</Alert>}
          {(task.error ?? files.error) && <Alert tone="danger">{task.error?.message ?? files.error?.message}</Alert>}
          <Field label="Backup">
            {(control) => (
              <select
                {...control}
                className={inputClass}
                value={chosen}
                onChange={(event) => {
                  setRunId(event.target.value);
                  setTrail([]);
                }}
              >
                {available.map((point) => (
                  <option key={point.id} value={point.id}>
                    {new Date(point.finished_at ?? point.created_at).toLocaleString()}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <div className="text-sm text-slate-600 dark:text-slate-400">
            <button type="button" className="hover:underline" onClick={() => { setTrail([]); }}>
              Your files
            </button>
            {trail.map((folder, index) => (
              <span key={folder.id}>
                {" / "}
                <button type="button" className="hover:underline" onClick={() => { setTrail(trail.slice(0, index + 1)); }}>
                  {folder.name}
                </button>
              </span>
            ))}
          </div>
          <ul className="max-h-80 divide-y divide-slate-100 overflow-y-auto rounded-lg border border-slate-200 dark:divide-slate-800 dark:border-slate-800" data-testid="backup-files">
            {files.isFetching && files.data === undefined && <li className="px-3 py-2 text-sm text-slate-500">Reading the backup…</li>}
            {files.data?.length === 0 && <li className="px-3 py-2 text-sm text-slate-500">Nothing here in this backup.</li>}
            {files.data?.map((item) => (
              <li key={item.id} className="flex items-center justify-between gap-3 px-3 py-2 text-sm">
                <span className="flex min-w-0 items-center gap-2">
                  {item.kind === "folder" ? <FolderIcon className="size-4 shrink-0 text-sky-600" /> : <DocumentIcon className="size-4 shrink-0 text-slate-400" />}
                  {item.kind === "folder" ? (
                    <button type="button" className="truncate font-medium hover:underline" onClick={() => { setTrail([...trail, item]); }}>
                      {item.name}
                    </button>
                  ) : (
                    <span className="truncate">{item.name}</span>
                  )}
                  {item.kind === "file" && <span className="text-xs text-slate-500">{formatBytes(item.size)}</span>}
                </span>
                <button type="button" className={buttonClass.small} disabled={task.busy} onClick={() => void restore(item)} aria-label={`Restore ${item.name} from backup`}>
                  Restore
                </button>
              </li>
            ))}
          </ul>
        </div>
      </Dialog>
    </div>
  );
}

/** The trash: what was deleted, restored where it was (or under a free name), deleted for good one by one or all at once. */
import { useState } from "react";

import { emptyTrash, purgeEntry, restoreEntry, type FileEntry } from "../../api/files";
import { useTrash } from "../../api/filesQueries";
import { toApiError } from "../../api/problem";
import { useInvalidate } from "../../api/queryClient";
import { filesKeys } from "../../api/queryKeys";
import { buttonClass } from "../../components/Button";
import { Skeleton } from "../../components/Card";
import { ConfirmDialog } from "../../components/Dialog";
import { EmptyState } from "../../components/EmptyState";
import { Alert } from "../../components/Form";
import { DocumentIcon, FolderIcon } from "../../components/icons";
import { useTask } from "../../lib/useAction";
import { describeTimestamp } from "../../lib/format";
import { BackupRestore } from "./BackupRestoreDialog";
import { formatBytes, suggestedName } from "./fileKinds";

const th = "px-4 py-3 text-left text-xs font-semibold tracking-wide text-slate-500 uppercase dark:text-slate-400";
const td = "px-4 py-3 align-middle";

export function TrashView({ onChanged }: { onChanged: () => void }) {
  const { data, error, isFetching: loading } = useTrash();
  const invalidate = useInvalidate();
  const [purging, setPurging] = useState<FileEntry | "all" | null>(null);
  const task = useTask();
  const { busy } = task;
  const actionError = task.error?.message ?? null;

  const changed = (): void => {
    void invalidate(filesKeys.trash);
    onChanged();
  };

  const restore = async (entry: FileEntry): Promise<void> => {
    await task.run(async () => {
      try {
        await restoreEntry(entry.id);
      } catch (caught) {
        const problem = toApiError(caught);
        const suggestion = suggestedName(problem);
        if (suggestion === null) throw problem;
        // Its name was taken meanwhile: bring it back under the free name the server offers.
        await restoreEntry(entry.id, suggestion);
      }
      changed();
    });
  };

  const purge = async (): Promise<void> => {
    if (purging === null) return;
    await task.run(async () => {
      try {
        await (purging === "all" ? emptyTrash() : purgeEntry(purging.id));
        changed();
      } finally {
        setPurging(null);
      }
    });
  };

  return (
    <div>
      <BackupRestore onRestored={changed} />
      {(error ?? actionError) && <Alert tone="danger">{actionError ?? error?.message}</Alert>}
      {loading && data === undefined ? (
        <Skeleton className="h-24 w-full" />
      ) : data?.items.length ? (
        <>
          <div className="mb-3 flex items-center justify-between text-sm text-slate-600 dark:text-slate-400">
            <span>
              {data.total} deleted {data.total === 1 ? "item" : "items"}; their space is freed when you delete them for good.
            </span>
            <button
              type="button"
              className={buttonClass.smallDanger}
              onClick={() => {
                setPurging("all");
              }}
            >
              Empty trash
            </button>
          </div>
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
                    <td className={`${td} font-medium text-slate-900 dark:text-white`}>
                      <span className="flex items-center gap-2">
                        {entry.kind === "file" ? <DocumentIcon className="size-4 text-slate-400" /> : <FolderIcon className="size-4 text-sky-600" />}
                        {entry.name}
                      </span>
                    </td>
                    <td className={td}>{entry.kind === "file" ? formatBytes(entry.size) : "—"}</td>
                    <td className={td} title={describeTimestamp(entry.trashed_at).title}>
                      {describeTimestamp(entry.trashed_at).text}
                    </td>
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
        </>
      ) : (
        <EmptyState icon={FolderIcon} title="The trash is empty">
          What you delete waits here until you restore it or delete it for good. Until then it still counts against your storage.
        </EmptyState>
      )}
      <ConfirmDialog
        open={purging !== null}
        title={purging === "all" ? "Empty the trash?" : `Delete ${purging?.name ?? ""} for good?`}
        confirmLabel={purging === "all" ? "Empty trash" : "Delete for good"}
        busy={busy}
        onCancel={() => {
          setPurging(null);
        }}
        onConfirm={() => {
          void purge();
        }}
      >
        {purging === "all" ? "Everything in the trash" : "It and everything in it"}, with all versions, is removed and its space is freed. This cannot be undone.
      </ConfirmDialog>
    </div>
  );
}

/** "Share…": find people and groups of your organization, share with them at a permission, change or revoke shares. */
import { useState } from "react";

import { useDirectorySearch, useShares } from "../../api/filesQueries";
import { useInvalidate } from "../../api/queryClient";
import { filesKeys } from "../../api/queryKeys";
import { createShare, deleteShare, PERMISSION_LABELS, updateShare, type Share, type SharePermission } from "../../api/sharing";
import { Badge } from "../../components/Badge";
import { buttonClass } from "../../components/Button";
import { Skeleton } from "../../components/Card";
import { Dialog } from "../../components/Dialog";
import { Alert, inputClass, TextField } from "../../components/Form";
import { UserIcon, UsersIcon } from "../../components/icons";
import { useDebounced } from "../../hooks/useDebounced";
import { useTask } from "../../lib/useAction";

const PERMISSIONS = Object.keys(PERMISSION_LABELS) as SharePermission[];

function PermissionSelect({ value, label, onChange }: { value: SharePermission; label: string; onChange: (permission: SharePermission) => void }) {
  return (
    <select
      aria-label={label}
      className={inputClass.replace("w-full", "w-auto shrink-0")}
      value={value}
      onChange={(event) => {
        onChange(event.target.value as SharePermission);
      }}
    >
      {PERMISSIONS.map((permission) => (
        <option key={permission} value={permission}>
          {PERMISSION_LABELS[permission]}
        </option>
      ))}
    </select>
  );
}

function shareName(share: Share): string {
  return share.user?.name ?? share.group?.name ?? "(deleted)";
}

export function ShareDialog({ entry, onClose }: { entry: { id: string; name: string }; onClose: () => void }) {
  const { data: shares, error: loadError, isFetching: loading } = useShares(entry.id);
  const [query, setQuery] = useState("");
  const searched = useDebounced(query.trim(), 200);
  const search = useDirectorySearch(searched);
  const found = query.trim() === "" || searched === "" ? [] : (search.data ?? []);
  const [permission, setPermission] = useState<SharePermission>("view");
  const [done, setDone] = useState<string | null>(null);
  const invalidate = useInvalidate();
  const action = useTask();
  const error = action.error?.message ?? null;

  const run = async (change: () => Promise<unknown>, message: string): Promise<void> => {
    setDone(null);
    await action.run(async () => {
      await change();
      setDone(message);
      // This list, and "Shared with me" (the people shared with may be signed in here too).
      void invalidate(filesKeys.shares(entry.id), filesKeys.sharedWithMe);
    });
  };

  const already = new Set((shares ?? []).map((share) => share.user?.id ?? share.group?.id));
  return (
    <Dialog open title={`Share ${entry.name}`} description="People you share with see it under “Shared with me”; a folder is shared with everything in it." onClose={onClose}>
      <div className="space-y-5">
        {error !== null && <Alert tone="danger">{error}</Alert>}
        {done !== null && <Alert tone="success">{done}</Alert>}
        <div className="grid grid-cols-[minmax(0,1fr)_auto] items-end gap-3">
          <div>
            <TextField
              label="Add people or groups"
              type="search"
              placeholder="Name or username"
              autoComplete="off"
              data-autofocus
              value={query}
              onChange={setQuery}
            />
          </div>
          <PermissionSelect value={permission} label="Permission for new shares" onChange={setPermission} />
        </div>
        {found.length > 0 && (
          <ul aria-label="Matches" className="divide-y divide-slate-100 rounded-lg border border-slate-200 dark:divide-slate-800 dark:border-slate-800">
            {found.map((target) => (
              <li key={target.id} className="flex items-center justify-between gap-3 px-3 py-2 text-sm">
                <span className="flex min-w-0 items-center gap-2">
                  {target.kind === "user" ? <UserIcon className="size-4 text-slate-400" /> : <UsersIcon className="size-4 text-slate-400" />}
                  <span className="truncate font-medium">{target.name}</span>
                  <span className="truncate text-xs text-slate-500">{target.kind === "user" ? target.detail : "group"}</span>
                </span>
                <button
                  type="button"
                  className={buttonClass.small}
                  disabled={already.has(target.id)}
                  onClick={() => {
                    void run(() => createShare(entry.id, target, permission), `Shared with ${target.name}.`).then(() => {
                      setQuery("");
                    });
                  }}
                >
                  {already.has(target.id) ? "Shared" : `Share with ${target.name}`}
                </button>
              </li>
            ))}
          </ul>
        )}
        <div>
          <h3 className="mb-2 text-sm font-semibold text-slate-800 dark:text-slate-200">Shared with</h3>
          {loadError !== null && <Alert tone="danger">{loadError.message}</Alert>}
          {loading && shares === undefined ? (
            <Skeleton className="h-16 w-full" />
          ) : shares?.length ? (
            <ul className="divide-y divide-slate-100 dark:divide-slate-800" aria-label="Current shares">
              {shares.map((share) => (
                <li key={share.id} data-testid="share-row" className="flex items-center justify-between gap-3 py-2 text-sm">
                  <span className="flex min-w-0 items-center gap-2">
                    {share.user ? <UserIcon className="size-4 text-slate-400" /> : <UsersIcon className="size-4 text-slate-400" />}
                    <span className="truncate font-medium">{shareName(share)}</span>
                    {share.shared_by && <span className="truncate text-xs text-slate-500">by {share.shared_by.name}</span>}
                    {!share.active && (
                      <span title={`${share.shared_by?.name ?? "Whoever made this share"} no longer holds reshare on this, so it gives no access.`}>
                        <Badge tone="danger">Ended</Badge>
                      </span>
                    )}
                  </span>
                  <span className="flex items-center gap-2">
                    <PermissionSelect
                      value={share.permission}
                      label={`Permission for ${shareName(share)}`}
                      onChange={(next) => {
                        void run(() => updateShare(entry.id, share.id, next), `${shareName(share)}: ${PERMISSION_LABELS[next].toLowerCase()}.`);
                      }}
                    />
                    <button
                      type="button"
                      className={buttonClass.smallDanger}
                      aria-label={`Revoke ${shareName(share)}`}
                      onClick={() => {
                        void run(() => deleteShare(entry.id, share.id), `${shareName(share)} no longer has access.`);
                      }}
                    >
                      Revoke
                    </button>
                  </span>
                </li>
              ))}
            </ul>
          ) : (
            <p className="text-sm text-slate-500 dark:text-slate-400">Not shared with anyone yet.</p>
          )}
        </div>
        <div className="flex justify-end">
          <button type="button" className={buttonClass.secondary} onClick={onClose}>
            Done
          </button>
        </div>
      </div>
    </Dialog>
  );
}

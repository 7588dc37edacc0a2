/** The details side panel of one file or folder: what it is, its WebDAV locks (unlock), and its versions (download, restore). */
import { useState } from "react";

import { contentUrl, restoreVersion, versionUrl, type FileEntry } from "../../api/files";
import { useVersions } from "../../api/filesQueries";
import { describeLock, lockKeys, unlock, useLocks } from "../../api/locks";
import { useInvalidate } from "../../api/queryClient";
import { filesKeys } from "../../api/queryKeys";
import { useMe } from "../../auth/session";
import { buttonClass } from "../../components/Button";
import { Alert } from "../../components/Form";
import { CloseIcon, DownloadIcon, LockIcon } from "../../components/icons";
import { useAction } from "../../lib/useAction";
import { describeTimestamp } from "../../lib/format";
import { contentDate, formatBytes, hasThumbnail } from "./fileKinds";
import { Thumbnail } from "./media";

function Row({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div className="flex justify-between gap-3 py-1">
      <dt className="text-slate-500 dark:text-slate-400">{label}</dt>
      <dd className="truncate text-right text-slate-900 dark:text-slate-100">{children}</dd>
    </div>
  );
}

/** Who holds the entry's WebDAV locks until when, and "Unlock" for the holder (or an administrator). */
function Locks({ entry, onUnlocked }: { entry: FileEntry; onUnlocked: () => void }) {
  const { data } = useLocks(entry.id);
  const invalidate = useInvalidate();
  const action = useAction(unlock, () => {
    void invalidate(lockKeys.all);
    onUnlocked();
  });
  const locks = data?.items ?? [];
  if (locks.length === 0) return null;
  const mayUnlock = locks.some((lock) => lock.can_unlock);
  return (
    <section aria-label="Lock" className="mt-4 rounded-lg border border-amber-200 bg-amber-50 px-3 py-2 text-sm dark:border-amber-900 dark:bg-amber-950/40">
      {action.error && <Alert tone="danger">{action.error.message}</Alert>}
      <ul className="space-y-1">
        {locks.map((lock) => (
          <li key={lock.id} className="flex items-start gap-2 text-amber-900 dark:text-amber-200" data-testid="lock-info">
            <LockIcon className="mt-0.5 size-4 shrink-0" />
            <span>
              {describeLock(lock)}
              {lock.inherited && <span className="text-amber-700 dark:text-amber-400"> · through a folder above</span>}
            </span>
          </li>
        ))}
      </ul>
      {mayUnlock && (
        <button
          type="button"
          className={`${buttonClass.small} mt-2`}
          disabled={action.busy}
          onClick={() => {
            void action.run(entry.id);
          }}
        >
          {action.busy ? "Unlocking…" : "Unlock"}
        </button>
      )}
    </section>
  );
}

function Versions({ entry, onRestored }: { entry: FileEntry; onRestored: (entry: FileEntry) => void }) {
  const me = useMe();
  const { data, error, isFetching: loading } = useVersions(entry.id);
  const invalidate = useInvalidate();
  /** The version being restored (its button says so). */
  const [restoring, setRestoring] = useState<string | null>(null);
  const action = useAction(restoreVersion, (restored) => {
    onRestored(restored);
    void invalidate(filesKeys.versions(entry.id));
  });
  const actionError = action.error?.message ?? null;
  const busy = action.busy ? restoring : null;

  const restore = async (versionId: string): Promise<void> => {
    setRestoring(versionId);
    await action.run(entry.id, versionId);
  };

  return (
    <section aria-label="Versions" className="mt-5">
      <h3 className="text-sm font-semibold text-slate-900 dark:text-white">Versions</h3>
      {(error ?? actionError) && <Alert tone="danger">{actionError ?? error?.message}</Alert>}
      <ol className="mt-2 space-y-2 text-sm">
        <li className="rounded-lg border border-sky-200 bg-sky-50 px-3 py-2 dark:border-sky-900 dark:bg-sky-950/40" data-testid="version-current">
          <div className="flex justify-between">
            <span className="font-medium">Version {entry.version_no} · current</span>
            <span>{formatBytes(entry.size)}</span>
          </div>
          <div className="text-xs text-slate-500">{describeTimestamp(contentDate(entry)).text}</div>
        </li>
        {loading && data === undefined && <li className="text-xs text-slate-500">Loading…</li>}
        {data?.length === 0 && <li className="text-xs text-slate-500">No earlier versions. Uploading new content keeps the old one here.</li>}
        {data?.map((version) => (
          <li key={version.id} data-testid="version" data-version={version.version_no} className="rounded-lg border border-slate-200 px-3 py-2 dark:border-slate-800">
            <div className="flex justify-between">
              <span className="font-medium">Version {version.version_no}</span>
              <span>{formatBytes(version.size)}</span>
            </div>
            <div className="text-xs text-slate-500">
              {describeTimestamp(version.created_at).text} · {version.created_by === me.user.id ? "by you" : version.created_by ? "by another user" : "author removed"}
            </div>
            <div className="mt-2 flex gap-2">
              <a className={buttonClass.small} href={versionUrl(entry.id, version.id)} aria-label={`Download version ${version.version_no}`}>
                <DownloadIcon className="size-3.5" /> Download
              </a>
              <button
                type="button"
                className={buttonClass.small}
                disabled={busy !== null}
                aria-label={`Restore version ${version.version_no}`}
                onClick={() => {
                  void restore(version.id);
                }}
              >
                {busy === version.id ? "Restoring…" : "Restore"}
              </button>
            </div>
          </li>
        ))}
      </ol>
    </section>
  );
}

export function DetailsPanel({ entry, onClose, onChanged }: { entry: FileEntry; onClose: () => void; onChanged: () => void }) {
  const [current, setCurrent] = useState(entry);
  const shown = current.id === entry.id && current.version_no >= entry.version_no ? current : entry;
  return (
    <aside aria-label="Details" className="w-full shrink-0 rounded-xl border border-slate-200 bg-white p-4 lg:w-80 dark:border-slate-800 dark:bg-slate-900">
      <div className="flex items-start justify-between gap-2">
        <h2 className="text-base font-semibold break-all text-slate-900 dark:text-white">{shown.name}</h2>
        <button type="button" onClick={onClose} className="rounded-lg p-1 text-slate-500 hover:bg-slate-100 dark:hover:bg-slate-800" aria-label="Close details">
          <CloseIcon className="size-5" />
        </button>
      </div>
      {hasThumbnail(shown) && (
        <div className="mt-3 flex justify-center rounded-lg bg-slate-50 p-2 dark:bg-slate-950">
          <Thumbnail entry={shown} className="max-h-48" />
        </div>
      )}
      <dl className="mt-3 divide-y divide-slate-100 text-sm dark:divide-slate-800">
        <Row label="Kind">{shown.kind === "file" ? shown.content_type || "file" : "Folder"}</Row>
        {shown.kind === "file" && <Row label="Size">{formatBytes(shown.size)}</Row>}
        <Row label="Modified">{describeTimestamp(contentDate(shown)).text}</Row>
        <Row label="Created">{describeTimestamp(shown.created_at).text}</Row>
      </dl>
      <Locks key={`lock-${shown.id}`} entry={shown} onUnlocked={onChanged} />
      <a className={`${buttonClass.secondary} mt-4 w-full`} href={contentUrl(shown.id)}>
        <DownloadIcon className="size-4" /> {shown.kind === "file" ? "Download" : "Download as zip"}
      </a>
      {shown.kind === "file" && (
        <Versions
          key={shown.id}
          entry={shown}
          onRestored={(restored) => {
            setCurrent(restored);
            onChanged();
          }}
        />
      )}
    </aside>
  );
}

/** /admin/files (tenant.manage): how many earlier versions of each file the tenant keeps and for how long; its storage use and quota;
 * whether names a Windows computer cannot hold are refused. */
import { useQueryClient } from "@tanstack/react-query";
import { useState, type SubmitEvent } from "react";

import { useFilesSettings } from "../../../api/filesQueries";
import { updateFilesSettings, type FilesSettings } from "../../../api/filesSettings";
import { filesKeys } from "../../../api/queryKeys";
import { useMe } from "../../../auth/session";
import { buttonClass } from "../../../components/Button";
import { Alert, Field, inputClass } from "../../../components/Form";
import { PageHeader } from "../../../components/PageHeader";
import { SettingsCard } from "../../../components/SettingsCard";
import { useDocumentTitle } from "../../../hooks/useDocumentTitle";
import { useTask } from "../../../lib/useAction";

const GIB = 1024 ** 3;

function formatBytes(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${String(bytes)} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}

interface Draft {
  keepVersions: string;
  keepDays: string;
  quotaGib: string;
  windowsNames: FilesSettings["windows_names"];
}

function draftOf(saved: FilesSettings): Draft {
  return {
    keepVersions: String(saved.keep_versions),
    keepDays: String(saved.keep_days),
    quotaGib: saved.quota_bytes === null ? "" : String(Math.round((saved.quota_bytes / GIB) * 100) / 100),
    windowsNames: saved.windows_names,
  };
}

function FilesSettingsForm({ tenantId, saved, onSaved, canSetQuota }: { tenantId: string; saved: FilesSettings; onSaved: (settings: FilesSettings) => void; canSetQuota: boolean }) {
  const [draft, setDraft] = useState<Draft>(() => draftOf(saved));
  const { run, busy, error, setError } = useTask();
  const [done, setDone] = useState(false);

  const change = (changes: Partial<Draft>): void => {
    setDone(false);
    setDraft((current) => ({ ...current, ...changes }));
  };

  const submit = async (event: SubmitEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    setDone(false);
    await run(async () => {
      const body = { keep_versions: Number(draft.keepVersions), keep_days: Number(draft.keepDays), windows_names: draft.windowsNames };
      const quota = draft.quotaGib.trim() === "" ? null : Math.round(Number(draft.quotaGib) * GIB);
      const next = await updateFilesSettings(tenantId, canSetQuota ? { ...body, quota_bytes: quota } : body);
      onSaved(next);
      setDraft(draftOf(next));
      setDone(true);
    });
  };

  const errorsOf = (field: string): string[] => error?.fieldMessages(field) ?? [];
  const placed = ["keep_versions", "keep_days", "quota_bytes", "windows_names"].some((field) => errorsOf(field).length > 0);
  const unchanged = JSON.stringify(draft) === JSON.stringify(draftOf(saved));
  const limit = saved.quota_bytes ?? saved.default_quota_bytes;

  return (
    <form
      className="space-y-5"
      onSubmit={(event) => {
        void submit(event);
      }}
    >
      {done && <Alert tone="success">Saved. Older versions past these limits are removed at the next change of each file and by the periodic sweep.</Alert>}
      {error !== null && !placed && <Alert tone="danger">{error.message}</Alert>}
      <div className="grid gap-4 sm:grid-cols-2">
        <Field label="Versions kept per file" hint="Earlier contents kept when a file is overwritten; 0 keeps all." errors={errorsOf("keep_versions")}>
          {(control) => (
            <input
              {...control}
              type="number"
              min={0}
              max={100000}
              className={inputClass}
              name="keep-versions"
              required
              value={draft.keepVersions}
              onChange={(event) => {
                change({ keepVersions: event.target.value });
              }}
            />
          )}
        </Field>
        <Field label="Days a version is kept" hint="0: no age limit." errors={errorsOf("keep_days")}>
          {(control) => (
            <input
              {...control}
              type="number"
              min={0}
              max={36500}
              className={inputClass}
              name="keep-days"
              required
              value={draft.keepDays}
              onChange={(event) => {
                change({ keepDays: event.target.value });
              }}
            />
          )}
        </Field>
      </div>
      <Field
        label="Names Windows cannot hold"
        hint={
          draft.windowsNames === "refuse"
            ? 'Refused on every write (web, WebDAV, sync clients): \\ : * ? " < > |, a trailing dot or space, CON, PRN, AUX, NUL, COM1–9, LPT1–9. Names already stored stay.'
            : "Allowed: a member on Windows may fail to sync a file named a:b or CON.txt."
        }
        errors={errorsOf("windows_names")}
      >
        {(control) => (
          <select
            {...control}
            className={inputClass}
            name="windows-names"
            value={draft.windowsNames}
            onChange={(event) => {
              change({ windowsNames: event.target.value === "refuse" ? "refuse" : "allow" });
            }}
          >
            <option value="allow">Allow them (default)</option>
            <option value="refuse">Refuse them, so every computer can sync every file</option>
          </select>
        )}
      </Field>
      <div className="rounded-lg bg-slate-50 p-4 text-sm text-slate-600 dark:bg-slate-800/50 dark:text-slate-300">
        <p>
          <span className="font-medium text-slate-900 dark:text-white">{formatBytes(saved.used_bytes)}</span> stored (trash and versions included)
          {limit !== null ? <> of {formatBytes(limit)}</> : <>, no tenant quota</>}.
        </p>
        {saved.default_user_quota_bytes !== null && <p className="mt-1">Each user may store {formatBytes(saved.default_user_quota_bytes)} unless an admin sets their own quota.</p>}
      </div>
      {canSetQuota && (
        <Field label="Tenant quota (GiB)" hint={`Empty: the server default${saved.default_quota_bytes !== null ? ` (${formatBytes(saved.default_quota_bytes)})` : " (none)"}.`} errors={errorsOf("quota_bytes")}>
          {(control) => (
            <input
              {...control}
              type="number"
              min={0}
              step="any"
              className={inputClass}
              name="tenant-quota"
              value={draft.quotaGib}
              onChange={(event) => {
                change({ quotaGib: event.target.value });
              }}
            />
          )}
        </Field>
      )}
      <div className="flex justify-end gap-3 border-t border-slate-100 pt-4 dark:border-slate-800">
        <button
          type="button"
          className={buttonClass.secondary}
          disabled={unchanged || busy}
          onClick={() => {
            setDraft(draftOf(saved));
            setError(null);
          }}
        >
          Reset
        </button>
        <button type="submit" className={buttonClass.primary} disabled={unchanged || busy}>
          {busy ? "Saving…" : "Save"}
        </button>
      </div>
    </form>
  );
}

export function FilesSettingsPage() {
  useDocumentTitle("Files settings");
  const me = useMe();
  const tenantId = me.tenant.id;
  const client = useQueryClient();
  return (
    <>
      <PageHeader title="Files" description={`Version retention, storage and file names of ${me.tenant.name}.`} />
      <SettingsCard title="Versions, storage and names" settings={useFilesSettings(tenantId)}>
        {(current) => (
          <FilesSettingsForm
            tenantId={tenantId}
            saved={current}
            onSaved={(saved: FilesSettings) => {
              client.setQueryData(filesKeys.settings(tenantId), saved);
              // The quota bar shows the tenant's quota.
              void client.invalidateQueries({ queryKey: filesKeys.quota });
            }}
            canSetQuota={me.user.is_superadmin}
          />
        )}
      </SettingsCard>
    </>
  );
}

/** /admin/backups (super-admins): restore points with size, duration and verification, "Back up now" with progress, schedule and retention. */
import { useQueryClient } from "@tanstack/react-query";
import { useState, type SubmitEvent } from "react";

import { backupKeys, startBackup, updateBackupSettings, useBackupRuns, useBackupSettings, type BackupRun, type BackupSettings } from "../../../api/backups";
import { Badge, type BadgeTone } from "../../../components/Badge";
import { buttonClass } from "../../../components/Button";
import { Card } from "../../../components/Card";
import { DataTable, tdClass } from "../../../components/DataTable";
import { Alert, Field, inputClass } from "../../../components/Form";
import { PageHeader } from "../../../components/PageHeader";
import { SettingsCard } from "../../../components/SettingsCard";
import { useDocumentTitle } from "../../../hooks/useDocumentTitle";
import { useTask } from "../../../lib/useAction";

const STATUS_TONE: Record<BackupRun["status"], BadgeTone> = { queued: "neutral", running: "brand", succeeded: "success", failed: "danger" };
const STAGE_TEXT: Record<string, string> = {
  starting: "Starting",
  database: "Dumping the database",
  blobs: "Fetching new blobs",
  upload: "Uploading",
  verify: "Verifying",
};

function bytes(value: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let amount = value;
  let unit = 0;
  while (amount >= 1000 && unit < units.length - 1) {
    amount /= 1000;
    unit += 1;
  }
  return `${amount.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

function duration(seconds: number): string {
  return seconds < 90 ? `${seconds.toFixed(1)} s` : `${Math.round(seconds / 60).toString()} min`;
}

function RunRow({ run }: { run: BackupRun }) {
  const active = run.status === "queued" || run.status === "running";
  return (
    <tr data-testid="backup-run">
      <td className={tdClass}>
        <div className="font-medium text-slate-900 dark:text-white">{new Date(run.created_at).toLocaleString()}</div>
        <div className="text-xs text-slate-500 dark:text-slate-400">{run.trigger === "cli" ? "nubes backup" : run.trigger === "schedule" ? "Scheduled" : "Back up now"}</div>
      </td>
      <td className={tdClass}>
        <Badge tone={STATUS_TONE[run.status]}>{run.status}</Badge>
        {active && (
          <div className="mt-2 w-40">
            <div className="h-1.5 overflow-hidden rounded-full bg-slate-200 dark:bg-slate-800" role="progressbar" aria-valuenow={Math.round(run.progress * 100)} aria-valuemin={0} aria-valuemax={100}>
              <div className="h-full bg-sky-500 transition-all" style={{ width: `${Math.max(4, Math.round(run.progress * 100)).toString()}%` }} />
            </div>
            <div className="mt-1 text-xs text-slate-500 dark:text-slate-400">{STAGE_TEXT[run.stage] ?? "Waiting for the worker"}</div>
          </div>
        )}
        {run.error !== null && <div className="mt-1 max-w-sm text-xs text-rose-700 dark:text-rose-300">{run.error}</div>}
      </td>
      <td className={`${tdClass} font-mono text-xs`}>{run.snapshot_id?.slice(0, 8) ?? "—"}</td>
      <td className={tdClass}>{run.status === "succeeded" ? `${bytes(run.total_bytes)} (${bytes(run.bytes_added)} new)` : "—"}</td>
      <td className={tdClass}>{run.finished_at !== null ? duration(run.duration_seconds) : "—"}</td>
      <td className={tdClass} title={run.verify_detail}>
        {run.verified === null ? "—" : run.verified ? <Badge tone="success">verified</Badge> : <Badge tone="danger">not verified</Badge>}
      </td>
    </tr>
  );
}

function RestorePoints({ configured }: { configured: boolean }) {
  const client = useQueryClient();
  const runs = useBackupRuns();
  const { run, busy, error } = useTask();
  const running = runs.data?.some((item) => item.status === "queued" || item.status === "running") ?? false;
  const lastVerified = runs.data?.find((item) => item.verified !== null);

  const backUp = async (): Promise<void> => {
    await run(async () => {
      await startBackup();
      await client.invalidateQueries({ queryKey: backupKeys.runs });
    });
  };

  return (
    <Card
      title="Restore points"
      action={
        <button
          type="button"
          className={buttonClass.primary}
          disabled={!configured || running || busy}
          onClick={() => {
            void backUp();
          }}
        >
          {running ? "Backing up…" : "Back up now"}
        </button>
      }
    >
      <div className="space-y-4">
        {error !== null && <Alert tone="danger">{error.message}</Alert>}
        {runs.error !== null && <Alert tone="danger">{runs.error.message}</Alert>}
        {lastVerified !== undefined && (
          <Alert tone={lastVerified.verified === true ? "success" : "danger"} testId="last-verify">
            Last verification ({new Date(lastVerified.finished_at ?? lastVerified.created_at).toLocaleString()}): {lastVerified.verify_detail}
          </Alert>
        )}
        <DataTable
          columns={["Started", "Status", "Snapshot", "Size", "Duration", "Verified"]}
          rows={runs.data}
          loading={runs.isFetching}
          renderRow={(item) => <RunRow key={item.id} run={item} />}
          empty={configured ? "No backup yet. “Back up now” makes the first restore point." : "Configure a repository first (see the settings below)."}
          testId="backup-runs"
        />
        <p className="text-xs text-slate-500 dark:text-slate-400">
          To restore, stop Nubes and run <code className="font-mono">nubes restore &lt;snapshot&gt; --data-dir NEW_EMPTY_DIR</code> on the server (add{" "}
          <code className="font-mono">--database-url</code> of an empty database with PostgreSQL).
        </p>
      </div>
    </Card>
  );
}

function SettingsForm({ saved, onSaved }: { saved: BackupSettings; onSaved: (settings: BackupSettings) => void }) {
  const [schedule, setSchedule] = useState(saved.schedule);
  const [retention, setRetention] = useState(saved.retention);
  const { run, busy, error } = useTask();
  const [done, setDone] = useState(false);
  const errorsOf = (field: string): string[] => error?.fieldMessages(field) ?? [];

  const submit = async (event: SubmitEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    setDone(false);
    await run(async () => {
      onSaved(await updateBackupSettings({ schedule, retention }));
      setDone(true);
    });
  };

  const keepField = (label: string, key: keyof BackupSettings["retention"]) => (
    <Field label={label} errors={errorsOf(`retention.${key}`)}>
      {(control) => (
        <input
          {...control}
          type="number"
          min={0}
          className={inputClass}
          value={retention[key]}
          onChange={(event) => {
            setRetention((current) => ({ ...current, [key]: Number(event.target.value) }));
          }}
        />
      )}
    </Field>
  );

  return (
    <form
      className="space-y-5"
      onSubmit={(event) => {
        void submit(event);
      }}
    >
      {!saved.configured && (
        <Alert tone="info">
          No repository yet: set <code className="font-mono">NUBES_BACKUP_REPOSITORY</code> (a directory or <code className="font-mono">s3:http://host/bucket</code>) and{" "}
          <code className="font-mono">NUBES_BACKUP_PASSWORD_FILE</code> in the server’s configuration, then restart it. Keep the password somewhere safe: without it no backup can be read.
        </Alert>
      )}
      {done && <Alert tone="success">Saved.</Alert>}
      {error !== null && <Alert tone="danger">{error.message}</Alert>}
      <dl className="grid gap-2 text-sm sm:grid-cols-2">
        <div>
          <dt className="text-slate-500 dark:text-slate-400">Repository</dt>
          <dd className="font-mono break-all text-slate-900 dark:text-white">{saved.repository || "—"}</dd>
        </div>
        <div>
          <dt className="text-slate-500 dark:text-slate-400">Password</dt>
          <dd className="text-slate-900 dark:text-white">{saved.password_file_set ? "kept in the password file (never shown)" : "not set"}</dd>
        </div>
      </dl>
      <Field label="Daily backup at (UTC)" hint="Empty: no scheduled backup (only “Back up now” and nubes backup)." errors={errorsOf("schedule")} optional>
        {(control) => (
          <input
            {...control}
            type="time"
            className={`${inputClass} max-w-40`}
            value={schedule}
            onChange={(event) => {
              setSchedule(event.target.value);
            }}
          />
        )}
      </Field>
      <div className="grid gap-4 sm:grid-cols-3">
        {keepField("Daily restore points kept", "keep_daily")}
        {keepField("Weekly kept", "keep_weekly")}
        {keepField("Monthly kept", "keep_monthly")}
      </div>
      <div className="flex justify-end border-t border-slate-100 pt-4 dark:border-slate-800">
        <button type="submit" className={buttonClass.primary} disabled={busy}>
          {busy ? "Saving…" : "Save"}
        </button>
      </div>
    </form>
  );
}

export function BackupsPage() {
  useDocumentTitle("Backups");
  const client = useQueryClient();
  const settings = useBackupSettings();
  return (
    <>
      <PageHeader title="Backups" description="The whole install — database, files and the server secret — encrypted with restic, verified after each run." />
      <div className="space-y-6">
        <RestorePoints configured={settings.data?.configured ?? false} />
        <SettingsCard title="Schedule and retention" settings={settings}>
          {(current) => (
            <SettingsForm
              saved={current}
              onSaved={(saved) => {
                client.setQueryData(backupKeys.settings, saved);
              }}
            />
          )}
        </SettingsCard>
      </div>
    </>
  );
}

/** /containers/:id — one container: live state and power buttons, and tabs for its console, stats, files, settings and jobs. */
import { useEffect, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";

import { useContainer, useJobs } from "../../api/containerQueries";
import { deleteContainer, powerContainer, type Container, type PowerAction } from "../../api/containers";
import { useInvalidate } from "../../api/queryClient";
import { containerKeys } from "../../api/queryKeys";
import { buttonClass } from "../../components/Button";
import { Card, Skeleton } from "../../components/Card";
import { ConfirmDialog } from "../../components/Dialog";
import { Alert } from "../../components/Form";
import { PageHeader } from "../../components/PageHeader";
import { useDocumentTitle } from "../../hooks/useDocumentTitle";
import { useAction } from "../../lib/useAction";
import { describeTimestamp } from "../../lib/format";
import { ConsoleBanner, ConsoleTab } from "./ConsoleTab";
import { ContainerFilesTab } from "./ContainerFilesTab";
import { ContainerSettingsForm } from "./ContainerSettingsForm";
import { actionsFor } from "./containerState";
import { JobStatusBadge, StateBadge } from "./containerUi";
import { StatsTab } from "./StatsTab";
import { useConsole } from "./useConsole";

const TABS = ["console", "stats", "files", "settings", "jobs"] as const;
type Tab = (typeof TABS)[number];
const REFRESH_MS = 3000;

function tabClass(active: boolean): string {
  const base = "rounded-md px-3 py-1.5 text-sm font-medium capitalize transition-colors";
  return active
    ? `${base} bg-white text-slate-900 shadow-sm ring-1 ring-slate-200 dark:bg-slate-800 dark:text-white dark:ring-slate-700`
    : `${base} text-slate-600 hover:text-slate-900 dark:text-slate-400 dark:hover:text-white`;
}

function SettingsTab({ container, onSaved }: { container: Container; onSaved: () => void }) {
  const rows: [string, React.ReactNode][] = [
    ["Name", container.name],
    ["Image", <code key="image" className="font-mono text-xs">{container.image}</code>],
    ["CPU", `${container.cpu}% of one core`],
    ["Memory", `${container.memory_mb} MiB`],
    ["Disk", `${container.disk_mb} MiB`],
    ["Processes", `at most ${container.pids}`],
    ["Restart", container.restart?.mode === "on-crash" ? `on crash, at most ${container.restart.max_retries} times in ${Math.round(container.restart.window_seconds / 60)} min` : "never"],
    ["Allocations", (container.ports ?? []).length > 0 ? (container.ports ?? []).map((port) => `${port.ip}:${port.port}`).join(", ") : "none"],
    ["Startup", <code key="startup" className="font-mono text-xs break-all">{container.startup}</code>],
    ["Node", <code key="node" className="font-mono text-xs">{container.node_id}</code>],
    ["Created", describeTimestamp(container.created_at).text],
  ];
  return (
    <div className="grid gap-4 lg:grid-cols-2">
      <Card title="Container">
        <dl className="grid grid-cols-[8rem_1fr] gap-x-4 gap-y-2 text-sm" data-testid="container-settings">
          {rows.map(([label, value]) => (
            <div key={label} className="contents">
              <dt className="text-slate-500">{label}</dt>
              <dd className="text-slate-900 dark:text-slate-100">{value}</dd>
            </div>
          ))}
        </dl>
      </Card>
      <Card title="Variables">
        <dl className="grid grid-cols-[minmax(8rem,auto)_1fr] gap-x-4 gap-y-2 font-mono text-xs">
          {Object.entries(container.environment).map(([key, value]) => (
            <div key={key} className="contents">
              <dt className="text-slate-500">{key}</dt>
              <dd className="break-all text-slate-900 dark:text-slate-100">{value}</dd>
            </div>
          ))}
        </dl>
        <p className="mt-4 text-xs text-slate-500">Limits and variables are set when the container is created.</p>
      </Card>
      <ContainerSettingsForm container={container} onSaved={onSaved} />
    </div>
  );
}

function JobsTab({ containerId, state }: { containerId: string; state: string }) {
  const jobs = useJobs(containerId, REFRESH_MS);
  const { refetch } = jobs;
  // A new state usually means a job started or ended: fetch the list at once.
  useEffect(() => {
    void refetch();
  }, [state, refetch]);
  if (jobs.error !== null) return <Alert tone="danger">{jobs.error.message}</Alert>;
  return (
    <ul className="space-y-3" data-testid="container-jobs">
      {jobs.data?.items.map((job) => {
        const created = describeTimestamp(job.created_at);
        return (
          <li key={job.id} className="rounded-lg border border-slate-200 p-3 dark:border-slate-800">
            <div className="flex flex-wrap items-center gap-3 text-sm">
              <code className="font-mono font-medium">{job.action}</code>
              <JobStatusBadge status={job.status} />
              <span className="text-slate-500" title={created.title}>
                {created.text} by {job.actor_name || "the system"}
              </span>
              {job.finished_at !== null && job.started_at !== null && (
                <span className="text-xs text-slate-500">{((Date.parse(job.finished_at) - Date.parse(job.started_at)) / 1000).toFixed(1)} s</span>
              )}
            </div>
            {job.error !== "" && <p className="mt-2 text-sm text-rose-700 dark:text-rose-300">{job.error}</p>}
            {job.output !== "" && (
              <details className="mt-2">
                <summary className="cursor-pointer text-xs text-slate-500">Output</summary>
                <pre className="mt-1 max-h-60 overflow-auto rounded bg-slate-950 p-2 font-mono text-xs text-slate-100">{job.output}</pre>
              </details>
            )}
          </li>
        );
      })}
      {jobs.data?.items.length === 0 && <p className="text-sm text-slate-500">No jobs yet.</p>}
    </ul>
  );
}

function Detail({ containerId }: { containerId: string }) {
  const navigate = useNavigate();
  const resource = useContainer(containerId, REFRESH_MS);
  const { refetch } = resource;
  const invalidate = useInvalidate();
  const reload = (): void => void invalidate(containerKeys.instance(containerId), containerKeys.instances);
  const live = useConsole(containerId);
  const [tab, setTab] = useState<Tab>("console");
  const [confirm, setConfirm] = useState<"kill" | "delete" | null>(null);
  useDocumentTitle(resource.data?.name ?? "Container");

  // A state frame from the socket: fetch the rest (reason, ports) at once.
  useEffect(() => {
    if (live.state !== null) void refetch();
  }, [live.state, refetch]);
  const { run: runAct, busy, error: actError } = useAction(async (action: PowerAction | "delete") => {
    if (action === "delete") {
      await deleteContainer(containerId);
      void invalidate(containerKeys.instances);
      void navigate("/containers");
      return;
    }
    await powerContainer(containerId, action);
    setConfirm(null);
    reload();
  });
  const error = actError?.message ?? null;

  const container = resource.data;
  if (container === undefined) {
    return resource.error !== null ? <Alert tone="danger">{resource.error.message}</Alert> : <Skeleton className="h-10 w-64" />;
  }
  const state = live.state ?? container.state;

  const act = (action: PowerAction | "delete"): Promise<unknown> => runAct(action);

  return (
    <div className="space-y-6">
      <PageHeader
        title={container.name}
        badge={<StateBadge state={state} />}
        description={
          <>
            {(container.ports ?? []).map((port) => `${port.ip}:${port.port}`).join(", ") || "No allocation"} · {container.cpu}% CPU · {container.memory_mb} MiB ·{" "}
            {container.disk_mb} MiB disk
            {container.state_reason && <span className="block text-sm text-slate-500">{container.state_reason}</span>}
          </>
        }
        actions={
          <div className="flex flex-wrap gap-2" aria-label="Power">
            {(["start", "restart", "stop"] as const).map((action) => (
              <button
                key={action}
                type="button"
                className={buttonClass.secondary}
                disabled={busy || !actionsFor(state).includes(action)}
                onClick={() => void act(action)}
              >
                {action[0]?.toUpperCase()}
                {action.slice(1)}
              </button>
            ))}
            <button type="button" className={buttonClass.danger} disabled={busy || !actionsFor(state).includes("kill")} onClick={() => { setConfirm("kill"); }}>
              Kill
            </button>
            <button type="button" className={buttonClass.secondary} disabled={busy || state === "deleting"} onClick={() => { setConfirm("delete"); }}>
              Delete
            </button>
          </div>
        }
      />
      {error !== null && <Alert tone="danger">{error}</Alert>}
      <ConsoleBanner status={live.status} onRetry={live.retry} />
      <nav aria-label="Container" className="inline-flex gap-1 rounded-lg bg-slate-100 p-1 dark:bg-slate-900" role="tablist">
        {TABS.map((name) => (
          <button key={name} type="button" role="tab" aria-selected={tab === name} className={tabClass(tab === name)} onClick={() => { setTab(name); }}>
            {name}
          </button>
        ))}
      </nav>
      <div>
        <ConsoleTab visible={tab === "console"} subscribe={live.subscribe} send={live.send} status={live.status} />
        {tab === "stats" && <StatsTab stats={live.stats} container={container} />}
        {tab === "files" && <ContainerFilesTab containerId={containerId} />}
        {tab === "settings" && <SettingsTab container={container} onSaved={reload} />}
        {tab === "jobs" && <JobsTab containerId={containerId} state={state} />}
      </div>
      <ConfirmDialog
        open={confirm !== null}
        title={confirm === "kill" ? `Kill ${container.name}?` : `Delete ${container.name}?`}
        confirmLabel={confirm === "kill" ? "Kill" : "Delete"}
        busy={busy}
        error={error}
        onCancel={() => { setConfirm(null); }}
        onConfirm={() => void act(confirm ?? "kill")}
      >
        {confirm === "kill"
          ? "The container's processes are stopped at once (SIGKILL), without its stop command: unsaved data is lost."
          : "The container and its volume are deleted from the node. This cannot be undone."}
      </ConfirmDialog>
    </div>
  );
}

export function ContainerDetailPage() {
  const { containerId } = useParams();
  if (containerId === undefined) return null;
  return (
    <>
      <Link to="/containers" className="mb-4 inline-block text-sm text-sky-700 hover:underline dark:text-sky-300">
        ← Containers
      </Link>
      <Detail key={containerId} containerId={containerId} />
    </>
  );
}

/** /status: liveness, readiness (per check: the database, Redis when shared), version, the replica that answered, database engine and start time. */
import type { ReactNode } from "react";

import type { ReadinessCheck } from "../../api/ops";
import { UNREACHABLE_MESSAGE } from "../../api/problem";
import { Badge, StatusDot } from "../../components/Badge";
import { buttonClass } from "../../components/Button";
import { Card, Skeleton } from "../../components/Card";
import { RefreshIcon } from "../../components/icons";
import { PageHeader } from "../../components/PageHeader";
import { useDocumentTitle } from "../../hooks/useDocumentTitle";
import { isUnreachable, useServerStatus, type Outcome, type ServerStatus } from "../../hooks/useServerStatus";
import { describeEngine, formatDateTime, formatDuration, formatLatency, formatTime, parseDate } from "../../lib/format";

const REFRESH_MS = 5000;

/** A card body for one call: a skeleton before the first answer, the error if it failed, else `render(value)`. */
function Result<T>({ outcome, testId, render }: { outcome: Outcome<T> | undefined; testId: string; render: (value: T) => ReactNode }) {
  if (outcome === undefined) {
    return (
      <div className="space-y-2" aria-busy="true">
        <Skeleton className="h-8 w-28" />
        <Skeleton className="h-4 w-40" />
      </div>
    );
  }
  if (!outcome.ok) {
    return (
      <p className="flex items-start gap-2 text-sm text-rose-700 dark:text-rose-300">
        <StatusDot tone="danger" />
        <span data-testid={testId}>{outcome.error.kind === "unreachable" ? "No answer from the server." : outcome.error.message}</span>
      </p>
    );
  }
  return <>{render(outcome.value)}</>;
}

function Big({ testId, children }: { testId: string; children: ReactNode }) {
  return (
    <p className="text-2xl font-semibold tracking-tight text-slate-900 dark:text-white" data-testid={testId}>
      {children}
    </p>
  );
}

function Muted({ children }: { children: ReactNode }) {
  return <p className="mt-1 text-sm text-slate-500 dark:text-slate-400">{children}</p>;
}

function CheckRow({ name, check }: { name: string; check: ReadinessCheck }) {
  return (
    <li data-testid={`check-${name}`} className="flex flex-wrap items-center gap-x-3 gap-y-1 py-2">
      <StatusDot tone={check.ok ? "success" : "danger"} />
      <span className="font-medium text-slate-800 capitalize dark:text-slate-200">{name}</span>
      <Badge tone={check.ok ? "success" : "danger"}>{check.ok ? "OK" : "Failing"}</Badge>
      <span className="ml-auto font-mono text-xs text-slate-500 tabular-nums dark:text-slate-400">{formatLatency(check.latency_ms)}</span>
      {check.detail && <span className="w-full pl-5 text-xs text-slate-600 dark:text-slate-400">{check.detail}</span>}
    </li>
  );
}

function StartedAt({ startedAt, checkedAt }: { startedAt: string; checkedAt: Date }) {
  const date = parseDate(startedAt);
  if (date === null) return <Big testId="started-at">{startedAt}</Big>;
  return (
    <>
      <p className="text-lg font-semibold text-slate-900 dark:text-white">
        <time dateTime={startedAt} data-testid="started-at">
          {formatDateTime(date)}
        </time>
      </p>
      <Muted>Up {formatDuration(checkedAt.getTime() - date.getTime())}</Muted>
    </>
  );
}

function UnreachableBanner() {
  return (
    <div role="alert" className="mb-6 rounded-xl border border-rose-300 bg-rose-50 p-4 text-rose-900 dark:border-rose-800 dark:bg-rose-950/60 dark:text-rose-100">
      <p className="font-semibold">Server unreachable</p>
      <p className="mt-1 text-sm" data-testid="server-unreachable">
        {UNREACHABLE_MESSAGE.split("`make run`")[0]}
        <code className="rounded bg-rose-100 px-1 font-mono dark:bg-rose-900">make run</code>
        {UNREACHABLE_MESSAGE.split("`make run`")[1]} This page keeps trying every {REFRESH_MS / 1000} seconds.
      </p>
    </div>
  );
}

export function StatusPage() {
  useDocumentTitle("Status");
  const { status, checking, refresh } = useServerStatus(REFRESH_MS);
  const s: Partial<ServerStatus> = status ?? {};

  return (
    <>
      <PageHeader
        title="Status"
        description={`Health of this Nubes server and what it depends on, checked every ${REFRESH_MS / 1000} seconds while this tab is visible.`}
        actions={
          <>
            <p className="text-sm text-slate-500 dark:text-slate-400" aria-live="polite">
              {status === null ? (
                "Checking…"
              ) : (
                <>
                  Last checked{" "}
                  <time dateTime={status.checkedAt.toISOString()} data-testid="last-checked" className="font-medium text-slate-700 tabular-nums dark:text-slate-300">
                    {formatTime(status.checkedAt)}
                  </time>
                </>
              )}
            </p>
            <button type="button" className={buttonClass.secondary} onClick={refresh} disabled={checking}>
              <RefreshIcon className={`size-4 ${checking ? "animate-spin" : ""}`} />
              Refresh
            </button>
          </>
        }
      />

      {status !== null && isUnreachable(status) && <UnreachableBanner />}

      <div className="grid gap-4 sm:grid-cols-2 xl:grid-cols-3">
        <Card title="Server health">
          <Result
            outcome={s.health}
            testId="health-status"
            render={(health) => (
              <>
                <div className="flex items-center gap-2">
                  <StatusDot tone="success" />
                  <Big testId="health-status">{health.status}</Big>
                </div>
                <Muted>The server process answers.</Muted>
              </>
            )}
          />
        </Card>

        <Card title="Readiness">
          <Result
            outcome={s.ready}
            testId="ready-status"
            render={(ready) => {
              const checks = Object.entries(ready.checks);
              return (
                <>
                  <div className="flex items-center gap-2">
                    <StatusDot tone={ready.status === "ready" ? "success" : "danger"} />
                    <Big testId="ready-status">{ready.status}</Big>
                  </div>
                  <Muted>{ready.status === "ready" ? "Every dependency answers." : "At least one dependency is failing."}</Muted>
                  {checks.length > 0 && (
                    <ul className="mt-4 divide-y divide-slate-100 border-t border-slate-100 dark:divide-slate-800 dark:border-slate-800" aria-label="Checks">
                      {checks.map(([name, check]) => (
                        <CheckRow key={name} name={name} check={check} />
                      ))}
                    </ul>
                  )}
                </>
              );
            }}
          />
        </Card>

        <Card title="Version">
          <Result
            outcome={s.version}
            testId="server-version"
            render={(version) => (
              <>
                <Big testId="server-version">{version.version}</Big>
                <Muted>
                  {version.name} · API {version.api_version} · answered by replica{" "}
                  <span data-testid="server-replica">{version.replica}</span>
                </Muted>
              </>
            )}
          />
        </Card>

        <Card title="Database engine">
          <Result
            outcome={s.version}
            testId="db-engine"
            render={(version) => (
              <>
                <Big testId="db-engine">{version.database}</Big>
                <Muted>{describeEngine(version.database)}</Muted>
              </>
            )}
          />
        </Card>

        <Card title="Started at">
          <Result outcome={s.version} testId="started-at" render={(version) => <StartedAt startedAt={version.started_at} checkedAt={status?.checkedAt ?? new Date(0)} />} />
        </Card>
      </div>
    </>
  );
}

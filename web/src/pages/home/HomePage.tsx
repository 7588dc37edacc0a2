/** /: the overview — a compact server status line and a card for every section. */
import type { ReactNode } from "react";
import { Link } from "react-router";

import { Badge, StatusDot, type BadgeTone } from "../../components/Badge";
import { Skeleton } from "../../components/Card";
import { ArrowRightIcon } from "../../components/icons";
import { PageHeader } from "../../components/PageHeader";
import { useDocumentTitle } from "../../hooks/useDocumentTitle";
import { isUnreachable, useServerStatus, type ServerStatus } from "../../hooks/useServerStatus";
import { useMe } from "../../auth/session";
import { isListedFor, sections } from "../../sections";
import { SavedViewCards } from "../documents/SavedViews";

function Fact({ label, tone, children }: { label: string; tone: BadgeTone; children: ReactNode }) {
  return (
    <div className="flex items-center gap-2">
      <StatusDot tone={tone} />
      <dt className="text-slate-500 dark:text-slate-400">{label}</dt>
      <dd className="font-medium text-slate-900 dark:text-white">{children}</dd>
    </div>
  );
}

function StatusFacts({ status }: { status: ServerStatus }) {
  if (isUnreachable(status)) {
    return <p className="text-sm font-medium text-rose-700 dark:text-rose-300">Cannot reach the Nubes server.</p>;
  }
  const { health, ready, version } = status;
  return (
    <dl className="flex flex-wrap gap-x-8 gap-y-2 text-sm">
      <Fact label="Server" tone={health.ok ? "success" : "danger"}>
        {health.ok ? health.value.status : "not answering"}
      </Fact>
      <Fact label="Readiness" tone={ready.ok && ready.value.status === "ready" ? "success" : "danger"}>
        {ready.ok ? ready.value.status : "unknown"}
      </Fact>
      <Fact label="Database" tone={version.ok ? "neutral" : "warning"}>
        {version.ok ? version.value.database : "unknown"}
      </Fact>
      <Fact label="Version" tone={version.ok ? "neutral" : "warning"}>
        {version.ok ? version.value.version : "unknown"}
      </Fact>
    </dl>
  );
}

function StatusSummary() {
  const { status } = useServerStatus(15000);
  return (
    <section aria-labelledby="summary-heading" className="mb-10 rounded-xl border border-slate-200 bg-white p-5 shadow-sm dark:border-slate-800 dark:bg-slate-900">
      <div className="flex flex-col gap-4 md:flex-row md:items-center md:justify-between">
        <div className="min-w-0">
          <h2 id="summary-heading" className="mb-3 text-sm font-medium text-slate-500 dark:text-slate-400">
            Server status
          </h2>
          {status === null ? (
            <div className="flex gap-6" aria-busy="true">
              <Skeleton className="h-5 w-24" />
              <Skeleton className="h-5 w-28" />
              <Skeleton className="h-5 w-24" />
            </div>
          ) : (
            <StatusFacts status={status} />
          )}
        </div>
        <Link to="/status" className="inline-flex shrink-0 items-center gap-1 rounded text-sm font-medium text-sky-700 hover:text-sky-900 dark:text-sky-300 dark:hover:text-sky-100">
          Details <ArrowRightIcon className="size-4" />
        </Link>
      </div>
    </section>
  );
}

export function HomePage() {
  useDocumentTitle("Overview");
  const me = useMe();
  return (
    <>
      <PageHeader title="Overview" description="Files, documents, apps, containers, workspaces and mail for your whole organization, on your own servers." />
      <StatusSummary />
      <SavedViewCards />
      <h2 className="mb-4 text-lg font-semibold text-slate-900 dark:text-white">Sections</h2>
      <ul className="grid gap-4 sm:grid-cols-2 xl:grid-cols-3">
        {sections
          .filter((section) => isListedFor(section, me.permissions))
          .map(({ id, name, path, description, icon: Icon, page, summary: Summary }) => (
          <li key={id}>
            <Link
              to={path}
              className="group flex h-full flex-col rounded-xl border border-slate-200 bg-white p-5 shadow-sm transition hover:border-sky-300 hover:shadow-md dark:border-slate-800 dark:bg-slate-900 dark:hover:border-sky-700"
            >
              <div className="flex items-center justify-between gap-3">
                <span className="inline-flex size-10 items-center justify-center rounded-lg bg-sky-50 text-sky-700 dark:bg-sky-500/15 dark:text-sky-300">
                  <Icon className="size-5" />
                </span>
                {page === undefined ? <Badge>Coming soon</Badge> : <Badge tone="success">Available</Badge>}
              </div>
              <h3 className="mt-4 font-semibold text-slate-900 group-hover:text-sky-800 dark:text-white dark:group-hover:text-sky-200">{name}</h3>
              <p className="mt-1 text-sm text-slate-600 dark:text-slate-400">{description}</p>
              {Summary !== undefined && (
                <p className="mt-3 text-sm font-medium text-slate-900 tabular-nums dark:text-white">
                  <Summary />
                </p>
              )}
            </Link>
          </li>
        ))}
      </ul>
    </>
  );
}

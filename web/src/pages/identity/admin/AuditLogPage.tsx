/** /admin/audit: the tenant's audit log, newest first; filters live in the URL, and the CSV export honors them. */
import { useRef, useState, type SubmitEvent, type MouseEvent } from "react";
import { useSearchParams } from "react-router";

import { useAuditPage } from "../../../api/identityQueries";
import { auditCsvUrl, getMe, type AuditEvent, type AuditOutcome } from "../../../api/identity";
import { Badge, type BadgeTone } from "../../../components/Badge";
import { buttonClass } from "../../../components/Button";
import { Skeleton } from "../../../components/Card";
import { Alert, inputClass } from "../../../components/Form";
import { DownloadIcon } from "../../../components/icons";
import { PageHeader } from "../../../components/PageHeader";
import { Pagination } from "../../../components/Pagination";
import { useDocumentTitle } from "../../../hooks/useDocumentTitle";
import { formatShortDateTime, parseDate } from "../../../lib/format";
import { describeUserAgent } from "../../../lib/userAgent";

const PAGE_SIZE = 50;
const OUTCOMES: readonly AuditOutcome[] = ["success", "failure", "denied"];
const outcomeTone: Record<string, BadgeTone> = { success: "success", failure: "danger", denied: "warning" };

interface Filters {
  action: string;
  actor: string;
  outcome: AuditOutcome | "";
  /** Calendar days (YYYY-MM-DD) in the reader's time zone, both included. */
  since: string;
  until: string;
}

function filtersFrom(params: URLSearchParams): Filters {
  const outcome = params.get("outcome") ?? "";
  return {
    action: params.get("action") ?? "",
    actor: params.get("actor") ?? "",
    outcome: OUTCOMES.find((value) => value === outcome) ?? "",
    since: params.get("since") ?? "",
    until: params.get("until") ?? "",
  };
}

/** Local midnight of a YYYY-MM-DD day (plus `addDays`) as an ISO instant with its offset, or undefined. */
function dayStart(day: string, addDays = 0): string | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!match) return undefined;
  const [, year, month, date] = match;
  return new Date(Number(year), Number(month) - 1, Number(date) + addDays).toISOString();
}

/** The API's filter parameters: `until` is the start of the day after, so the chosen day is included. */
function apiFilters(filters: Filters) {
  return {
    ...(filters.action ? { action: filters.action } : {}),
    ...(filters.actor ? { actor: filters.actor } : {}),
    ...(filters.outcome ? { outcome: filters.outcome } : {}),
    ...(dayStart(filters.since) ? { since: dayStart(filters.since) } : {}),
    ...(dayStart(filters.until, 1) ? { until: dayStart(filters.until, 1) } : {}),
  };
}

function Detail({ detail }: { detail: AuditEvent["detail"] }) {
  const entries = Object.entries(detail);
  if (entries.length === 0) return <span className="text-slate-400 dark:text-slate-500">—</span>;
  return (
    <span className="font-mono text-xs break-all text-slate-600 dark:text-slate-400">
      {entries.map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`).join(" ")}
    </span>
  );
}

function EventRow({ event }: { event: AuditEvent }) {
  const when = parseDate(event.created_at);
  return (
    <tr data-testid="audit-row" data-action={event.action} className="align-top hover:bg-slate-50/80 dark:hover:bg-slate-800/40">
      <td className="px-4 py-3 whitespace-nowrap text-slate-600 tabular-nums dark:text-slate-300" title={event.created_at}>
        {when ? formatShortDateTime(when) : event.created_at}
      </td>
      <td className="px-4 py-3 font-medium text-slate-900 dark:text-white">{event.actor_name || "—"}</td>
      <td className="px-4 py-3">
        <code className="rounded bg-slate-100 px-1.5 py-0.5 font-mono text-xs text-slate-800 dark:bg-slate-800 dark:text-slate-200">{event.action}</code>
      </td>
      <td className="px-4 py-3">
        <Badge tone={outcomeTone[event.outcome] ?? "neutral"}>{event.outcome}</Badge>
      </td>
      <td className="px-4 py-3 text-xs text-slate-600 dark:text-slate-400">
        {event.target_type ? (
          <>
            <span className="text-slate-800 dark:text-slate-200">{event.target_type}</span>
            {event.target_id && (
              <span className="block font-mono" title={event.target_id}>
                {event.target_id.slice(0, 8)}
              </span>
            )}
          </>
        ) : (
          "—"
        )}
      </td>
      <td className="px-4 py-3 text-xs text-slate-600 dark:text-slate-400">
        <span className="font-mono">{event.ip || "—"}</span>
        {event.user_agent && (
          <span className="block" title={event.user_agent}>
            {describeUserAgent(event.user_agent)}
          </span>
        )}
      </td>
      <td className="max-w-xs px-4 py-3">
        <Detail detail={event.detail} />
      </td>
    </tr>
  );
}

/**
 * A plain download link, so the browser's cookies authenticate it. The access cookie lives five
 * minutes: the first click makes one API call (which refreshes an expired session), then follows the link.
 */
function ExportLink({ href }: { href: string }) {
  const anchor = useRef<HTMLAnchorElement>(null);
  const checked = useRef(false);
  const onClick = (event: MouseEvent<HTMLAnchorElement>): void => {
    if (checked.current) {
      checked.current = false;
      return;
    }
    event.preventDefault();
    void getMe()
      .catch(() => undefined)
      .then(() => {
        checked.current = true;
        anchor.current?.click();
      });
  };
  return (
    <a ref={anchor} href={href} download="nubes-audit.csv" className={buttonClass.secondary} onClick={onClick}>
      <DownloadIcon className="size-4" />
      Export CSV
    </a>
  );
}

const labelClass = "mb-1.5 block text-xs font-medium text-slate-600 dark:text-slate-400";

export function AuditLogPage() {
  useDocumentTitle("Audit log");
  const [params, setParams] = useSearchParams();
  const applied = filtersFrom(params);
  const offset = Math.max(0, Number(params.get("offset")) || 0);
  const [draft, setDraft] = useState<Filters>(applied);

  const { data: page, error, isFetching: loading } = useAuditPage({ ...apiFilters(applied), limit: PAGE_SIZE, offset });

  const apply = (filters: Filters, newOffset = 0): void => {
    const next = new URLSearchParams();
    for (const [name, value] of Object.entries(filters) as [string, string][]) if (value) next.set(name, value);
    if (newOffset > 0) next.set("offset", String(newOffset));
    setParams(next);
  };

  const submit = (event: SubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    apply(draft);
  };

  const set = (name: keyof Filters) => (event: { target: { value: string } }) => {
    setDraft((current) => ({ ...current, [name]: event.target.value }));
  };

  const active = Object.values(applied).some(Boolean);

  return (
    <>
      <PageHeader title="Audit log" description="Who did what, and when, in this tenant — newest first." actions={<ExportLink href={auditCsvUrl(apiFilters(applied))} />} />

      <form onSubmit={submit} aria-label="Filter the audit log" className="mb-6 rounded-xl border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-800 dark:bg-slate-900">
        <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-5">
          <div>
            <label htmlFor="audit-action" className={labelClass}>
              Action
            </label>
            <input id="audit-action" className={inputClass} placeholder="auth. or auth.login" value={draft.action} onChange={set("action")} />
          </div>
          <div>
            <label htmlFor="audit-actor" className={labelClass}>
              Actor
            </label>
            <input id="audit-actor" className={inputClass} placeholder="username" value={draft.actor} onChange={set("actor")} />
          </div>
          <div>
            <label htmlFor="audit-outcome" className={labelClass}>
              Outcome
            </label>
            <select id="audit-outcome" className={inputClass} value={draft.outcome} onChange={set("outcome")}>
              <option value="">Any</option>
              {OUTCOMES.map((outcome) => (
                <option key={outcome} value={outcome}>
                  {outcome[0]?.toUpperCase()}
                  {outcome.slice(1)}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label htmlFor="audit-since" className={labelClass}>
              From
            </label>
            <input id="audit-since" type="date" className={inputClass} value={draft.since} max={draft.until || undefined} onChange={set("since")} />
          </div>
          <div>
            <label htmlFor="audit-until" className={labelClass}>
              Until
            </label>
            <input id="audit-until" type="date" className={inputClass} value={draft.until} min={draft.since || undefined} onChange={set("until")} />
          </div>
        </div>
        <div className="mt-4 flex justify-end gap-3">
          {active && (
            <button
              type="button"
              className={buttonClass.secondary}
              onClick={() => {
                const empty: Filters = { action: "", actor: "", outcome: "", since: "", until: "" };
                setDraft(empty);
                apply(empty);
              }}
            >
              Clear filters
            </button>
          )}
          <button type="submit" className={buttonClass.primary}>
            Apply filters
          </button>
        </div>
      </form>

      {error !== null && (
        <div className="mb-4">
          <Alert tone="danger">{error.message}</Alert>
        </div>
      )}

      <div className="overflow-hidden rounded-xl border border-slate-200 bg-white shadow-sm dark:border-slate-800 dark:bg-slate-900">
        <div className="overflow-x-auto">
          <table className="min-w-full divide-y divide-slate-200 text-sm dark:divide-slate-800">
            <thead className="bg-slate-50 dark:bg-slate-900/60">
              <tr>
                {["Time", "Actor", "Action", "Outcome", "Target", "From", "Detail"].map((heading) => (
                  <th key={heading} scope="col" className="px-4 py-3 text-left text-xs font-semibold tracking-wide whitespace-nowrap text-slate-500 uppercase dark:text-slate-400">
                    {heading}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100 dark:divide-slate-800" aria-busy={loading}>
              {page === undefined && loading
                ? [0, 1, 2, 3].map((row) => (
                    <tr key={row}>
                      <td colSpan={7} className="px-4 py-3">
                        <Skeleton className="h-6 w-full" />
                      </td>
                    </tr>
                  ))
                : page?.items.map((event) => <EventRow key={event.id} event={event} />)}
              {page?.items.length === 0 && (
                <tr>
                  <td colSpan={7} className="px-4 py-12 text-center text-sm text-slate-500 dark:text-slate-400">
                    {active ? "No event matches these filters." : "Nothing has been recorded yet."}
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
        {page !== undefined && (
          <Pagination
            offset={offset}
            limit={PAGE_SIZE}
            total={page.total}
            shown={page.items.length}
            onChange={(newOffset) => {
              apply(applied, newOffset);
            }}
          />
        )}
      </div>
    </>
  );
}

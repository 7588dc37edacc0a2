/** /monitoring/alerts: what is firing or pending now, the rules with their state, notification targets, silences and the history. */
import { useState } from "react";

import {
  alertKeys,
  deleteAlertRule,
  deleteAlertTarget,
  expireAlertSilence,
  testAlertTarget,
  useAlertEvents,
  useAlertInstances,
  useAlertRules,
  useAlertSilences,
  useAlertTargets,
  type AlertInstance,
  type AlertRule,
  type AlertTarget,
  type AlertTargetCreated,
} from "../../../api/alerts";
import { useInvalidate } from "../../../api/queryClient";
import { can, useMe } from "../../../auth/session";
import { Badge, type BadgeTone } from "../../../components/Badge";
import { buttonClass } from "../../../components/Button";
import { Card } from "../../../components/Card";
import { DataTable } from "../../../components/DataTable";
import { ConfirmDialog } from "../../../components/Dialog";
import { Alert } from "../../../components/Form";
import { PageHeader } from "../../../components/PageHeader";
import { Pagination } from "../../../components/Pagination";
import { describeTimestamp, formatRelative, parseDate } from "../../../lib/format";
import { useAction } from "../../../lib/useAction";
import { RuleDialog, SecretDialog, SilenceDialog, TargetDialog } from "./AlertDialogs";
import { formatMatchers } from "./labels";

const SEVERITY_TONE: Record<string, BadgeTone> = { critical: "danger", warning: "warning", info: "brand" };
const STATE_TONE: Record<string, BadgeTone> = { firing: "danger", pending: "warning", resolved: "success", inactive: "neutral" };
const EVENT_TONE: Record<string, BadgeTone> = { fired: "danger", resolved: "success", notified: "brand", failed: "danger", silenced: "neutral" };
const HISTORY_PAGE = 25;

function since(value: string): string {
  const date = parseDate(value);
  return date === null ? "" : formatRelative(date);
}

function formatValue(value: number | null | undefined): string {
  if (value === null || value === undefined) return "no data";
  return Math.abs(value) >= 1e6 || (Math.abs(value) < 0.01 && value !== 0) ? value.toExponential(2) : String(Math.round(value * 1000) / 1000);
}

function Labels({ labels }: { labels: Record<string, string> }) {
  const entries = Object.entries(labels);
  if (entries.length === 0) return <span className="text-slate-400">—</span>;
  return (
    <span className="flex flex-wrap gap-1">
      {entries.map(([key, value]) => (
        <code key={key} className="rounded bg-slate-100 px-1.5 py-0.5 font-mono text-xs text-slate-700 dark:bg-slate-800 dark:text-slate-300">
          {key}={value}
        </code>
      ))}
    </span>
  );
}

function NowCard({ manage, onSilence }: { manage: boolean; onSilence: (instance: AlertInstance) => void }) {
  const instances = useAlertInstances();
  const firing = instances.data?.filter((item) => item.state === "firing").length ?? 0;
  return (
    <Card title={<span className="flex items-center gap-2">Now {firing > 0 && <Badge tone="danger">{firing} firing</Badge>}</span>}>
      {instances.error && <Alert tone="danger">{instances.error.message}</Alert>}
      <DataTable
        look="plain"
        columns={["State", "Alert", "Series", "Value", "Since", { header: "Actions", srOnly: true }]}
        rows={instances.data}
        loading={instances.isPending}
        testId="alerts-now"
        empty="Nothing is firing or pending. Rules are evaluated every 30 seconds."
        renderRow={(item) => (
          <tr key={item.id} className="border-t border-slate-100 dark:border-slate-800" data-testid="alert-instance">
            <td className="py-2 pr-3">
              <Badge tone={STATE_TONE[item.state] ?? "neutral"}>{item.state}</Badge> {item.silenced && <Badge tone="neutral">silenced</Badge>}
            </td>
            <td className="py-2 pr-3">
              <span className="font-medium text-slate-900 dark:text-white">{item.rule_name}</span> <Badge tone={SEVERITY_TONE[item.severity] ?? "neutral"}>{item.severity}</Badge>
            </td>
            <td className="py-2 pr-3">
              <Labels labels={item.labels} />
            </td>
            <td className="py-2 pr-3 tabular-nums">{formatValue(item.value)}</td>
            <td className="py-2 pr-3 text-slate-500" title={describeTimestamp(item.since).title}>
              {since(item.since)}
            </td>
            <td className="py-2 text-right">
              {manage && !item.silenced && (
                <button type="button" className={buttonClass.small} onClick={() => { onSilence(item); }}>
                  Silence…
                </button>
              )}
            </td>
          </tr>
        )}
      />
    </Card>
  );
}

function describeRule(rule: AlertRule): string {
  const reducer = rule.reducer === "last" ? "" : `${rule.reducer} of `;
  const unit = rule.unit ? ` ${rule.unit}` : "";
  const held = rule.for_seconds ? ` for ${rule.for_seconds} s` : "";
  return `${reducer}${rule.metric} ${rule.comparator} ${rule.threshold}${unit}${held}`;
}

function RulesCard({ manage, onEdit, targets }: { manage: boolean; onEdit: (rule: AlertRule | "new") => void; targets: AlertTarget[] }) {
  const rules = useAlertRules();
  const invalidate = useInvalidate();
  const [deleting, setDeleting] = useState<AlertRule | null>(null);
  const remove = useAction(deleteAlertRule, () => {
    setDeleting(null);
    void invalidate(alertKeys.all);
  });
  const targetName = (id: string) => targets.find((target) => target.id === id)?.name;
  return (
    <Card
      title="Rules"
      action={
        manage && (
          <button type="button" className={buttonClass.small} onClick={() => { onEdit("new"); }}>
            New rule
          </button>
        )
      }
    >
      {rules.error && <Alert tone="danger">{rules.error.message}</Alert>}
      <DataTable
        look="plain"
        columns={["Rule", "Condition", "State", "Notifies", { header: "Actions", srOnly: true }]}
        rows={rules.data}
        loading={rules.isPending}
        testId="alert-rules"
        empty={manage ? "No rules yet. Choose New rule and start from a template such as Node offline or Disk over 90 %." : "No rules yet. Ask an administrator to add some."}
        renderRow={(rule) => (
          <tr key={rule.id} className="border-t border-slate-100 dark:border-slate-800" data-testid="alert-rule">
            <td className="py-2 pr-3">
              <span className="font-medium text-slate-900 dark:text-white">{rule.name}</span> <Badge tone={SEVERITY_TONE[rule.severity] ?? "neutral"}>{rule.severity}</Badge>
              {rule.scope === "platform" && <span className="ml-1 text-xs text-slate-500">platform</span>}
            </td>
            <td className="py-2 pr-3 font-mono text-xs">
              {describeRule(rule)}
              {Object.keys(rule.matchers ?? {}).length > 0 && <span className="text-slate-500"> where {formatMatchers(rule.matchers)}</span>}
            </td>
            <td className="py-2 pr-3">
              {!rule.enabled ? (
                <Badge tone="neutral">disabled</Badge>
              ) : rule.firing > 0 ? (
                <Badge tone="danger">{rule.firing} firing</Badge>
              ) : rule.pending > 0 ? (
                <Badge tone="warning">{rule.pending} pending</Badge>
              ) : (
                <Badge tone="success">ok</Badge>
              )}
            </td>
            <td className="py-2 pr-3 text-xs text-slate-600 dark:text-slate-400">
              {(rule.target_ids ?? []).map(targetName).filter(Boolean).join(", ") || "this page only"}
            </td>
            <td className="py-2 text-right whitespace-nowrap">
              {manage && (
                <span className="inline-flex gap-2">
                  <button type="button" className={buttonClass.small} aria-label={`Edit ${rule.name}`} onClick={() => { onEdit(rule); }}>
                    Edit
                  </button>
                  <button type="button" className={buttonClass.smallDanger} aria-label={`Delete ${rule.name}`} onClick={() => { remove.setError(null); setDeleting(rule); }}>
                    Delete
                  </button>
                </span>
              )}
            </td>
          </tr>
        )}
      />
      <ConfirmDialog
        open={deleting !== null}
        title={`Delete ${deleting?.name ?? ""}?`}
        confirmLabel="Delete"
        busy={remove.busy}
        error={remove.error?.message}
        onCancel={() => { setDeleting(null); }}
        onConfirm={() => {
          if (deleting !== null) void remove.run(deleting.id);
        }}
      >
        Its alerts and their history go with it. To pause it instead, edit it and turn it off.
      </ConfirmDialog>
    </Card>
  );
}

function TargetsCard({ manage, superadmin, targets, loading }: { manage: boolean; superadmin: boolean; targets: AlertTarget[] | undefined; loading: boolean }) {
  const invalidate = useInvalidate();
  const [adding, setAdding] = useState<"email" | "webhook" | null>(null);
  const [created, setCreated] = useState<AlertTargetCreated | null>(null);
  const [result, setResult] = useState<{ ok: boolean; detail: string } | null>(null);
  const test = useAction(testAlertTarget, (answer) => { setResult(answer); });
  const remove = useAction(deleteAlertTarget, () => void invalidate(alertKeys.all));
  return (
    <Card
      title="Notification targets"
      action={
        manage && (
          <span className="inline-flex gap-2">
            <button type="button" className={buttonClass.small} onClick={() => { setAdding("email"); }}>
              Add e-mail
            </button>
            <button type="button" className={buttonClass.small} onClick={() => { setAdding("webhook"); }}>
              Add webhook
            </button>
          </span>
        )
      }
    >
      {result !== null && <Alert tone={result.ok ? "success" : "danger"}>{result.detail}</Alert>}
      {(test.error ?? remove.error) && <Alert tone="danger">{(test.error ?? remove.error)?.message}</Alert>}
      <DataTable
        look="plain"
        columns={["Name", "Kind", "Sends to", { header: "Actions", srOnly: true }]}
        rows={targets}
        loading={loading}
        testId="alert-targets"
        empty="No targets: alerts only show on this page. Add an e-mail list or a webhook to be told when they fire."
        renderRow={(target) => (
          <tr key={target.id} className="border-t border-slate-100 dark:border-slate-800" data-testid="alert-target">
            <td className="py-2 pr-3 font-medium text-slate-900 dark:text-white">{target.name}</td>
            <td className="py-2 pr-3">
              <Badge tone="neutral">{target.kind === "email" ? "e-mail" : "webhook"}</Badge>
            </td>
            <td className="max-w-md truncate py-2 pr-3 text-xs text-slate-600 dark:text-slate-400" title={target.kind === "email" ? target.emails.join(", ") : target.url}>
              {target.kind === "email" ? target.emails.join(", ") : target.url}
            </td>
            <td className="py-2 text-right whitespace-nowrap">
              {manage && (
                <span className="inline-flex gap-2">
                  <button type="button" className={buttonClass.small} disabled={test.busy} onClick={() => { setResult(null); void test.run(target.id); }}>
                    Send test
                  </button>
                  <button type="button" className={buttonClass.smallDanger} aria-label={`Delete ${target.name}`} onClick={() => void remove.run(target.id)}>
                    Delete
                  </button>
                </span>
              )}
            </td>
          </tr>
        )}
      />
      {adding !== null && (
        <TargetDialog
          kind={adding}
          superadmin={superadmin}
          onSaved={(target) => {
            setAdding(null);
            if (target.secret) setCreated(target);
            void invalidate(alertKeys.targets);
          }}
          onClose={() => { setAdding(null); }}
        />
      )}
      {created !== null && <SecretDialog target={created} onClose={() => { setCreated(null); }} />}
    </Card>
  );
}

function SilencesCard({ manage }: { manage: boolean }) {
  const silences = useAlertSilences();
  const invalidate = useInvalidate();
  const expire = useAction(expireAlertSilence, () => void invalidate(alertKeys.all));
  return (
    <Card title="Silences">
      {expire.error && <Alert tone="danger">{expire.error.message}</Alert>}
      <DataTable
        look="plain"
        columns={["Matches", "Why", "Until", { header: "Actions", srOnly: true }]}
        rows={silences.data}
        loading={silences.isPending}
        testId="alert-silences"
        empty="No silences. Silence a firing alert from the list above while you work on it."
        renderRow={(silence) => (
          <tr key={silence.id} className="border-t border-slate-100 dark:border-slate-800" data-testid="alert-silence">
            <td className="py-2 pr-3">
              <Labels labels={silence.matchers} />
            </td>
            <td className="py-2 pr-3">{silence.comment}</td>
            <td className="py-2 pr-3 text-slate-500" title={describeTimestamp(silence.ends_at).title}>
              {silence.active ? describeTimestamp(silence.ends_at).text : <Badge tone="neutral">ended</Badge>}
            </td>
            <td className="py-2 text-right">
              {manage && silence.active && (
                <button type="button" className={buttonClass.small} onClick={() => void expire.run(silence.id)}>
                  Expire now
                </button>
              )}
            </td>
          </tr>
        )}
      />
    </Card>
  );
}

function HistoryCard() {
  const [offset, setOffset] = useState(0);
  const events = useAlertEvents(offset, HISTORY_PAGE);
  return (
    <Card title="History">
      {events.error && <Alert tone="danger">{events.error.message}</Alert>}
      <DataTable
        look="plain"
        columns={["When", "What", "Alert", "Series", "Value", "Detail"]}
        rows={events.data?.items}
        loading={events.isPending}
        testId="alert-history"
        empty="Nothing has fired yet."
        renderRow={(event) => (
          <tr key={event.id} className="border-t border-slate-100 dark:border-slate-800">
            <td className="py-2 pr-3 whitespace-nowrap text-slate-500" title={describeTimestamp(event.at).title}>
              {since(event.at)}
            </td>
            <td className="py-2 pr-3">
              <Badge tone={EVENT_TONE[event.kind] ?? "neutral"}>{event.kind}</Badge>
            </td>
            <td className="py-2 pr-3">{event.rule_name}</td>
            <td className="py-2 pr-3">
              <Labels labels={event.labels} />
            </td>
            <td className="py-2 pr-3 tabular-nums">{formatValue(event.value)}</td>
            <td className="py-2 text-xs text-slate-500">{event.detail}</td>
          </tr>
        )}
      />
      {events.data && events.data.total > HISTORY_PAGE && (
        <Pagination offset={offset} limit={HISTORY_PAGE} total={events.data.total} shown={events.data.items.length} onChange={setOffset} />
      )}
    </Card>
  );
}

export function AlertsPage() {
  const me = useMe();
  const manage = can(me, "ops.alerts") || me.user.is_superadmin;
  const targets = useAlertTargets();
  const invalidate = useInvalidate();
  const [editing, setEditing] = useState<AlertRule | "new" | null>(null);
  const [silencing, setSilencing] = useState<AlertInstance | null>(null);
  return (
    <>
      <PageHeader title="Alerts" description="Rules on the stored metrics: pending while the condition holds, firing once it held long enough, resolved when it stops." />
      <div className="space-y-6">
        <NowCard manage={manage} onSilence={setSilencing} />
        <RulesCard manage={manage} onEdit={setEditing} targets={targets.data ?? []} />
        <TargetsCard manage={manage} superadmin={me.user.is_superadmin} targets={targets.data} loading={targets.isPending} />
        <SilencesCard manage={manage} />
        <HistoryCard />
      </div>
      {editing !== null && (
        <RuleDialog
          key={editing === "new" ? "new" : editing.id}
          rule={editing === "new" ? null : editing}
          targets={targets.data ?? []}
          superadmin={me.user.is_superadmin}
          onSaved={() => {
            setEditing(null);
            void invalidate(alertKeys.all);
          }}
          onClose={() => { setEditing(null); }}
        />
      )}
      {silencing !== null && (
        <SilenceDialog
          instance={silencing}
          onSaved={() => {
            setSilencing(null);
            void invalidate(alertKeys.all);
          }}
          onClose={() => { setSilencing(null); }}
        />
      )}
    </>
  );
}

/** The alerts page's dialogs: a rule (from a template, the metric picked from the catalog), a target, a silence, a secret shown once. */
import { useState } from "react";

import {
  createAlertRule,
  createAlertSilence,
  createAlertTarget,
  updateAlertRule,
  useAlertMetrics,
  useAlertTemplates,
  type AlertInstance,
  type AlertRule,
  type AlertRuleBase,
  type AlertTarget,
  type AlertTargetCreated,
} from "../../../api/alerts";
import { buttonClass } from "../../../components/Button";
import { Dialog } from "../../../components/Dialog";
import { Alert, Field, inputClass, TextField } from "../../../components/Form";
import { FormDialog } from "../../../components/FormDialog";
import { useAction } from "../../../lib/useAction";
import { formatMatchers } from "./labels";

type Comparator = AlertRuleBase["comparator"];
type Reducer = NonNullable<AlertRuleBase["reducer"]>;
type Severity = NonNullable<AlertRuleBase["severity"]>;

const REDUCERS: { value: Reducer; label: string }[] = [
  { value: "last", label: "latest value" },
  { value: "max", label: "highest in the window" },
  { value: "min", label: "lowest in the window" },
  { value: "avg", label: "average over the window" },
  { value: "increase", label: "increase over the window" },
  { value: "age", label: "age of a timestamp (s)" },
];
const COMPARATORS: Comparator[] = [">", ">=", "<", "<="];
const SEVERITIES: Severity[] = ["info", "warning", "critical"];

/** `key=value` pairs, one per line or comma-separated, as a matchers object. */
function parseMatchers(text: string): Record<string, string> {
  const matchers: Record<string, string> = {};
  for (const part of text.split(/[\n,]/)) {
    const at = part.indexOf("=");
    if (at > 0) matchers[part.slice(0, at).trim()] = part.slice(at + 1).trim();
  }
  return matchers;
}


const selectClass = inputClass;

export function RuleDialog({
  rule,
  targets,
  superadmin,
  onSaved,
  onClose,
}: {
  rule: AlertRule | null;
  targets: AlertTarget[];
  superadmin: boolean;
  onSaved: () => void;
  onClose: () => void;
}) {
  const metrics = useAlertMetrics();
  const templates = useAlertTemplates();
  const [name, setName] = useState(rule?.name ?? "");
  const [metric, setMetric] = useState(rule?.metric ?? "");
  const [matchers, setMatchers] = useState(formatMatchers(rule?.matchers));
  const [reducer, setReducer] = useState<Reducer>(rule?.reducer ?? "last");
  const [windowSeconds, setWindowSeconds] = useState(String(rule?.window_seconds ?? 300));
  const [comparator, setComparator] = useState<Comparator>(rule?.comparator ?? ">");
  const [threshold, setThreshold] = useState(rule === null ? "" : String(rule.threshold));
  const [forSeconds, setForSeconds] = useState(String(rule?.for_seconds ?? 0));
  const [severity, setSeverity] = useState<Severity>(rule?.severity ?? "warning");
  const [noData, setNoData] = useState<"ok" | "alerting">(rule?.no_data ?? "ok");
  const [enabled, setEnabled] = useState(rule?.enabled ?? true);
  const [targetIds, setTargetIds] = useState<string[]>(rule?.target_ids ?? []);
  const [scope, setScope] = useState<"platform" | "tenant">(rule?.scope ?? (superadmin ? "platform" : "tenant"));

  const applyTemplate = (key: string) => {
    const template = templates.data?.find((item) => item.key === key);
    if (!template) return;
    const base = template.rule;
    setName(base.name);
    setMetric(base.metric);
    setMatchers(formatMatchers(base.matchers));
    setReducer(base.reducer);
    setWindowSeconds(String(base.window_seconds));
    setComparator(base.comparator);
    setThreshold(String(base.threshold));
    setForSeconds(String(base.for_seconds));
    setSeverity(base.severity);
    setNoData(base.no_data);
  };

  const chosen = metrics.data?.find((item) => item.name === metric);
  const scopedTargets = targets.filter((target) => target.scope === scope);
  const save = () => {
    const body = {
      name: name.trim(),
      metric,
      matchers: parseMatchers(matchers),
      reducer,
      window_seconds: Number(windowSeconds),
      comparator,
      threshold: Number(threshold),
      for_seconds: Number(forSeconds),
      severity,
      no_data: noData,
      enabled,
      target_ids: targetIds.filter((id) => scopedTargets.some((target) => target.id === id)),
    };
    return rule === null ? createAlertRule({ ...body, scope }) : updateAlertRule(rule.id, body);
  };
  const { run, busy, error } = useAction(save, onSaved);
  const errors = (field: string) => error?.fieldMessages(field) ?? [];

  return (
    <FormDialog
      title={rule === null ? "New alert rule" : `Edit ${rule.name}`}
      label={rule === null ? "New alert rule" : "Edit alert rule"}
      description="The rule is evaluated every 30 seconds; each matching series alerts on its own."
      busy={busy}
      error={error}
      placedFields={["name", "metric", "threshold", "matchers", "for_seconds", "window_seconds"]}
      submitLabel={rule === null ? "Create rule" : "Save"}
      onSubmit={() => void run()}
      onClose={onClose}
    >
      {rule === null && (
        <Field label="Start from a template" optional>
          {(control) => (
            <select {...control} className={selectClass} defaultValue="" onChange={(event) => { applyTemplate(event.target.value); }} data-testid="rule-template">
              <option value="">— choose a template —</option>
              {templates.data?.map((template) => (
                <option key={template.key} value={template.key}>
                  {template.title}: {template.description}
                </option>
              ))}
            </select>
          )}
        </Field>
      )}
      <TextField label="Name" value={name} onChange={setName} required maxLength={100} errors={errors("name")} data-autofocus />
      <Field label="Metric" hint={chosen ? `${chosen.help}${chosen.unit ? ` · unit: ${chosen.unit}` : ""} · labels: ${chosen.labels.join(", ") || "none"}` : "What the rule watches."} errors={errors("metric")}>
        {(control) => (
          <select {...control} className={selectClass} value={metric} required onChange={(event) => { setMetric(event.target.value); }}>
            <option value="">— choose a metric —</option>
            {metrics.data?.map((item) => (
              <option key={item.name} value={item.name}>
                {item.name}
                {item.unit ? ` (${item.unit})` : ""}
              </option>
            ))}
          </select>
        )}
      </Field>
      <TextField
        label="Only series with these labels"
        optional
        hint="key=value, separated by commas (at most 8), e.g. mount=/srv"
        value={matchers}
        onChange={setMatchers}
        maxLength={2000}
        errors={errors("matchers")}
      />
      <div className="grid grid-cols-2 gap-3">
        <Field label="Value of each series">
          {(control) => (
            <select {...control} className={selectClass} value={reducer} onChange={(event) => { setReducer(event.target.value as Reducer); }}>
              {REDUCERS.map((item) => (
                <option key={item.value} value={item.value}>
                  {item.label}
                </option>
              ))}
            </select>
          )}
        </Field>
        <TextField label="Window (seconds)" type="number" min={30} max={86400} value={windowSeconds} onChange={setWindowSeconds} errors={errors("window_seconds")} />
      </div>
      <div className="grid grid-cols-3 gap-3">
        <Field label="Is">
          {(control) => (
            <select {...control} className={selectClass} value={comparator} onChange={(event) => { setComparator(event.target.value as Comparator); }}>
              {COMPARATORS.map((item) => (
                <option key={item} value={item}>
                  {item}
                </option>
              ))}
            </select>
          )}
        </Field>
        <TextField label={`Threshold${chosen?.unit ? ` (${chosen.unit})` : ""}`} type="number" step="any" required value={threshold} onChange={setThreshold} errors={errors("threshold")} />
        <TextField label="For (seconds)" type="number" min={0} max={86400} value={forSeconds} onChange={setForSeconds} errors={errors("for_seconds")} />
      </div>
      <div className="grid grid-cols-2 gap-3">
        <Field label="Severity">
          {(control) => (
            <select {...control} className={selectClass} value={severity} onChange={(event) => { setSeverity(event.target.value as Severity); }}>
              {SEVERITIES.map((item) => (
                <option key={item} value={item}>
                  {item}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="A series that stops reporting is">
          {(control) => (
            <select {...control} className={selectClass} value={noData} onChange={(event) => { setNoData(event.target.value as "ok" | "alerting"); }}>
              <option value="ok">ok</option>
              <option value="alerting">alerting</option>
            </select>
          )}
        </Field>
      </div>
      {superadmin && rule === null && (
        <Field label="Scope" hint="Platform rules see every series; an organization's rules only its own.">
          {(control) => (
            <select {...control} className={selectClass} value={scope} onChange={(event) => { setScope(event.target.value as "platform" | "tenant"); }}>
              <option value="platform">Platform</option>
              <option value="tenant">My organization</option>
            </select>
          )}
        </Field>
      )}
      <label className="flex items-center gap-2 text-sm text-slate-700 dark:text-slate-300">
        <input type="checkbox" checked={enabled} onChange={(event) => { setEnabled(event.target.checked); }} />
        Enabled (a disabled rule is not evaluated)
      </label>
      <fieldset>
        <legend className="mb-1.5 text-sm font-medium text-slate-800 dark:text-slate-200">Notify</legend>
        {scopedTargets.length === 0 ? (
          <p className="text-xs text-slate-500 dark:text-slate-400">No targets yet: add an e-mail or webhook target below, then pick it here. Without one, the alert only shows on this page.</p>
        ) : (
          <div className="flex flex-wrap gap-3">
            {scopedTargets.map((target) => (
              <label key={target.id} className="flex items-center gap-1.5 text-sm text-slate-700 dark:text-slate-300">
                <input
                  type="checkbox"
                  checked={targetIds.includes(target.id)}
                  onChange={(event) => {
                    setTargetIds(event.target.checked ? [...targetIds, target.id] : targetIds.filter((id) => id !== target.id));
                  }}
                />
                {target.name} ({target.kind === "email" ? "e-mail" : "webhook"})
              </label>
            ))}
          </div>
        )}
      </fieldset>
    </FormDialog>
  );
}

export function TargetDialog({ kind, superadmin, onSaved, onClose }: { kind: "email" | "webhook"; superadmin: boolean; onSaved: (created: AlertTargetCreated) => void; onClose: () => void }) {
  const [name, setName] = useState("");
  const [emails, setEmails] = useState("");
  const [url, setUrl] = useState("");
  const [scope, setScope] = useState<"platform" | "tenant">(superadmin ? "platform" : "tenant");
  const save = () =>
    createAlertTarget(
      kind === "email"
        ? { name: name.trim(), kind, emails: emails.split(/[\s,;]+/).filter(Boolean), scope }
        : { name: name.trim(), kind, url: url.trim(), scope },
    );
  const { run, busy, error } = useAction(save, onSaved);
  return (
    <FormDialog
      title={kind === "email" ? "New e-mail target" : "New webhook target"}
      label={kind === "email" ? "New e-mail target" : "New webhook target"}
      size="sm"
      busy={busy}
      error={error}
      submitLabel="Add target"
      onSubmit={() => void run()}
      onClose={onClose}
    >
      <TextField label="Name" value={name} onChange={setName} required maxLength={100} data-autofocus errors={error?.fieldMessages("name") ?? []} />
      {kind === "email" ? (
        <TextField label="Addresses" hint="Separated by commas or spaces (at most 20)." value={emails} onChange={setEmails} required errors={error?.fieldMessages("emails") ?? []} />
      ) : (
        <TextField
          label="URL"
          type="url"
          hint="Receives a POST with JSON, signed in X-Nubes-Signature (http or https; redirects are not followed)."
          value={url}
          onChange={setUrl}
          required
          maxLength={2048}
          errors={error?.fieldMessages("url") ?? []}
        />
      )}
      {superadmin && (
        <Field label="Scope">
          {(control) => (
            <select {...control} className={selectClass} value={scope} onChange={(event) => { setScope(event.target.value as "platform" | "tenant"); }}>
              <option value="platform">Platform</option>
              <option value="tenant">My organization</option>
            </select>
          )}
        </Field>
      )}
    </FormDialog>
  );
}

export function SecretDialog({ target, onClose }: { target: AlertTargetCreated; onClose: () => void }) {
  return (
    <Dialog open title={`Signing secret of ${target.name}`} onClose={onClose} size="sm">
      <div className="space-y-3 text-sm">
        <Alert tone="info">Copy it into the receiver now: it is not shown again. Delete the target and add it again if it is lost.</Alert>
        <code className="block rounded-md bg-slate-100 p-2 font-mono text-xs break-all dark:bg-slate-800" data-testid="webhook-secret">
          {target.secret}
        </code>
        <p className="text-xs text-slate-500 dark:text-slate-400">
          Check each request: <code>X-Nubes-Signature: t=&lt;time&gt;,v1=&lt;hex&gt;</code> where hex is the HMAC-SHA256 of <code>&lt;time&gt;.&lt;body&gt;</code> under this secret.
        </p>
        <div className="flex justify-end">
          <button type="button" className={buttonClass.primary} onClick={onClose}>
            Done
          </button>
        </div>
      </div>
    </Dialog>
  );
}

const DURATIONS = [
  { seconds: 3600, label: "1 hour" },
  { seconds: 4 * 3600, label: "4 hours" },
  { seconds: 86_400, label: "1 day" },
  { seconds: 7 * 86_400, label: "1 week" },
];

export function SilenceDialog({ instance, onSaved, onClose }: { instance: AlertInstance; onSaved: () => void; onClose: () => void }) {
  const [duration, setDuration] = useState(3600);
  const [comment, setComment] = useState("");
  const save = () => createAlertSilence({ rule_id: instance.rule_id, matchers: instance.labels, duration_seconds: duration, comment: comment.trim() });
  const { run, busy, error } = useAction(save, onSaved);
  return (
    <FormDialog
      title={`Silence ${instance.rule_name}`}
      label="New silence"
      description={`Only this series (${formatMatchers(instance.labels) || "no labels"}). It keeps changing state and is recorded, but sends nothing.`}
      size="sm"
      busy={busy}
      error={error}
      submitLabel="Silence"
      onSubmit={() => void run()}
      onClose={onClose}
    >
      <Field label="For">
        {(control) => (
          <select {...control} className={selectClass} value={duration} onChange={(event) => { setDuration(Number(event.target.value)); }}>
            {DURATIONS.map((item) => (
              <option key={item.seconds} value={item.seconds}>
                {item.label}
              </option>
            ))}
          </select>
        )}
      </Field>
      <TextField label="Why" hint="Others see it in the list of silences." value={comment} onChange={setComment} required maxLength={500} data-autofocus errors={error?.fieldMessages("comment") ?? []} />
    </FormDialog>
  );
}

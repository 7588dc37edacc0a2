/** A service's settings for the organization, as a form built from the fields its manifest asks for. Secrets are never shown: a set one can be replaced or cleared. */
import { useState, type SubmitEvent } from "react";

import { updateServiceSettings, type ServiceSettings, type SettingField, type SettingValue } from "../../api/appServices";
import { useServiceSettings } from "../../api/appServicesQueries";
import { useInvalidate } from "../../api/queryClient";
import { appServiceKeys } from "../../api/queryKeys";
import { buttonClass } from "../../components/Button";
import { Skeleton } from "../../components/Card";
import { Alert, Field, inputClass } from "../../components/Form";
import { describeTimestamp } from "../../lib/format";
import { useAction } from "../../lib/useAction";

type Draft = Record<string, string | boolean>;

function draftOf(settings: ServiceSettings): Draft {
  const draft: Draft = {};
  for (const field of settings.fields) {
    if (field.type === "secret") draft[field.key] = "";
    else if (field.type === "boolean") draft[field.key] = settings.values[field.key] === true;
    else draft[field.key] = settings.values[field.key] === null || settings.values[field.key] === undefined ? "" : String(settings.values[field.key]);
  }
  return draft;
}

/** What the draft changes, as the API takes it (a secret left empty is left as it is; an empty number clears it). */
function changes(settings: ServiceSettings, draft: Draft, cleared: Set<string>): Record<string, SettingValue> {
  const values: Record<string, SettingValue> = {};
  for (const field of settings.fields) {
    const value = draft[field.key];
    if (field.type === "secret") {
      if (cleared.has(field.key)) values[field.key] = null;
      else if (typeof value === "string" && value !== "") values[field.key] = value;
    } else if (field.type === "boolean") values[field.key] = value === true;
    else if (field.type === "number") values[field.key] = value === "" ? null : Number(value);
    else values[field.key] = value === "" ? null : String(value);
  }
  return values;
}

function Control({ field, value, secretSet, onChange, control }: {
  field: SettingField;
  value: string | boolean;
  secretSet: boolean;
  onChange: (value: string | boolean) => void;
  control: { id: string; "aria-describedby"?: string; "aria-invalid"?: true };
}) {
  if (field.type === "boolean")
    return (
      <input {...control} type="checkbox" className="size-4 rounded border-slate-300" checked={value === true} onChange={(e) => { onChange(e.target.checked); }} />
    );
  if (field.type === "select")
    return (
      <select {...control} className={inputClass} value={String(value)} onChange={(e) => { onChange(e.target.value); }}>
        {!field.required && <option value="">—</option>}
        {(field.options ?? []).map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
    );
  return (
    <input
      {...control}
      className={inputClass}
      type={field.type === "number" ? "number" : field.type === "secret" ? "password" : "text"}
      autoComplete={field.type === "secret" ? "new-password" : "off"}
      placeholder={field.type === "secret" && secretSet ? "•••••• (set)" : undefined}
      min={field.type === "number" ? (field.min ?? undefined) : undefined}
      max={field.type === "number" ? (field.max ?? undefined) : undefined}
      step={field.type === "number" ? "any" : undefined}
      maxLength={field.type !== "number" && field.max !== null && field.max !== undefined ? field.max : undefined}
      value={String(value)}
      onChange={(e) => { onChange(e.target.value); }}
    />
  );
}

function SettingsFields({ serviceId, settings }: { serviceId: string; settings: ServiceSettings }) {
  const [draft, setDraft] = useState<Draft>(() => draftOf(settings));
  const [cleared, setCleared] = useState<Set<string>>(new Set());
  const [saved, setSaved] = useState(false);
  const invalidate = useInvalidate();
  const { run, busy, error } = useAction(
    () => updateServiceSettings(serviceId, changes(settings, draft, cleared)),
    (next) => {
      setDraft(draftOf(next));
      setCleared(new Set());
      setSaved(true);
      void invalidate(appServiceKeys.settings(serviceId));
    },
  );
  const submit = async (event: SubmitEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    setSaved(false);
    await run();
  };
  const updated = describeTimestamp(settings.updated_at);
  return (
    <form className="space-y-4" aria-label="Settings" onSubmit={(event) => void submit(event)}>
      {error !== null && <Alert tone="danger">{error.message}</Alert>}
      {saved && error === null && <Alert tone="success">Saved. The service reads its new settings from now on.</Alert>}
      <div className="grid gap-4 sm:grid-cols-2">
        {settings.fields.map((field) => {
          const secretSet = field.type === "secret" && settings.secrets_set[field.key] === true && !cleared.has(field.key);
          return (
            <Field
              key={field.key}
              label={field.label}
              optional={!field.required}
              hint={field.help || (field.type === "secret" ? (secretSet ? "Set. It is never shown again." : "Not set.") : undefined)}
              errors={error?.fieldMessages(field.key) ?? []}
            >
              {(control) => (
                <div className="flex items-center gap-2 [&>input:not([type=checkbox])]:min-w-0 [&>input:not([type=checkbox])]:flex-1">
                  <Control
                    field={field}
                    value={draft[field.key] ?? ""}
                    secretSet={secretSet}
                    control={control}
                    onChange={(value) => {
                      setDraft({ ...draft, [field.key]: value });
                    }}
                  />
                  {secretSet && (
                    <button
                      type="button"
                      className={buttonClass.small}
                      onClick={() => {
                        setCleared(new Set([...cleared, field.key]));
                      }}
                    >
                      Clear
                    </button>
                  )}
                </div>
              )}
            </Field>
          );
        })}
      </div>
      <div className="flex items-center justify-between gap-3">
        <span className="text-xs text-slate-500 dark:text-slate-400" title={updated.title}>
          {settings.updated_at ? `Last saved ${updated.text}` : "Never saved: the service uses its defaults."}
        </span>
        <button type="submit" className={buttonClass.primary} disabled={busy}>
          {busy ? "Saving…" : "Save settings"}
        </button>
      </div>
    </form>
  );
}

export function ServiceSettingsForm({ serviceId }: { serviceId: string }) {
  const settings = useServiceSettings(serviceId);
  if (settings.error !== null) return <Alert tone="danger">{settings.error.message}</Alert>;
  if (settings.data === undefined) return <Skeleton className="h-24 w-full" />;
  if (settings.data.fields.length === 0) return <p className="text-sm text-slate-500 dark:text-slate-400">This service has no settings.</p>;
  return <SettingsFields serviceId={serviceId} settings={settings.data} />;
}

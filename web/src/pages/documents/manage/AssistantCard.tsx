/**
 * Manage: the AI assistant (ai.manage: the `ai-service-admin` group) — an optional OpenAI-compatible provider that
 * suggests a document's type, correspondent and tags among the organization's own terms once its text is read. On
 * or off, its URL and model, the API key (write-only: set, replace or remove; never shown), the system prompt (with
 * "Reset to default"), how much text is sent, "Test connection" with what happened, and how its work stands.
 */
import { useQueryClient } from "@tanstack/react-query";
import { useState, type SubmitEvent } from "react";

import { assistantKey, testAssistant, updateAssistant, useAssistant, type AssistantSettings, type ConnectionTest } from "../../../api/documentsAssistant";
import { can, useMe } from "../../../auth/session";
import { Badge } from "../../../components/Badge";
import { buttonClass } from "../../../components/Button";
import { Card, Skeleton } from "../../../components/Card";
import { Alert, Field, inputClass } from "../../../components/Form";
import { useAction } from "../../../lib/useAction";

type KeyChange = "keep" | "set" | "remove";

interface Draft {
  enabled: boolean;
  baseUrl: string;
  model: string;
  key: KeyChange;
  newKey: string;
  prompt: string;
  maxChars: string;
  timeout: string;
}

function draftOf(settings: AssistantSettings): Draft {
  return {
    enabled: settings.enabled,
    baseUrl: settings.base_url,
    model: settings.model,
    key: "keep",
    newKey: "",
    prompt: settings.system_prompt,
    maxChars: String(settings.max_chars),
    timeout: String(settings.timeout_seconds),
  };
}

function KeyField({ settings, draft, edit, errors }: { settings: AssistantSettings; draft: Draft; edit: (change: Partial<Draft>) => void; errors: string[] }) {
  const entering = draft.key === "set" || !settings.key_set;
  return (
    <Field
      label="API key"
      optional
      hint="Write-only: stored encrypted and never shown again. A local server (Ollama, vLLM) may need none."
      errors={errors}
    >
      {(control) => (
        <div className="flex flex-wrap items-center gap-2" data-testid="assistant-key" data-key-set={settings.key_set}>
          {settings.key_set && draft.key === "keep" && <Badge tone="success">Key set</Badge>}
          {draft.key === "remove" && <Badge tone="warning">Removed when you save</Badge>}
          {entering && draft.key !== "remove" && (
            <input
              {...control}
              type="password"
              autoComplete="off"
              spellCheck={false}
              className={`${inputClass} min-w-0 flex-1`}
              placeholder={settings.key_set ? "New key" : "Not set"}
              value={draft.newKey}
              onChange={(event) => {
                edit({ key: "set", newKey: event.target.value });
              }}
            />
          )}
          {settings.key_set && draft.key === "keep" && (
            <>
              <button type="button" className={buttonClass.small} onClick={() => { edit({ key: "set", newKey: "" }); }}>
                Replace
              </button>
              <button type="button" className={buttonClass.smallDanger} onClick={() => { edit({ key: "remove", newKey: "" }); }}>
                Remove
              </button>
            </>
          )}
          {settings.key_set && draft.key !== "keep" && (
            <button type="button" className={buttonClass.small} onClick={() => { edit({ key: "keep", newKey: "" }); }}>
              Keep the current key
            </button>
          )}
        </div>
      )}
    </Field>
  );
}

function Activity({ settings }: { settings: AssistantSettings }) {
  const jobs = settings.jobs;
  if (jobs.pending + jobs.done + jobs.failed === 0) return null;
  return (
    <div className="space-y-1 text-xs text-slate-600 dark:text-slate-400" data-testid="assistant-jobs">
      <p>
        Documents asked about: {jobs.done} answered · {jobs.pending} waiting · {jobs.failed} failed
      </p>
      {jobs.last_error !== null && <p className="text-rose-700 dark:text-rose-300">Last problem: {jobs.last_error}</p>}
    </div>
  );
}

function AssistantForm({ settings }: { settings: AssistantSettings }) {
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState(() => draftOf(settings));
  const [dirty, setDirty] = useState(false);
  const [saved, setSaved] = useState(false);
  const save = useAction(
    () =>
      updateAssistant({
        enabled: draft.enabled,
        base_url: draft.baseUrl.trim(),
        model: draft.model.trim(),
        ...(draft.key === "set" && draft.newKey !== "" ? { api_key: draft.newKey } : {}),
        remove_api_key: draft.key === "remove",
        system_prompt: draft.prompt.trim() === settings.default_prompt ? "" : draft.prompt,
        max_chars: Number(draft.maxChars),
        timeout_seconds: Number(draft.timeout),
      }),
    (result) => {
      queryClient.setQueryData(assistantKey, result);
      setDraft(draftOf(result));
      setDirty(false);
      setSaved(true);
    },
  );
  const [result, setResult] = useState<ConnectionTest | null>(null);
  const test = useAction(testAssistant, setResult);
  const edit = (change: Partial<Draft>): void => {
    setSaved(false);
    setDirty(true);
    setDraft((current) => ({ ...current, ...change }));
  };
  const submit = (event: SubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    void save.run();
  };
  const errorFor = (field: string): string[] => save.error?.fieldMessages(field) ?? [];
  const fields = ["base_url", "model", "api_key", "system_prompt", "max_chars", "timeout_seconds"];
  const placed = fields.some((field) => errorFor(field).length > 0);

  return (
    <form className="space-y-4" aria-label="AI assistant" onSubmit={submit}>
      <label className="flex items-center gap-2 text-sm font-medium text-slate-800 dark:text-slate-200">
        <input type="checkbox" className="size-4 accent-sky-600" checked={draft.enabled} onChange={(event) => { edit({ enabled: event.target.checked }); }} />
        Suggest types, correspondents and tags with the AI provider
      </label>
      <div className="grid gap-4 sm:grid-cols-2">
        <Field
          label="Provider URL"
          hint={
            settings.allow_private_urls
              ? "OpenAI-compatible base URL, e.g. https://api.openai.com/v1 or http://127.0.0.1:11434/v1."
              : "OpenAI-compatible base URL, e.g. https://api.openai.com/v1. This server refuses private and local addresses."
          }
          errors={errorFor("base_url")}
        >
          {(control) => <input {...control} type="url" className={inputClass} value={draft.baseUrl} placeholder="https://api.openai.com/v1" onChange={(event) => { edit({ baseUrl: event.target.value }); }} />}
        </Field>
        <Field label="Model" errors={errorFor("model")}>
          {(control) => <input {...control} className={inputClass} value={draft.model} placeholder="gpt-4o-mini" onChange={(event) => { edit({ model: event.target.value }); }} />}
        </Field>
      </div>
      <KeyField settings={settings} draft={draft} edit={edit} errors={errorFor("api_key")} />
      <Field
        label="System prompt"
        hint={<>Nubes adds the answer format and the organization's terms; only those terms can be suggested.{draft.prompt === settings.default_prompt ? " This is the default." : ""}</>}
        errors={errorFor("system_prompt")}
      >
        {(control) => (
          <div className="space-y-1.5">
            <textarea {...control} rows={5} className={inputClass} value={draft.prompt} onChange={(event) => { edit({ prompt: event.target.value }); }} />
            <button type="button" className={buttonClass.small} disabled={draft.prompt === settings.default_prompt} onClick={() => { edit({ prompt: settings.default_prompt }); }}>
              Reset to default
            </button>
          </div>
        )}
      </Field>
      <div className="grid gap-4 sm:grid-cols-2">
        <Field label="Text sent per document (characters)" hint="Its beginning, 500 to 100,000." errors={errorFor("max_chars")}>
          {(control) => <input {...control} type="number" min={500} max={100000} step={500} className={inputClass} value={draft.maxChars} onChange={(event) => { edit({ maxChars: event.target.value }); }} />}
        </Field>
        <Field label="Answer timeout (seconds)" hint="5 to 300; a slow answer is retried later." errors={errorFor("timeout_seconds")}>
          {(control) => <input {...control} type="number" min={5} max={300} className={inputClass} value={draft.timeout} onChange={(event) => { edit({ timeout: event.target.value }); }} />}
        </Field>
      </div>
      {save.error !== null && !placed && <Alert tone="danger">{save.error.message}</Alert>}
      {saved && save.error === null && <Alert tone="success">Saved the AI assistant's settings.</Alert>}
      {result !== null && !test.busy && (
        <Alert tone={result.ok ? "success" : "danger"} testId="assistant-test-result">
          {result.detail}
          {result.status !== null && !result.ok ? ` (HTTP ${result.status})` : ""} · {result.elapsed_ms} ms
        </Alert>
      )}
      {test.error !== null && <Alert tone="danger">{test.error.message}</Alert>}
      <div className="flex flex-wrap items-center gap-2">
        <button type="submit" className={buttonClass.primary} disabled={save.busy}>
          {save.busy ? "Saving…" : "Save"}
        </button>
        <button type="button" className={buttonClass.secondary} disabled={test.busy || settings.base_url === ""} onClick={() => void test.run()}>
          {test.busy ? "Testing…" : "Test connection"}
        </button>
        {dirty && <span className="text-xs text-slate-500 dark:text-slate-400">The test uses the saved settings: save first.</span>}
      </div>
      <Activity settings={settings} />
    </form>
  );
}

/** The card, for those who may manage the assistant (nothing for anyone else). */
export function AssistantCard() {
  const me = useMe();
  const allowed = can(me, "ai.manage");
  const settings = useAssistant(allowed);
  if (!allowed) return null;
  return (
    <Card title="AI assistant" className="lg:col-span-2">
      <p className="-mt-2 mb-3 text-xs text-slate-500 dark:text-slate-400">
        Optional. Once a document's text is read, an OpenAI-compatible provider proposes its type, correspondent and tags among your organization's terms; people
        accept or reject each suggestion. The classifier and matching rules work without it, on this server.
      </p>
      {settings.error !== null && <Alert tone="danger">{settings.error.message}</Alert>}
      {settings.data === undefined ? settings.isFetching && <Skeleton className="h-40 w-full" /> : <AssistantForm settings={settings.data} />}
    </Card>
  );
}

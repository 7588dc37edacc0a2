/**
 * Manage: the organization's document settings — the largest upload (MB, 0: no limit of its own), the file types
 * allowed (extensions; none: any) and the languages scans are read in (of those this server has installed).
 */
import { useState, type SubmitEvent } from "react";

import { updateDocumentSettings, type DocumentSettings } from "../../../api/documents";
import { useDocumentSettings } from "../../../api/documentsQueries";
import { buttonClass } from "../../../components/Button";
import { Card, Skeleton } from "../../../components/Card";
import { Alert, Field, inputClass } from "../../../components/Form";
import { useAction } from "../../../lib/useAction";

const MB = 1024 * 1024;

interface Draft {
  maxMb: string;
  types: string;
  languages: string[];
}

function draftOf(settings: DocumentSettings): Draft {
  return {
    maxMb: settings.max_upload_bytes === 0 ? "0" : String(Math.round((settings.max_upload_bytes / MB) * 100) / 100),
    types: settings.allowed_types.join(", "),
    languages: settings.ocr_languages.split("+").filter((language) => language !== ""),
  };
}

function SettingsForm({ settings }: { settings: DocumentSettings }) {
  const [draft, setDraft] = useState(() => draftOf(settings));
  const [saved, setSaved] = useState(false);
  const save = useAction(
    () =>
      updateDocumentSettings({
        max_upload_bytes: Math.round(Number(draft.maxMb || "0") * MB),
        allowed_types: draft.types.split(",").map((type) => type.trim().replace(/^\./, "").toLowerCase()).filter((type) => type !== ""),
        ocr_languages: draft.languages.join("+"),
      }),
    (result) => {
      setDraft(draftOf(result));
      setSaved(true);
    },
  );
  const edit = (change: Partial<Draft>): void => {
    setSaved(false);
    setDraft((current) => ({ ...current, ...change }));
  };
  const submit = (event: SubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    void save.run();
  };
  const errorFor = (field: string): string[] => save.error?.fieldMessages(field) ?? [];
  const placed = ["max_upload_bytes", "allowed_types", "ocr_languages"].some((field) => errorFor(field).length > 0);

  return (
    <form className="space-y-4" aria-label="Document settings" onSubmit={submit}>
      <div className="grid gap-4 sm:grid-cols-2">
        <Field label="Largest upload (MB)" hint="0: no limit of its own (the server's still applies)." errors={errorFor("max_upload_bytes")}>
          {(control) => <input {...control} type="number" min={0} step="any" inputMode="decimal" className={inputClass} value={draft.maxMb} onChange={(event) => { edit({ maxMb: event.target.value }); }} />}
        </Field>
        <Field label="Allowed file types" hint="Extensions, separated by commas (pdf, png, jpg); empty: any." errors={errorFor("allowed_types")}>
          {(control) => <input {...control} className={inputClass} value={draft.types} placeholder="pdf, png, jpg" onChange={(event) => { edit({ types: event.target.value }); }} />}
        </Field>
      </div>
      <fieldset>
        <legend className="mb-1.5 text-sm font-medium text-slate-800 dark:text-slate-200">Languages of scans</legend>
        <div className="flex flex-wrap gap-x-4 gap-y-2">
          {settings.installed_languages.map((language) => (
            <label key={language} className="flex items-center gap-2 text-sm text-slate-700 dark:text-slate-300">
              <input
                type="checkbox"
                className="size-4 accent-sky-600"
                checked={draft.languages.includes(language)}
                onChange={(event) => {
                  edit({ languages: event.target.checked ? [...draft.languages, language] : draft.languages.filter((item) => item !== language) });
                }}
              />
              <code>{language}</code>
            </label>
          ))}
          {settings.installed_languages.length === 0 && <p className="text-sm text-slate-500 dark:text-slate-400">This server has no OCR languages installed.</p>}
        </div>
        {errorFor("ocr_languages").map((message) => (
          <p key={message} className="mt-1.5 text-xs font-medium text-rose-700 dark:text-rose-300">
            {message}
          </p>
        ))}
      </fieldset>
      {save.error !== null && !placed && <Alert tone="danger">{save.error.message}</Alert>}
      {saved && save.error === null && <Alert tone="success">Saved the document settings.</Alert>}
      <button type="submit" className={buttonClass.primary} disabled={save.busy}>
        {save.busy ? "Saving…" : "Save settings"}
      </button>
    </form>
  );
}

export function SettingsCard() {
  const settings = useDocumentSettings();
  return (
    <Card title="Settings" className="lg:col-span-2">
      <p className="-mt-2 mb-3 text-xs text-slate-500 dark:text-slate-400">What may be uploaded into Documents, and which languages scans are read in.</p>
      {settings.error !== null && <Alert tone="danger">{settings.error.message}</Alert>}
      {settings.data === undefined ? settings.isFetching && <Skeleton className="h-24 w-full" /> : <SettingsForm settings={settings.data} />}
    </Card>
  );
}

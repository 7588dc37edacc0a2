/**
 * The document panel's custom fields: each field the document carries with an editor for its type (a date picker,
 * a number, money with its currency, a checkbox, a select, a URL that opens in a new tab, a document picker that
 * searches by title), and "Add field". Every change sends the document's whole set of values; the server checks
 * each value and says which field is wrong and why. The form keeps its own draft after a save (a save under way never
 * takes back what was typed meanwhile); the panel shows the server's forms when it opens again.
 */
import { useQuery } from "@tanstack/react-query";
import { useRef, useState, type KeyboardEvent } from "react";
import { Link } from "react-router";

import { useCustomFields, type CustomField, type CustomFieldSet, type CustomFieldValue } from "../../api/documentFields";
import { listDocuments, updateDocument, type Document } from "../../api/documents";
import { asApiError } from "../../api/queryClient";
import { documentsKeys } from "../../api/queryKeys";
import { buttonClass } from "../../components/Button";
import { Alert, inputClass } from "../../components/Form";
import { useAction } from "../../lib/useAction";

/** One carried field as the form holds it: the text of its input (an amount for money), a currency, a checkbox. */
interface Entry {
  fieldId: string;
  name: string;
  type: CustomFieldValue["data_type"];
  raw: string;
  currency: string;
  flag: boolean | null;
  /** A document link's target as last read: its title, or null when it is gone. */
  linkTitle: string | null;
}

const CURRENCIES = ["EUR", "USD", "GBP", "CHF", "JPY", "CAD", "AUD", "SEK", "NOK", "DKK", "PLN", "CZK", "CNY", "INR"];

function entryOf(value: CustomFieldValue): Entry {
  const entry: Entry = { fieldId: value.field_id, name: value.name, type: value.data_type, raw: "", currency: "EUR", flag: null, linkTitle: null };
  const stored = value.value;
  if (stored !== null && typeof stored === "object") {
    entry.raw = stored.amount;
    entry.currency = stored.currency;
  } else if (typeof stored === "boolean") entry.flag = stored;
  else if (stored !== null) entry.raw = String(stored);
  if (value.link) entry.linkTitle = value.link.gone ? null : (value.link.title ?? null);
  return entry;
}

/** The value the server takes for an entry (null: carried without a value). */
function valueOf(entry: Entry): CustomFieldSet["value"] {
  const raw = entry.raw.trim();
  if (entry.type === "boolean") return entry.flag;
  if (raw === "") return null;
  if (entry.type === "number") return Number(raw);
  if (entry.type === "monetary") return { amount: raw, currency: entry.currency };
  return raw;
}

function blurOnEnter(event: KeyboardEvent<HTMLInputElement>): void {
  if (event.key === "Enter") event.currentTarget.blur();
}

function isWebUrl(text: string): boolean {
  return /^https?:\/\/\S+$/i.test(text.trim());
}

/** Search documents by title and pick one (the list's search, over yours and those shared with you). */
function DocumentPicker({ label, exclude, onPick }: { label: string; exclude: string; onPick: (document: Document) => void }) {
  const [words, setWords] = useState("");
  const query = { q: words.trim(), scope: "all" as const, sort: "title" as const, limit: 8, offset: 0 };
  const found = useQuery({
    queryKey: documentsKeys.list(query),
    queryFn: () => asApiError(listDocuments(query)),
    enabled: query.q !== "",
  });
  const results = (found.data?.items ?? []).filter((document) => document.id !== exclude);
  return (
    <div className="space-y-1">
      <input type="search" className={inputClass} placeholder="Search documents by title…" aria-label={label} value={words} onChange={(event) => { setWords(event.target.value); }} />
      {query.q !== "" && (
        <ul className="max-h-40 overflow-y-auto rounded-lg border border-slate-200 text-sm dark:border-slate-700" aria-label={`${label}: results`}>
          {results.map((document) => (
            <li key={document.id}>
              <button type="button" className="block w-full truncate px-3 py-1.5 text-left hover:bg-slate-100 dark:hover:bg-slate-800" onClick={() => { onPick(document); setWords(""); }}>
                {document.title}
              </button>
            </li>
          ))}
          {found.data !== undefined && results.length === 0 && <li className="px-3 py-1.5 text-slate-500 dark:text-slate-400">No document matches.</li>}
        </ul>
      )}
    </div>
  );
}

export function DocumentCustomFields({
  document,
  canEdit,
  canManage,
  onSaved,
}: {
  document: Document;
  canEdit: boolean;
  canManage: boolean;
  onSaved: (saved: Document) => void;
}) {
  const fields = useCustomFields();
  const [entries, setEntries] = useState<Entry[]>(() => (document.custom_fields ?? []).map(entryOf));
  const [adding, setAdding] = useState("");
  const save = useAction((next: Entry[]) => updateDocument(document.id, { custom_fields: next.map((entry) => ({ field_id: entry.fieldId, value: valueOf(entry) })) }), onSaved);
  const definitions = new Map((fields.data ?? []).map((field) => [field.id, field]));
  const addable = (fields.data ?? []).filter((field) => !entries.some((entry) => entry.fieldId === field.id));

  const edit = (fieldId: string, change: Partial<Entry>): Entry[] => {
    const next = entries.map((entry) => (entry.fieldId === fieldId ? { ...entry, ...change } : entry));
    setEntries(next);
    return next;
  };
  // One save at a time, always of the latest set: two in flight could land in either order and undo each other.
  const latest = useRef<Entry[] | null>(null);
  const saving = useRef(false);
  const commit = (next: Entry[]): void => {
    latest.current = next;
    if (saving.current) return;
    saving.current = true;
    void (async () => {
      while (latest.current !== null) {
        const sending = latest.current;
        latest.current = null;
        await save.run(sending);
      }
      saving.current = false;
    })();
  };
  const add = (field: CustomField): void => {
    const entry: Entry = { fieldId: field.id, name: field.name, type: field.data_type, raw: "", currency: "EUR", flag: field.data_type === "boolean" ? false : null, linkTitle: null };
    const next = [...entries, entry].sort((a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: "base" }));
    setEntries(next);
    setAdding("");
    commit(next);
  };

  const editor = (entry: Entry) => {
    const id = `custom-field-${entry.fieldId}`;
    const common = { id, disabled: !canEdit, className: inputClass };
    const saveOnBlur = { onKeyDown: blurOnEnter, onBlur: () => { commit(entries); } };
    switch (entry.type) {
      case "number":
        return <input {...common} {...saveOnBlur} type="number" step="any" inputMode="decimal" value={entry.raw} onChange={(event) => edit(entry.fieldId, { raw: event.target.value })} />;
      case "date":
        return <input {...common} type="date" value={entry.raw} onChange={(event) => { commit(edit(entry.fieldId, { raw: event.target.value })); }} />;
      case "boolean":
        return (
          <input
            id={id}
            type="checkbox"
            className="size-4 rounded border-slate-300 text-sky-600"
            disabled={!canEdit}
            checked={entry.flag === true}
            onChange={(event) => { commit(edit(entry.fieldId, { flag: event.target.checked })); }}
          />
        );
      case "monetary":
        return (
          <div className="flex gap-2">
            <input {...common} {...saveOnBlur} inputMode="decimal" placeholder="0.00" value={entry.raw} onChange={(event) => edit(entry.fieldId, { raw: event.target.value })} />
            <select
              className={`${inputClass} w-24`}
              aria-label={`${entry.name}: currency`}
              disabled={!canEdit}
              value={entry.currency}
              onChange={(event) => { const next = edit(entry.fieldId, { currency: event.target.value }); if (entry.raw.trim() !== "") commit(next); }}
            >
              {[...new Set([entry.currency, ...CURRENCIES])].map((code) => (
                <option key={code} value={code}>
                  {code}
                </option>
              ))}
            </select>
          </div>
        );
      case "select":
        return (
          <select {...common} value={entry.raw} onChange={(event) => { commit(edit(entry.fieldId, { raw: event.target.value })); }}>
            <option value="">No value</option>
            {(definitions.get(entry.fieldId)?.options ?? []).map((option) => (
              <option key={option.id} value={option.id}>
                {option.label}
              </option>
            ))}
          </select>
        );
      case "url":
        return (
          <div className="flex items-center gap-2">
            <input {...common} {...saveOnBlur} type="url" maxLength={2048} placeholder="https://…" value={entry.raw} onChange={(event) => edit(entry.fieldId, { raw: event.target.value })} />
            {isWebUrl(entry.raw) && (
              <a className={buttonClass.small} href={entry.raw.trim()} target="_blank" rel="noopener noreferrer" aria-label={`Open ${entry.name} in a new tab`}>
                Open
              </a>
            )}
          </div>
        );
      case "document_link":
        return (
          <div className="space-y-1">
            {entry.raw !== "" &&
              (entry.linkTitle !== null ? (
                <Link to={`/documents?doc=${entry.raw}`} className="block truncate text-sm font-medium text-sky-700 hover:underline dark:text-sky-400" data-testid="custom-field-link">
                  {entry.linkTitle}
                </Link>
              ) : (
                <span className="block text-sm text-slate-500 italic dark:text-slate-400" data-testid="custom-field-link">
                  The linked document is gone.
                </span>
              ))}
            {canEdit && <DocumentPicker label={`${entry.name}: find a document`} exclude={document.id} onPick={(target) => { commit(edit(entry.fieldId, { raw: target.id, linkTitle: target.title })); }} />}
          </div>
        );
      default:
        return <input {...common} {...saveOnBlur} maxLength={5000} value={entry.raw} onChange={(event) => edit(entry.fieldId, { raw: event.target.value })} />;
    }
  };

  return (
    <section className="space-y-3 border-t border-slate-200 pt-4 dark:border-slate-800" aria-label="Custom fields" data-testid="custom-fields">
      <h3 className="text-sm font-semibold text-slate-900 dark:text-white">Custom fields</h3>
      {entries.length === 0 && <p className="text-xs text-slate-500 dark:text-slate-400">This document carries no custom fields.</p>}
      {entries.map((entry) => (
        <div key={entry.fieldId} className="space-y-1" data-testid="custom-field" data-name={entry.name}>
          <div className="flex items-center justify-between gap-2">
            <label htmlFor={`custom-field-${entry.fieldId}`} className="text-sm font-medium text-slate-700 dark:text-slate-200">
              {entry.name}
            </label>
            {canEdit && (
              <button
                type="button"
                className="rounded px-1 text-xs text-slate-500 hover:text-rose-700 dark:text-slate-400"
                aria-label={`Remove the field ${entry.name}`}
                onClick={() => { commit(entries.filter((other) => other.fieldId !== entry.fieldId)); }}
              >
                Remove
              </button>
            )}
          </div>
          {editor(entry)}
        </div>
      ))}
      {canEdit && addable.length > 0 && (
        <div className="flex items-center gap-2">
          <select className={inputClass} aria-label="Field to add" value={adding} onChange={(event) => { setAdding(event.target.value); }}>
            <option value="">Choose a field…</option>
            {addable.map((field) => (
              <option key={field.id} value={field.id}>
                {field.name}
              </option>
            ))}
          </select>
          <button
            type="button"
            className={buttonClass.small}
            disabled={adding === "" || save.busy}
            onClick={() => {
              const field = definitions.get(adding);
              if (field !== undefined) add(field);
            }}
          >
            Add field
          </button>
        </div>
      )}
      {canEdit && fields.data?.length === 0 && (
        <p className="text-xs text-slate-500 dark:text-slate-400">
          No custom fields yet
          {canManage ? (
            <>
              :{" "}
              <Link to="/documents/manage" className="text-sky-700 hover:underline dark:text-sky-400">
                define some in Manage
              </Link>
              .
            </>
          ) : (
            ": someone who manages documents defines them."
          )}
        </p>
      )}
      {save.error !== null && <Alert tone="danger">{save.error.message}</Alert>}
    </section>
  );
}

/**
 * The list's filter by a custom field: the "Field" menu over the list (choose a field, then a value editor fitting
 * its type: an option of a select, yes or no, a range of numbers, dates or amounts, a text or a URL as it is, or any
 * value), and the words of its chip. The filter lives in the URL like the others (useDocumentsLocation).
 */
import { useState, type SubmitEvent } from "react";

import { fieldTypeLabel, useCustomFields, type CustomField } from "../../api/documentFields";
import { buttonClass } from "../../components/Button";
import { inputClass } from "../../components/Form";
import { RANGED } from "./fieldFilterText";
import type { DocumentsLocation, FieldFilter } from "./useDocumentsLocation";

/** The form of one field's filter; `initial` when it edits the current one. */
function FieldForm({ fields, initial, onApply }: { fields: readonly CustomField[]; initial: FieldFilter | null; onApply: (filter: FieldFilter) => void }) {
  const known = initial !== null && fields.some((field) => field.id === initial.id) ? initial : null;
  const [fieldId, setFieldId] = useState(known?.id ?? fields[0]?.id ?? "");
  const [value, setValue] = useState(known?.value ?? "");
  const [min, setMin] = useState(known?.min ?? "");
  const [max, setMax] = useState(known?.max ?? "");
  const field = fields.find((item) => item.id === fieldId);
  const kind = field?.data_type;
  const inputType = kind === "date" ? "date" : kind === "number" ? "number" : "text";

  const choose = (id: string): void => {
    setFieldId(id);
    setValue("");
    setMin("");
    setMax("");
  };
  const submit = (event: SubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    if (field === undefined) return;
    const ranged = RANGED.has(field.data_type);
    const trimmed = (text: string): string | null => (text.trim() === "" ? null : text.trim());
    onApply({
      id: field.id,
      value: ranged ? null : trimmed(value),
      min: ranged ? trimmed(min) : null,
      max: ranged ? trimmed(max) : null,
    });
  };

  return (
    <form className="space-y-3" onSubmit={submit} aria-label="Filter by a custom field">
      <label className="block text-xs font-medium text-slate-700 dark:text-slate-300">
        Field
        <select className={`${inputClass} mt-1`} value={fieldId} onChange={(event) => { choose(event.target.value); }}>
          {fields.map((item) => (
            <option key={item.id} value={item.id}>
              {item.name} ({fieldTypeLabel(item.data_type)})
            </option>
          ))}
        </select>
      </label>
      {field !== undefined && kind === "select" && (
        <label className="block text-xs font-medium text-slate-700 dark:text-slate-300">
          Is
          <select className={`${inputClass} mt-1`} value={value} onChange={(event) => { setValue(event.target.value); }}>
            <option value="">Any option</option>
            {field.options.map((option) => (
              <option key={option.id} value={option.id}>
                {option.label}
              </option>
            ))}
          </select>
        </label>
      )}
      {kind === "boolean" && (
        <fieldset className="text-xs font-medium text-slate-700 dark:text-slate-300">
          <legend>Is</legend>
          <div className="mt-1 flex gap-4 font-normal">
            {[["", "Any"], ["true", "Yes"], ["false", "No"]].map(([choice, label]) => (
              <label key={choice} className="flex items-center gap-1.5 text-sm">
                <input type="radio" name="field-filter-flag" className="accent-sky-600" checked={value === choice} onChange={() => { setValue(choice ?? ""); }} />
                {label}
              </label>
            ))}
          </div>
        </fieldset>
      )}
      {kind !== undefined && RANGED.has(kind) && (
        <div className="grid grid-cols-2 gap-2">
          <label className="block text-xs font-medium text-slate-700 dark:text-slate-300">
            {kind === "date" ? "From" : "At least"}
            <input type={inputType} step="any" className={`${inputClass} mt-1`} value={min} onChange={(event) => { setMin(event.target.value); }} placeholder={kind === "monetary" ? "10.00" : undefined} />
          </label>
          <label className="block text-xs font-medium text-slate-700 dark:text-slate-300">
            {kind === "date" ? "To" : "At most"}
            <input type={inputType} step="any" className={`${inputClass} mt-1`} value={max} onChange={(event) => { setMax(event.target.value); }} placeholder={kind === "monetary" ? "100.00" : undefined} />
          </label>
        </div>
      )}
      {(kind === "text" || kind === "url") && (
        <label className="block text-xs font-medium text-slate-700 dark:text-slate-300">
          Is exactly
          <input type="text" className={`${inputClass} mt-1`} value={value} maxLength={2048} placeholder="Any value" onChange={(event) => { setValue(event.target.value); }} />
        </label>
      )}
      {kind === "document_link" && <p className="text-xs text-slate-500 dark:text-slate-400">Documents that link to any document in this field.</p>}
      <p className="text-xs text-slate-500 dark:text-slate-400">Leave the value empty for every document carrying the field.</p>
      <div className="flex justify-end">
        <button type="submit" className={buttonClass.small} disabled={field === undefined}>
          Apply
        </button>
      </div>
    </form>
  );
}

/** "Field": a menu to filter the list by a custom field (shown when the organization has any). */
export function FieldFilterMenu({ location }: { location: DocumentsLocation }) {
  const fields = useCustomFields();
  const [open, setOpen] = useState(false);
  if (fields.data === undefined || fields.data.length === 0) return null;
  const list = fields.data;
  return (
    <details className="relative" open={open} onToggle={(event) => { setOpen(event.currentTarget.open); }}>
      <summary className={`${buttonClass.small} cursor-pointer list-none`} data-testid="field-filter-button">
        + Field
      </summary>
      <div className="absolute left-0 z-20 mt-1 w-72 rounded-lg border border-slate-200 bg-white p-3 text-sm shadow-lg dark:border-slate-700 dark:bg-slate-900">
        {open && (
          <FieldForm
            fields={list}
            initial={location.fieldFilter}
            onApply={(filter) => {
              location.setFieldFilter(filter);
              setOpen(false);
            }}
          />
        )}
      </div>
    </details>
  );
}

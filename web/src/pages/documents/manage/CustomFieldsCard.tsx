/**
 * Manage: the organization's custom fields — add one with its type (a choice with its options), rename it, edit a
 * choice's options (removing one documents hold asks again and clears their values), delete one (after saying how
 * many documents carry it).
 */
import { useState, type SubmitEvent } from "react";

import { createField, deleteField, FIELD_TYPES, fieldTypeLabel, updateField, useCustomFields, type CustomField, type CustomFieldType } from "../../../api/documentFields";
import { useInvalidate } from "../../../api/queryClient";
import { documentsKeys } from "../../../api/queryKeys";
import { buttonClass } from "../../../components/Button";
import { Card, Skeleton } from "../../../components/Card";
import { ConfirmDialog } from "../../../components/Dialog";
import { Alert, Field, inputClass } from "../../../components/Form";
import { FormDialog } from "../../../components/FormDialog";
import { useAction, useConfirm } from "../../../lib/useAction";
import { documentCount } from "../vocabulary";

interface OptionDraft {
  /** Absent for a new option. */
  id?: string;
  label: string;
}

/** The options of a choice field, edited as a list: rename in place, remove, add. */
function OptionsEditor({ options, onChange }: { options: OptionDraft[]; onChange: (options: OptionDraft[]) => void }) {
  const [label, setLabel] = useState("");
  const addOption = (): void => {
    if (label.trim() === "") return;
    onChange([...options, { label: label.trim() }]);
    setLabel("");
  };
  return (
    <fieldset className="space-y-2">
      <legend className="text-sm font-medium text-slate-700 dark:text-slate-200">Options</legend>
      {options.map((option, index) => (
        <div key={option.id ?? `new-${index}`} className="flex gap-2">
          <input
            className={inputClass}
            aria-label={`Option ${index + 1}`}
            value={option.label}
            maxLength={128}
            onChange={(event) => { onChange(options.map((other, at) => (at === index ? { ...other, label: event.target.value } : other))); }}
          />
          <button type="button" className={buttonClass.smallDanger} aria-label={`Remove option ${option.label}`} onClick={() => { onChange(options.filter((_, at) => at !== index)); }}>
            Remove
          </button>
        </div>
      ))}
      <div className="flex gap-2">
        <input
          className={inputClass}
          aria-label="New option"
          placeholder="New option"
          value={label}
          maxLength={128}
          onChange={(event) => { setLabel(event.target.value); }}
          onKeyDown={(event) => {
            if (event.key === "Enter") {
              event.preventDefault();
              addOption();
            }
          }}
        />
        <button type="button" className={`${buttonClass.small} shrink-0 whitespace-nowrap`} onClick={addOption}>
          Add option
        </button>
      </div>
    </fieldset>
  );
}

/** Edit a field: its name, its type (refused while documents carry it), a choice's options. */
function EditFieldDialog({ field, onSaved, onClose }: { field: CustomField; onSaved: (saved: CustomField) => void; onClose: () => void }) {
  const [name, setName] = useState(field.name);
  const [type, setType] = useState<CustomFieldType>(field.data_type);
  const [options, setOptions] = useState<OptionDraft[]>(field.options.map((option) => ({ id: option.id, label: option.label })));
  const { run, busy, error } = useAction(
    (clear: boolean) =>
      updateField(field.id, {
        name: name.trim(),
        data_type: type,
        ...(type === "select" ? { options: options.map((option) => ({ id: option.id ?? null, label: option.label.trim() })) } : {}),
        clear_removed_options: clear,
      }),
    onSaved,
  );
  const heldOptions = error?.status === 409 && type === "select" && field.data_type === "select";
  return (
    <FormDialog
      title={`Edit ${field.name}`}
      label={`Edit ${field.name}`}
      busy={busy}
      error={error}
      placedFields={["name"]}
      submitLabel="Save"
      onSubmit={() => void run(false)}
      onClose={onClose}
      footnote={
        heldOptions && (
          <button type="button" className={buttonClass.smallDanger} disabled={busy} onClick={() => void run(true)}>
            Remove them and clear those documents' values
          </button>
        )
      }
    >
      <Field label="Name" errors={error?.fieldMessages("name") ?? []}>
        {(control) => <input {...control} data-autofocus className={inputClass} value={name} required maxLength={128} onChange={(event) => { setName(event.target.value); }} />}
      </Field>
      <Field label="Type" hint="A field's type changes only while no document carries it.">
        {(control) => (
          <select {...control} className={inputClass} value={type} onChange={(event) => { setType(event.target.value as CustomFieldType); }}>
            {FIELD_TYPES.map((entry) => (
              <option key={entry.type} value={entry.type}>
                {entry.label}
              </option>
            ))}
          </select>
        )}
      </Field>
      {type === "select" && <OptionsEditor options={options} onChange={setOptions} />}
    </FormDialog>
  );
}

export function CustomFieldsCard() {
  const fields = useCustomFields();
  const invalidate = useInvalidate();
  const changed = (): void => void invalidate(documentsKeys.all);
  const [name, setName] = useState("");
  const [type, setType] = useState<CustomFieldType>("text");
  const [options, setOptions] = useState<OptionDraft[]>([]);
  const [notice, setNotice] = useState<string | null>(null);
  const [editing, setEditing] = useState<CustomField | null>(null);
  const [removing, setRemoving] = useState<{ field: CustomField; documents: number } | null>(null);
  const create = useAction(
    () => createField({ name: name.trim(), data_type: type, options: type === "select" ? options.map((option) => ({ label: option.label.trim() })) : [] }),
    (field) => {
      setName("");
      setOptions([]);
      setNotice(`Added the field ${field.name}.`);
      changed();
    },
  );
  const remove = useConfirm((field: CustomField) => deleteField(field.id, false), (removal, field) => {
    setNotice(`Deleted ${field.name}: ${documentCount(removal.documents)} lost its value.`);
    setRemoving(null);
    changed();
  });
  // Deleting says first how many documents of the organization carry the field (a dry run), then asks.
  const count = useAction((field: CustomField) => deleteField(field.id, true), (removal, field) => {
    setRemoving({ field, documents: removal.documents });
    remove.ask(field);
  });

  const submit = (event: SubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    setNotice(null);
    void create.run();
  };

  return (
    <Card title="Custom fields">
      <p className="-mt-2 mb-3 text-xs text-slate-500 dark:text-slate-400">Fields documents may carry: an amount, a due date, a contract number, a state…</p>
      <form className="space-y-2" aria-label="New custom field" onSubmit={submit}>
        <div className="grid gap-2 sm:grid-cols-[1fr_auto_auto] sm:items-start">
          <Field label="New field" errors={create.error?.fieldMessages("name") ?? []}>
            {(control) => <input {...control} className={inputClass} value={name} required maxLength={128} onChange={(event) => { setName(event.target.value); }} />}
          </Field>
          <Field label="Type">
            {(control) => (
              <select {...control} className={inputClass} value={type} onChange={(event) => { setType(event.target.value as CustomFieldType); }}>
                {FIELD_TYPES.map((entry) => (
                  <option key={entry.type} value={entry.type}>
                    {entry.label}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <button type="submit" className={`${buttonClass.primary} sm:mt-7`} disabled={create.busy}>
            {create.busy ? "Adding…" : "Add"}
          </button>
        </div>
        {type === "select" && <OptionsEditor options={options} onChange={setOptions} />}
      </form>
      <div className="mt-3 space-y-2">
        {create.error !== null && create.error.fieldMessages("name").length === 0 && <Alert tone="danger">{create.error.message}</Alert>}
        {count.error !== null && <Alert tone="danger">{count.error.message}</Alert>}
        {fields.error !== null && <Alert tone="danger">{fields.error.message}</Alert>}
        {notice !== null && <Alert tone="success">{notice}</Alert>}
      </div>
      {fields.data === undefined ? (
        fields.isFetching && <Skeleton className="mt-3 h-16 w-full" />
      ) : (
        <ul className="mt-3 divide-y divide-slate-200 text-sm dark:divide-slate-800" aria-label="Custom fields" data-testid="manage-fields">
          {fields.data.map((field) => (
            <li key={field.id} className="flex items-center justify-between gap-3 py-2" data-testid="field-row" data-name={field.name}>
              <div className="min-w-0">
                <span className="font-medium text-slate-900 dark:text-white">{field.name}</span>
                <span className="ml-2 text-xs text-slate-500 dark:text-slate-400">
                  {fieldTypeLabel(field.data_type)} · {documentCount(field.document_count)} of yours
                </span>
                {field.data_type === "select" && (
                  <span className="block truncate text-xs text-slate-500 dark:text-slate-400" data-testid="field-options">
                    {field.options.length > 0 ? field.options.map((option) => option.label).join(", ") : "No options yet"}
                  </span>
                )}
              </div>
              <div className="flex shrink-0 gap-2">
                <button type="button" className={buttonClass.small} aria-label={`Edit ${field.name}`} onClick={() => { setEditing(field); }}>
                  Edit
                </button>
                <button type="button" className={buttonClass.smallDanger} aria-label={`Delete ${field.name}`} disabled={count.busy} onClick={() => void count.run(field)}>
                  Delete
                </button>
              </div>
            </li>
          ))}
          {fields.data.length === 0 && <li className="py-2 text-slate-500 dark:text-slate-400">No custom fields yet.</li>}
        </ul>
      )}
      {editing !== null && (
        <EditFieldDialog
          key={editing.id}
          field={editing}
          onSaved={(saved) => {
            setNotice(`Saved the field ${saved.name}.`);
            setEditing(null);
            changed();
          }}
          onClose={() => { setEditing(null); }}
        />
      )}
      <ConfirmDialog title={`Delete the field ${remove.target?.name ?? ""}?`} confirmLabel="Delete" {...remove.dialog}>
        {removing !== null && (
          <p data-testid="field-removal">
            {removing.documents > 0 ? `Carried by ${documentCount(removing.documents)} of your organization: they lose its value.` : "No document carries it."} The
            documents themselves stay.
          </p>
        )}
      </ConfirmDialog>
    </Card>
  );
}

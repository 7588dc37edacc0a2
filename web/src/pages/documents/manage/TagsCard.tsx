/**
 * Manage: the organization's tags — add with a colour and a matching rule, rename, recolour or change the rule,
 * delete (their documents stay, untagged).
 */
import { useId, useState, type SubmitEvent } from "react";

import { createTag, deleteTag, updateTag, type MatchingRule, type Tag } from "../../../api/documents";
import { useTags } from "../../../api/documentsQueries";
import { useInvalidate } from "../../../api/queryClient";
import { documentsKeys } from "../../../api/queryKeys";
import { buttonClass } from "../../../components/Button";
import { Card, Skeleton } from "../../../components/Card";
import { ConfirmDialog } from "../../../components/Dialog";
import { Alert, Field, inputClass } from "../../../components/Form";
import { FormDialog } from "../../../components/FormDialog";
import { useAction, useConfirm } from "../../../lib/useAction";
import { TagChip } from "../DocumentBits";
import { documentCount, NO_RULE, ruleLabel, ruleOf, TAG_COLORS } from "../vocabulary";
import { MatchingFields } from "./MatchingFields";

/** A colour input and a row of ready-made swatches. */
function ColorPicker({ value, onChange }: { value: string; onChange: (color: string) => void }) {
  const id = useId();
  return (
    <div>
      <label htmlFor={id} className="mb-1.5 block text-sm font-medium text-slate-800 dark:text-slate-200">
        Colour
      </label>
      <div className="flex flex-wrap items-center gap-1.5">
        <input
          id={id}
          type="color"
          className="h-9 w-11 cursor-pointer rounded-lg border border-slate-300 bg-white p-1 dark:border-slate-700 dark:bg-slate-950"
          value={value}
          onChange={(event) => { onChange(event.target.value); }}
        />
        {TAG_COLORS.map((color) => (
          <button
            key={color}
            type="button"
            className={`size-6 rounded-full ring-offset-2 ring-offset-white dark:ring-offset-slate-900 ${value.toLowerCase() === color ? "ring-2 ring-sky-500" : "ring-1 ring-black/10"}`}
            style={{ backgroundColor: color }}
            aria-label={`Colour ${color}`}
            aria-pressed={value.toLowerCase() === color}
            onClick={() => { onChange(color); }}
          />
        ))}
      </div>
    </div>
  );
}

function EditTagDialog({ tag, onSaved, onClose }: { tag: Tag; onSaved: (saved: Tag) => void; onClose: () => void }) {
  const [name, setName] = useState(tag.name);
  const [color, setColor] = useState(tag.color);
  const [rule, setRule] = useState<MatchingRule>(() => ruleOf(tag));
  const { run, busy, error } = useAction(() => updateTag(tag.id, { name: name.trim(), color, ...rule }), onSaved);
  return (
    <FormDialog title={`Edit the tag ${tag.name}`} label="Edit tag" busy={busy} error={error} placedFields={["name", "match", "matching"]} submitLabel="Save" onSubmit={() => void run()} onClose={onClose}>
      <Field label="Name" errors={error?.fieldMessages("name") ?? []}>
        {(control) => <input {...control} data-autofocus className={inputClass} value={name} required maxLength={64} onChange={(event) => { setName(event.target.value); }} />}
      </Field>
      <ColorPicker value={color} onChange={setColor} />
      <p className="text-sm text-slate-600 dark:text-slate-400">
        Looks like <TagChip tag={{ name: name.trim() || tag.name, color }} />
      </p>
      <MatchingFields rule={rule} error={error} onChange={setRule} />
    </FormDialog>
  );
}

export function TagsCard() {
  const tags = useTags();
  const invalidate = useInvalidate();
  const changed = (): void => void invalidate(documentsKeys.all);
  const [name, setName] = useState("");
  const [color, setColor] = useState<string>(TAG_COLORS[0]);
  const [rule, setRule] = useState<MatchingRule>(NO_RULE);
  const [notice, setNotice] = useState<string | null>(null);
  const [editing, setEditing] = useState<Tag | null>(null);
  const create = useAction((value: string) => createTag(value, color, rule), (tag) => {
    setName("");
    setRule(NO_RULE);
    setNotice(`Added the tag ${tag.name}.`);
    // The next tag starts with the next colour, so tags added in a row tell apart.
    setColor(TAG_COLORS[(TAG_COLORS.indexOf(color as (typeof TAG_COLORS)[number]) + 1) % TAG_COLORS.length] ?? TAG_COLORS[0]);
    changed();
  });
  const remove = useConfirm((tag: Tag) => deleteTag(tag.id), (affected, tag) => {
    setNotice(`Deleted ${tag.name}: ${documentCount(affected)} of your organization lost it.`);
    changed();
  });

  const submit = (event: SubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    setNotice(null);
    void create.run(name.trim());
  };

  return (
    <Card title="Tags" className="lg:col-span-2">
      <p className="-mt-2 mb-3 text-xs text-slate-500 dark:text-slate-400">Labels a document can have several of: paid, tax 2026, urgent…</p>
      <form className="grid items-start gap-3 sm:grid-cols-[minmax(0,1fr)_auto_auto]" aria-label="New tag" onSubmit={submit}>
        <Field label="New tag" errors={create.error?.fieldMessages("name") ?? []}>
          {(control) => <input {...control} className={inputClass} value={name} required maxLength={64} onChange={(event) => { setName(event.target.value); }} />}
        </Field>
        <ColorPicker value={color} onChange={setColor} />
        <button type="submit" className={`${buttonClass.primary} sm:mt-7`} disabled={create.busy}>
          {create.busy ? "Adding…" : "Add"}
        </button>
        <div className="sm:col-span-3">
          <MatchingFields rule={rule} error={create.error} onChange={setRule} />
        </div>
      </form>
      <div className="mt-3 space-y-2">
        {create.error !== null && ["name", "match", "matching"].every((field) => create.error?.fieldMessages(field).length === 0) && <Alert tone="danger">{create.error.message}</Alert>}
        {tags.error !== null && <Alert tone="danger">{tags.error.message}</Alert>}
        {notice !== null && <Alert tone="success">{notice}</Alert>}
      </div>
      {tags.data === undefined ? (
        tags.isFetching && <Skeleton className="mt-3 h-16 w-full" />
      ) : (
        <ul className="mt-3 grid gap-x-8 text-sm sm:grid-cols-2" aria-label="Tags" data-testid="manage-tags">
          {tags.data.map((tag) => (
            <li key={tag.id} className="flex items-center justify-between gap-3 border-b border-slate-200 py-2 dark:border-slate-800" data-testid="tag-row" data-name={tag.name}>
              <div className="flex min-w-0 items-center gap-2">
                <TagChip tag={tag} />
                <span className="text-xs text-slate-500 dark:text-slate-400">{documentCount(tag.document_count)} of yours</span>
                {ruleLabel(tag) !== null && (
                  <span className="truncate font-mono text-xs text-slate-500 dark:text-slate-400" data-testid="tag-rule" title="Suggested when the text matches this rule">
                    {ruleLabel(tag)}
                  </span>
                )}
              </div>
              <div className="flex shrink-0 gap-2">
                <button type="button" className={buttonClass.small} aria-label={`Edit ${tag.name}`} onClick={() => { setEditing(tag); }}>
                  Edit
                </button>
                <button type="button" className={buttonClass.smallDanger} aria-label={`Delete ${tag.name}`} onClick={() => { remove.ask(tag); }}>
                  Delete
                </button>
              </div>
            </li>
          ))}
          {tags.data.length === 0 && <li className="py-2 text-slate-500 dark:text-slate-400">No tags yet.</li>}
        </ul>
      )}
      {editing !== null && (
        <EditTagDialog
          key={editing.id}
          tag={editing}
          onSaved={(saved) => {
            setNotice(`Saved the tag ${saved.name}.`);
            setEditing(null);
            changed();
          }}
          onClose={() => { setEditing(null); }}
        />
      )}
      <ConfirmDialog title={`Delete the tag ${remove.target?.name ?? ""}?`} confirmLabel="Delete" {...remove.dialog}>
        {remove.target !== null && (
          <p>
            {remove.target.document_count > 0 ? `${documentCount(remove.target.document_count)} of yours have it` : "None of your documents have it"} (others in your
            organization may). Documents stay; they lose this tag.
          </p>
        )}
      </ConfirmDialog>
    </Card>
  );
}

/**
 * The document panel's metadata, edited in place: a picker or a chip saves at once, a text field when it loses
 * the focus (or on Enter). What the form shows is its own draft, so a save under way never flickers it back.
 */
import { useState, type KeyboardEvent } from "react";
import { Link } from "react-router";

import { updateDocument, type Document, type DocumentUpdate } from "../../api/documents";
import { useCategories, useTags, useTerms } from "../../api/documentsQueries";
import { Alert, Field, inputClass } from "../../components/Form";
import { useAction } from "../../lib/useAction";
import { TagChip } from "./DocumentBits";
import { MultiPicker } from "./MultiPicker";
import { categoryLabel } from "./vocabulary";

interface Draft {
  title: string;
  typeId: string;
  correspondentId: string;
  tagIds: string[];
  categoryIds: string[];
  archiveSerial: string;
  createdOn: string;
  notes: string;
}

function draftOf(document: Document): Draft {
  return {
    title: document.title,
    typeId: document.type?.id ?? "",
    correspondentId: document.correspondent?.id ?? "",
    tagIds: document.tags.map((tag) => tag.id),
    categoryIds: document.categories.map((category) => category.id),
    archiveSerial: document.archive_serial === null ? "" : String(document.archive_serial),
    createdOn: document.created_on ?? "",
    notes: document.notes,
  };
}

/** Saves a text field on Enter (a textarea keeps Enter for new lines). */
function blurOnEnter(event: KeyboardEvent<HTMLInputElement>): void {
  if (event.key === "Enter") event.currentTarget.blur();
}

export function DocumentFields({
  document,
  canEdit,
  canManage,
  onSaved,
}: {
  document: Document;
  canEdit: boolean;
  /** Whether to point at Manage when a vocabulary is empty. */
  canManage: boolean;
  onSaved: (saved: Document) => void;
}) {
  const types = useTerms("types");
  const correspondents = useTerms("correspondents");
  const tags = useTags();
  const categories = useCategories();
  const [draft, setDraft] = useState(() => draftOf(document));
  const [savedAt, setSavedAt] = useState<Date | null>(null);
  const save = useAction((change: DocumentUpdate) => updateDocument(document.id, change), (saved) => {
    setSavedAt(new Date());
    onSaved(saved);
  });
  const errorFor = (field: string): string[] => save.error?.fieldMessages(field) ?? [];

  /** Change the draft and send the change. */
  const commit = (change: Partial<Draft>, body: DocumentUpdate): void => {
    setDraft((current) => ({ ...current, ...change }));
    void save.run(body);
  };
  const edit = (change: Partial<Draft>): void => {
    setDraft((current) => ({ ...current, ...change }));
  };

  const manageHint = (what: string) =>
    canManage ? (
      <>
        No {what} yet:{" "}
        <Link to="/documents/manage" className="text-sky-700 hover:underline dark:text-sky-400">
          add some in Manage
        </Link>
        .
      </>
    ) : (
      `No ${what} yet: someone who manages documents adds them.`
    );

  const tagOptions = (tags.data ?? []).map((tag) => ({ id: tag.id, label: tag.name }));
  const categoryOptions = (categories.data ?? []).map((category) => ({ id: category.id, label: categoryLabel(category) }));

  return (
    <form
      className="space-y-4"
      aria-label="Document details"
      onSubmit={(event) => {
        event.preventDefault();
      }}
    >
      <Field label="Title" errors={errorFor("title")}>
        {(control) => (
          <input
            {...control}
            className={inputClass}
            value={draft.title}
            maxLength={255}
            disabled={!canEdit}
            onChange={(event) => { edit({ title: event.target.value }); }}
            onKeyDown={blurOnEnter}
            onBlur={() => {
              const title = draft.title.trim();
              if (title === "") edit({ title: document.title });
              else if (title !== document.title) commit({ title }, { title });
            }}
          />
        )}
      </Field>
      <div className="grid gap-4 sm:grid-cols-2">
        <Field label="Type" hint={types.data?.length === 0 ? manageHint("types") : undefined} errors={errorFor("type_id")}>
          {(control) => (
            <select
              {...control}
              className={inputClass}
              value={draft.typeId}
              disabled={!canEdit}
              onChange={(event) => { commit({ typeId: event.target.value }, { type_id: event.target.value || null }); }}
            >
              <option value="">No type</option>
              {types.data?.map((term) => (
                <option key={term.id} value={term.id}>
                  {term.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Correspondent" hint={correspondents.data?.length === 0 ? manageHint("correspondents") : undefined} errors={errorFor("correspondent_id")}>
          {(control) => (
            <select
              {...control}
              className={inputClass}
              value={draft.correspondentId}
              disabled={!canEdit}
              onChange={(event) => { commit({ correspondentId: event.target.value }, { correspondent_id: event.target.value || null }); }}
            >
              <option value="">No correspondent</option>
              {correspondents.data?.map((term) => (
                <option key={term.id} value={term.id}>
                  {term.name}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <Field label="Tags" hint={tags.data?.length === 0 ? manageHint("tags") : undefined} errors={errorFor("tag_ids")}>
        {(control) => (
          <MultiPicker
            id={control.id}
            label="Tags"
            options={tagOptions}
            selected={draft.tagIds}
            disabled={!canEdit}
            placeholder="Add a tag…"
            empty="No other tags"
            onChange={(ids) => { commit({ tagIds: ids }, { tag_ids: ids }); }}
            renderChip={(option, remove) => {
              const tag = tags.data?.find((item) => item.id === option.id);
              return <TagChip tag={{ name: option.label, color: tag?.color ?? "#64748b" }} onRemove={canEdit ? remove : undefined} />;
            }}
          />
        )}
      </Field>
      <Field label="Categories" hint={categories.data?.length === 0 ? manageHint("categories") : undefined} errors={errorFor("category_ids")}>
        {(control) => (
          <MultiPicker
            id={control.id}
            label="Categories"
            options={categoryOptions}
            selected={draft.categoryIds}
            disabled={!canEdit}
            placeholder="Add a category…"
            empty="No other categories"
            onChange={(ids) => { commit({ categoryIds: ids }, { category_ids: ids }); }}
            renderChip={(option, remove) => (
              <span className="inline-flex items-center gap-1 rounded-md bg-slate-100 px-2 py-0.5 text-xs font-medium text-slate-700 ring-1 ring-slate-300/60 ring-inset dark:bg-slate-800 dark:text-slate-200 dark:ring-slate-600/60">
                {option.label}
                {canEdit && (
                  <button type="button" className="-mr-1 rounded px-0.5 text-slate-500 hover:text-slate-900 dark:hover:text-white" aria-label={`Remove category ${option.label}`} onClick={remove}>
                    ×
                  </button>
                )}
              </span>
            )}
          />
        )}
      </Field>
      <div className="grid gap-4 sm:grid-cols-2">
        <Field label="Archive serial number" optional errors={errorFor("archive_serial")}>
          {(control) => (
            <input
              {...control}
              type="number"
              min={1}
              max={2_000_000_000}
              inputMode="numeric"
              className={inputClass}
              value={draft.archiveSerial}
              disabled={!canEdit}
              onChange={(event) => { edit({ archiveSerial: event.target.value }); }}
              onKeyDown={blurOnEnter}
              onBlur={() => {
                const serial = draft.archiveSerial.trim() === "" ? null : Number(draft.archiveSerial);
                if (serial !== document.archive_serial) void save.run({ archive_serial: serial });
              }}
            />
          )}
        </Field>
        <Field label="Created on" optional errors={errorFor("created_on")}>
          {(control) => (
            <input
              {...control}
              type="date"
              className={inputClass}
              value={draft.createdOn}
              disabled={!canEdit}
              onChange={(event) => { edit({ createdOn: event.target.value }); }}
              onBlur={() => {
                if (draft.createdOn !== (document.created_on ?? "")) void save.run({ created_on: draft.createdOn || null });
              }}
            />
          )}
        </Field>
      </div>
      <Field label="Notes" optional errors={errorFor("notes")}>
        {(control) => (
          <textarea
            {...control}
            rows={4}
            maxLength={20_000}
            className={inputClass}
            value={draft.notes}
            disabled={!canEdit}
            onChange={(event) => { edit({ notes: event.target.value }); }}
            onBlur={() => {
              if (draft.notes !== document.notes) void save.run({ notes: draft.notes });
            }}
          />
        )}
      </Field>
      {save.error !== null && <Alert tone="danger">{save.error.message}</Alert>}
      <p className="text-xs text-slate-500 dark:text-slate-400" aria-live="polite" data-testid="save-state">
        {!canEdit ? "You can read this document but not change it." : save.busy ? "Saving…" : savedAt !== null && save.error === null ? "Saved." : "Changes are saved as you make them."}
      </p>
    </form>
  );
}

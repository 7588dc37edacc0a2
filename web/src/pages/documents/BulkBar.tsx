/**
 * The bar over the documents list while documents are ticked: how many, and what to do to all of them at once — tags,
 * type, correspondent, categories, share, download as a zip, remove from Documents, move to the trash. The server does
 * an action to every one or to none (and names the ones it refused).
 */
import { useState } from "react";

import type { Document } from "../../api/documents";
import { bulkEdit, downloadZip, type BulkAction, type BulkResult } from "../../api/documentViews";
import { useCategories, useTags, useTerms } from "../../api/documentsQueries";
import { useDirectorySearch } from "../../api/filesQueries";
import type { DirectoryEntry } from "../../api/sharing";
import { useInvalidate } from "../../api/queryClient";
import { documentsKeys } from "../../api/queryKeys";
import { buttonClass } from "../../components/Button";
import { ConfirmDialog } from "../../components/Dialog";
import { Field, inputClass, TextField } from "../../components/Form";
import { FormDialog } from "../../components/FormDialog";
import { UserIcon, UsersIcon } from "../../components/icons";
import { useDebounced } from "../../hooks/useDebounced";
import { useAction } from "../../lib/useAction";
import { TagChip } from "./DocumentBits";
import { MultiPicker } from "./MultiPicker";
import { categoryLabel } from "./vocabulary";

type Kind = "tags" | "type" | "correspondent" | "categories" | "share" | "remove" | "trash";

function plural(count: number): string {
  return count === 1 ? "1 document" : `${count} documents`;
}

/** What a finished action says. */
function summary(result: BulkResult): string {
  const changed = result.changed.length;
  const same = result.unchanged.length;
  return `${plural(changed)} changed${same > 0 ? `, ${same} already as asked` : ""}.`;
}

function TermsDialog({ kind, count, run, busy, error, onClose }: DialogProps & { kind: "tags" | "categories" }) {
  const tags = useTags();
  const categories = useCategories();
  const [ids, setIds] = useState<string[]>([]);
  const [add, setAdd] = useState(true);
  const options =
    kind === "tags"
      ? (tags.data ?? []).map((tag) => ({ id: tag.id, label: tag.name }))
      : (categories.data ?? []).map((category) => ({ id: category.id, label: categoryLabel(category) }));
  const noun = kind === "tags" ? "tags" : "categories";
  const action: BulkAction =
    kind === "tags" ? { action: add ? "add_tags" : "remove_tags", tag_ids: ids } : { action: add ? "add_categories" : "remove_categories", category_ids: ids };
  return (
    <FormDialog
      title={`${kind === "tags" ? "Tags" : "Categories"} of ${plural(count)}`}
      label={`Change ${noun}`}
      size="sm"
      busy={busy}
      error={error}
      submitLabel={add ? `Add ${noun}` : `Remove ${noun}`}
      submitDisabled={ids.length === 0}
      onSubmit={() => { run(action); }}
      onClose={onClose}
    >
      <fieldset className="flex gap-4 text-sm">
        <legend className="sr-only">Add or remove</legend>
        {[true, false].map((value) => (
          <label key={String(value)} className="flex items-center gap-2">
            <input type="radio" name="bulk-mode" className="accent-sky-600" checked={add === value} onChange={() => { setAdd(value); }} />
            {value ? "Add" : "Remove"}
          </label>
        ))}
      </fieldset>
      <Field label={kind === "tags" ? "Tags" : "Categories"}>
        {(control) => (
          <MultiPicker
            id={control.id}
            label={kind === "tags" ? "Tags" : "Categories"}
            options={options}
            selected={ids}
            placeholder={kind === "tags" ? "Pick tags…" : "Pick categories…"}
            empty={kind === "tags" ? "No other tags" : "No other categories"}
            onChange={setIds}
            renderChip={(option, remove) => {
              const tag = tags.data?.find((item) => item.id === option.id);
              return <TagChip tag={{ name: option.label, color: tag?.color ?? "#64748b" }} onRemove={remove} />;
            }}
          />
        )}
      </Field>
    </FormDialog>
  );
}

function TermDialog({ kind, count, run, busy, error, onClose }: DialogProps & { kind: "type" | "correspondent" }) {
  const terms = useTerms(kind === "type" ? "types" : "correspondents");
  const [value, setValue] = useState("");
  const label = kind === "type" ? "Type" : "Correspondent";
  return (
    <FormDialog
      title={`${label} of ${plural(count)}`}
      label={`Set ${kind}`}
      size="sm"
      busy={busy}
      error={error}
      submitLabel={value === "" ? `Clear the ${kind}` : `Set the ${kind}`}
      onSubmit={() => { run(kind === "type" ? { action: "set_type", type_id: value || null } : { action: "set_correspondent", correspondent_id: value || null }); }}
      onClose={onClose}
    >
      <Field label={label}>
        {(control) => (
          <select {...control} className={inputClass} value={value} data-autofocus onChange={(event) => { setValue(event.target.value); }}>
            <option value="">{kind === "type" ? "No type" : "No correspondent"}</option>
            {terms.data?.map((term) => (
              <option key={term.id} value={term.id}>
                {term.name}
              </option>
            ))}
          </select>
        )}
      </Field>
    </FormDialog>
  );
}

function ShareDialog({ count, run, busy, error, onClose }: DialogProps) {
  const [query, setQuery] = useState("");
  const searched = useDebounced(query.trim(), 200);
  const search = useDirectorySearch(searched);
  const found = query.trim() === "" || searched === "" ? [] : (search.data ?? []);
  const [target, setTarget] = useState<DirectoryEntry | null>(null);
  const [permission, setPermission] = useState<"view" | "edit">("view");
  return (
    <FormDialog
      title={`Share ${plural(count)}`}
      description="Each document's file is shared; they see the documents under “Shared with me”."
      label="Share documents"
      busy={busy}
      error={error}
      submitLabel={target === null ? "Share" : `Share with ${target.name}`}
      submitDisabled={target === null}
      onSubmit={() => {
        if (target !== null) run({ action: "share", ...(target.kind === "user" ? { user_id: target.id } : { group_id: target.id }), permission });
      }}
      onClose={onClose}
    >
      <div className="grid grid-cols-[minmax(0,1fr)_auto] items-end gap-3">
        <TextField label="Person or group" type="search" placeholder="Name or username" autoComplete="off" data-autofocus value={query} onChange={setQuery} />
        <select aria-label="Permission" className={inputClass.replace("w-full", "w-auto")} value={permission} onChange={(event) => { setPermission(event.target.value === "edit" ? "edit" : "view"); }}>
          <option value="view">Can view</option>
          <option value="edit">Can edit</option>
        </select>
      </div>
      {found.length > 0 && (
        <ul aria-label="Matches" className="divide-y divide-slate-100 rounded-lg border border-slate-200 dark:divide-slate-800 dark:border-slate-800">
          {found.map((entry) => (
            <li key={entry.id}>
              <label className="flex cursor-pointer items-center gap-2 px-3 py-2 text-sm hover:bg-slate-50 dark:hover:bg-slate-800">
                <input type="radio" name="bulk-share-target" className="accent-sky-600" checked={target?.id === entry.id} onChange={() => { setTarget(entry); }} />
                {entry.kind === "user" ? <UserIcon className="size-4 text-slate-400" /> : <UsersIcon className="size-4 text-slate-400" />}
                <span className="truncate font-medium">{entry.name}</span>
                <span className="truncate text-xs text-slate-500">{entry.kind === "user" ? entry.detail : "group"}</span>
              </label>
            </li>
          ))}
        </ul>
      )}
    </FormDialog>
  );
}

interface DialogProps {
  count: number;
  run: (action: BulkAction) => void;
  busy: boolean;
  error: ReturnType<typeof useAction>["error"];
  onClose: () => void;
}

export function BulkBar({ picked, canEdit, onClear }: { picked: readonly Document[]; canEdit: boolean; onClear: () => void }) {
  const [open, setOpen] = useState<Kind | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const invalidate = useInvalidate();
  const ids = picked.map((document) => document.id);
  const edit = useAction((action: BulkAction) => bulkEdit(ids, action), (result, action) => {
    setOpen(null);
    setNotice(action.action === "remove" || action.action === "trash" ? `${plural(result.changed.length)} ${action.action === "trash" ? "moved to the trash" : "removed from Documents"}.` : summary(result));
    void invalidate(documentsKeys.all);
    if (action.action === "remove" || action.action === "trash") onClear();
  });
  const zip = useAction(() => downloadZip(ids));
  const close = (): void => {
    setOpen(null);
    edit.setError(null);
  };
  const run = (action: BulkAction): void => { void edit.run(action); };
  const dialog = { count: picked.length, run, busy: edit.busy, error: edit.error, onClose: close };

  if (picked.length === 0) {
    return notice === null ? null : (
      <p role="status" className="mb-3 text-sm text-emerald-700 dark:text-emerald-300" data-testid="bulk-notice">
        {notice}
      </p>
    );
  }
  const actionButton = (kind: Kind, label: string) => (
    <button type="button" className={buttonClass.small} onClick={() => { setNotice(null); edit.setError(null); setOpen(kind); }}>
      {label}
    </button>
  );
  return (
    <>
      <div role="toolbar" aria-label="Bulk actions" data-testid="bulk-bar" className="sticky top-0 z-20 mb-3 flex flex-wrap items-center gap-2 rounded-xl border border-sky-200 bg-sky-50 px-3 py-2 text-sm dark:border-sky-900 dark:bg-sky-950">
        <span className="mr-2 font-medium" data-testid="bulk-count">
          {picked.length} selected
        </span>
        {canEdit && (
          <>
            {actionButton("tags", "Tags")}
            {actionButton("type", "Type")}
            {actionButton("correspondent", "Correspondent")}
            {actionButton("categories", "Categories")}
            {actionButton("share", "Share")}
          </>
        )}
        <button type="button" className={buttonClass.small} disabled={zip.busy} onClick={() => { void zip.run(); }}>
          {zip.busy ? "Preparing…" : "Download zip"}
        </button>
        {canEdit && (
          <>
            <button type="button" className={buttonClass.smallDanger} onClick={() => { edit.setError(null); setOpen("remove"); }}>
              Remove
            </button>
            <button type="button" className={buttonClass.smallDanger} onClick={() => { edit.setError(null); setOpen("trash"); }}>
              Move to trash
            </button>
          </>
        )}
        <button type="button" className="ml-auto text-xs text-sky-700 hover:underline dark:text-sky-300" onClick={() => { setNotice(null); onClear(); }}>
          Clear selection
        </button>
      </div>
      {zip.error !== null && <p role="alert" className="mb-3 text-sm text-rose-700 dark:text-rose-300">{zip.error.message}</p>}
      {notice !== null && <p role="status" className="mb-3 text-sm text-emerald-700 dark:text-emerald-300" data-testid="bulk-notice">{notice}</p>}
      {(open === "tags" || open === "categories") && <TermsDialog kind={open} {...dialog} />}
      {(open === "type" || open === "correspondent") && <TermDialog kind={open} {...dialog} />}
      {open === "share" && <ShareDialog {...dialog} />}
      <ConfirmDialog
        open={open === "remove"}
        title={`Remove ${plural(picked.length)} from Documents?`}
        confirmLabel="Remove from Documents"
        busy={edit.busy}
        error={edit.error?.message ?? null}
        onConfirm={() => { run({ action: "remove" }); }}
        onCancel={close}
      >
        Their type, correspondent, tags, categories, notes, history and the text read from them are forgotten. The files
        themselves stay where they are in your files.
      </ConfirmDialog>
      <ConfirmDialog
        open={open === "trash"}
        title={`Move ${plural(picked.length)} to the trash?`}
        confirmLabel="Move to trash"
        busy={edit.busy}
        error={edit.error?.message ?? null}
        onConfirm={() => { run({ action: "trash" }); }}
        onCancel={close}
      >
        Their files go to the trash, and the documents are hidden with them. Restoring a file from the trash brings its
        document back as it was; emptying the trash deletes them for good.
      </ConfirmDialog>
    </>
  );
}

/** Egg categories (platform administrators): list with their egg counts, create, rename, delete (the eggs stay, uncategorized). */
import { useState } from "react";

import { createEggCategory, deleteEggCategory, updateEggCategory, type EggCategory } from "../../../api/containers";
import { toApiError, type ApiError } from "../../../api/problem";
import { buttonClass } from "../../../components/Button";
import { Card } from "../../../components/Card";
import { ConfirmDialog, Dialog } from "../../../components/Dialog";
import { Alert, Field, inputClass } from "../../../components/Form";

function CategoryForm({ category, onSaved }: { category: EggCategory | null; onSaved: () => void }) {
  const [name, setName] = useState(category?.name ?? "");
  const [description, setDescription] = useState(category?.description ?? "");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  return (
    <form
      className="space-y-4"
      aria-label={category === null ? "New category" : "Edit category"}
      onSubmit={(event) => {
        event.preventDefault();
        setBusy(true);
        setError(null);
        const body = { name: name.trim(), description };
        (category === null ? createEggCategory(body) : updateEggCategory(category.id, body)).then(
          () => {
            setBusy(false);
            onSaved();
          },
          (caught: unknown) => {
            setBusy(false);
            setError(toApiError(caught));
          },
        );
      }}
    >
      <Field label="Name" errors={error?.fieldMessages("name") ?? []}>
        {(control) => <input {...control} data-autofocus className={inputClass} value={name} required maxLength={100} onChange={(e) => { setName(e.target.value); }} />}
      </Field>
      <Field label="Description" errors={error?.fieldMessages("description") ?? []}>
        {(control) => <input {...control} className={inputClass} value={description} maxLength={1000} onChange={(e) => { setDescription(e.target.value); }} />}
      </Field>
      {error !== null && <Alert tone="danger">{error.message}</Alert>}
      <div className="flex justify-end">
        <button type="submit" className={buttonClass.primary} disabled={busy}>
          {busy ? "Saving…" : category === null ? "Create" : "Save"}
        </button>
      </div>
    </form>
  );
}

export function EggCategories({ categories, error, onChanged }: { categories: EggCategory[] | undefined; error: ApiError | null; onChanged: () => void }) {
  const [editing, setEditing] = useState<EggCategory | "new" | null>(null);
  const [deleting, setDeleting] = useState<EggCategory | null>(null);
  const [deleteError, setDeleteError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <Card
      title="Categories"
      action={
        <button type="button" className={buttonClass.small} onClick={() => { setEditing("new"); }}>
          New category
        </button>
      }
    >
      {error !== null && <Alert tone="danger">{error.message}</Alert>}
      <ul className="divide-y divide-slate-200 text-sm dark:divide-slate-800" data-testid="egg-categories">
        {categories?.map((category) => (
          <li key={category.id} className="flex items-center justify-between gap-3 py-2">
            <div>
              <span className="font-medium text-slate-900 dark:text-white">{category.name}</span>
              <span className="ml-2 text-xs text-slate-500">
                {category.eggs} egg(s){category.description ? ` · ${category.description}` : ""}
              </span>
            </div>
            <div className="flex gap-2">
              <button type="button" className={buttonClass.small} aria-label={`Rename ${category.name}`} onClick={() => { setEditing(category); }}>
                Rename
              </button>
              <button
                type="button"
                className={buttonClass.smallDanger}
                aria-label={`Delete ${category.name}`}
                onClick={() => { setDeleteError(null); setDeleting(category); }}
              >
                Delete
              </button>
            </div>
          </li>
        ))}
        {categories?.length === 0 && <li className="py-2 text-slate-500">No categories yet: eggs are listed as uncategorized.</li>}
      </ul>
      <Dialog open={editing !== null} title={editing === "new" ? "New category" : `Rename ${editing?.name ?? ""}`} onClose={() => { setEditing(null); }} size="sm">
        {editing !== null && (
          <CategoryForm
            category={editing === "new" ? null : editing}
            onSaved={() => {
              setEditing(null);
              onChanged();
            }}
          />
        )}
      </Dialog>
      <ConfirmDialog
        open={deleting !== null}
        title={`Delete ${deleting?.name ?? ""}?`}
        confirmLabel="Delete"
        busy={busy}
        error={deleteError}
        onCancel={() => { setDeleting(null); }}
        onConfirm={() => {
          if (deleting === null) return;
          setBusy(true);
          deleteEggCategory(deleting.id).then(
            () => {
              setBusy(false);
              setDeleting(null);
              onChanged();
            },
            (caught: unknown) => {
              setBusy(false);
              setDeleteError(toApiError(caught).message);
            },
          );
        }}
      >
        Its eggs stay, without a category.
      </ConfirmDialog>
    </Card>
  );
}

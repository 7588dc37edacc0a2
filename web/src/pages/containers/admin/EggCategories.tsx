/** Egg categories (platform administrators): list with their egg counts, create, rename, delete (the eggs stay, uncategorized). */
import { useState } from "react";

import { createEggCategory, deleteEggCategory, updateEggCategory, type EggCategory } from "../../../api/containers";
import type { ApiError } from "../../../api/problem";
import { buttonClass } from "../../../components/Button";
import { Card } from "../../../components/Card";
import { ConfirmDialog } from "../../../components/Dialog";
import { Alert, Field, inputClass } from "../../../components/Form";
import { FormDialog } from "../../../components/FormDialog";
import { useAction } from "../../../lib/useAction";

function CategoryDialog({ category, onSaved, onClose }: { category: EggCategory | null; onSaved: () => void; onClose: () => void }) {
  const [name, setName] = useState(category?.name ?? "");
  const [description, setDescription] = useState(category?.description ?? "");
  const save = (body: { name: string; description: string }) => (category === null ? createEggCategory(body) : updateEggCategory(category.id, body));
  const { run, busy, error } = useAction(save, onSaved);
  return (
    <FormDialog
      title={category === null ? "New category" : `Rename ${category.name}`}
      label={category === null ? "New category" : "Edit category"}
      size="sm"
      busy={busy}
      error={error}
      submitLabel={category === null ? "Create" : "Save"}
      onSubmit={() => void run({ name: name.trim(), description })}
      onClose={onClose}
    >
      <Field label="Name" errors={error?.fieldMessages("name") ?? []}>
        {(control) => <input {...control} data-autofocus className={inputClass} value={name} required maxLength={100} onChange={(e) => { setName(e.target.value); }} />}
      </Field>
      <Field label="Description" errors={error?.fieldMessages("description") ?? []}>
        {(control) => <input {...control} className={inputClass} value={description} maxLength={1000} onChange={(e) => { setDescription(e.target.value); }} />}
      </Field>
    </FormDialog>
  );
}

export function EggCategories({ categories, error, onChanged }: { categories: EggCategory[] | undefined; error: ApiError | null; onChanged: () => void }) {
  const [editing, setEditing] = useState<EggCategory | "new" | null>(null);
  const [deleting, setDeleting] = useState<EggCategory | null>(null);
  const remove = useAction(deleteEggCategory, () => {
    setDeleting(null);
    onChanged();
  });
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
                onClick={() => { remove.setError(null); setDeleting(category); }}
              >
                Delete
              </button>
            </div>
          </li>
        ))}
        {categories?.length === 0 && <li className="py-2 text-slate-500">No categories yet: eggs are listed as uncategorized.</li>}
      </ul>
      {editing !== null && (
        <CategoryDialog
          key={editing === "new" ? "new" : editing.id}
          category={editing === "new" ? null : editing}
          onSaved={() => {
            setEditing(null);
            onChanged();
          }}
          onClose={() => { setEditing(null); }}
        />
      )}
      <ConfirmDialog
        open={deleting !== null}
        title={`Delete ${deleting?.name ?? ""}?`}
        confirmLabel="Delete"
        busy={remove.busy}
        error={remove.error?.message}
        onCancel={() => { setDeleting(null); }}
        onConfirm={() => {
          if (deleting === null) return;
          void remove.run(deleting.id);
        }}
      >
        Its eggs stay, without a category.
      </ConfirmDialog>
    </Card>
  );
}

/**
 * Manage: the organization's category tree — add (at the top or under another), rename, move under another,
 * merge into another, delete (with what it takes along, asked of the server first).
 */
import { useState, type SubmitEvent } from "react";

import { createCategory, deleteCategory, mergeCategory, moveCategory, renameCategory, type Category, type CategoryRemoval } from "../../../api/documents";
import { useCategories } from "../../../api/documentsQueries";
import { useInvalidate } from "../../../api/queryClient";
import { documentsKeys } from "../../../api/queryKeys";
import { buttonClass } from "../../../components/Button";
import { Card, Skeleton } from "../../../components/Card";
import { ConfirmDialog } from "../../../components/Dialog";
import { Alert, Field, inputClass } from "../../../components/Form";
import { FormDialog } from "../../../components/FormDialog";
import { useAction } from "../../../lib/useAction";
import { categoryLabel, depthOf, documentCount, subtreeOf } from "../vocabulary";
import { NameDialog } from "./NameDialog";

/** A select of categories (by path), `none` first when given. */
function CategorySelect({
  id,
  categories,
  value,
  none,
  onChange,
  ...aria
}: {
  id: string;
  categories: readonly Category[];
  value: string;
  none?: string;
  onChange: (value: string) => void;
  "aria-describedby"?: string;
  "aria-invalid"?: true;
}) {
  return (
    <select id={id} {...aria} className={inputClass} value={value} onChange={(event) => { onChange(event.target.value); }}>
      {none !== undefined && <option value="">{none}</option>}
      {categories.map((category) => (
        <option key={category.id} value={category.id}>
          {categoryLabel(category)}
        </option>
      ))}
    </select>
  );
}

/** Move or merge one category: pick where (never itself or below it). */
function PlaceDialog({
  mode,
  category,
  categories,
  onDone,
  onClose,
}: {
  mode: "move" | "merge";
  category: Category;
  categories: readonly Category[];
  onDone: (message: string) => void;
  onClose: () => void;
}) {
  const below = subtreeOf(categories, category.id);
  const targets = categories.filter((item) => !below.has(item.id));
  const [target, setTarget] = useState(mode === "move" ? (category.parent_id ?? "") : (targets[0]?.id ?? ""));
  const { run, busy, error } = useAction(
    () => (mode === "move" ? moveCategory(category.id, target || null) : mergeCategory(category.id, target)),
    (result) => {
      onDone(mode === "move" ? `Moved ${category.name} to ${target ? categoryLabel(result) : "the top level"}.` : `Merged ${category.name} into ${categoryLabel(result)}.`);
    },
  );
  const title = mode === "move" ? `Move ${category.name}` : `Merge ${category.name}`;
  return (
    <FormDialog
      title={title}
      label={title}
      size="sm"
      busy={busy}
      error={error}
      submitLabel={mode === "move" ? "Move" : "Merge"}
      submitDisabled={mode === "merge" && target === ""}
      description={
        mode === "move"
          ? "It moves with everything below it; its documents keep it."
          : "Its documents and subcategories move into the category you pick, then it is deleted."
      }
      onSubmit={() => void run()}
      onClose={onClose}
    >
      <Field label={mode === "move" ? "New place" : "Merge into"}>
        {(control) =>
          mode === "merge" && targets.length === 0 ? (
            <p className="text-sm text-slate-600 dark:text-slate-400">There is no other category to merge it into.</p>
          ) : (
            <CategorySelect {...control} categories={targets} value={target} none={mode === "move" ? "Top level" : undefined} onChange={setTarget} />
          )
        }
      </Field>
    </FormDialog>
  );
}

export function CategoriesCard() {
  const categories = useCategories();
  const invalidate = useInvalidate();
  const changed = (): void => void invalidate(documentsKeys.all);
  const [name, setName] = useState("");
  const [parent, setParent] = useState("");
  const [notice, setNotice] = useState<string | null>(null);
  const [renaming, setRenaming] = useState<Category | null>(null);
  const [placing, setPlacing] = useState<{ mode: "move" | "merge"; category: Category } | null>(null);
  /** The category asked about, with what deleting it would do (the server's dry run). */
  const [deleting, setDeleting] = useState<{ category: Category; impact: CategoryRemoval } | null>(null);
  const all = categories.data ?? [];

  const create = useAction((value: string) => createCategory(value, parent || null), (category) => {
    setName("");
    setNotice(`Added ${categoryLabel(category)}.`);
    changed();
  });
  const remove = useAction((category: Category) => deleteCategory(category.id, false), (done, category) => {
    setDeleting(null);
    setNotice(
      `Deleted ${category.name}${done.categories > 1 ? ` and ${done.categories - 1} below it` : ""}: ${documentCount(done.documents)} lost ${done.categories > 1 ? "one of them" : "it"}.`,
    );
    changed();
  });

  const ask = useAction((category: Category) => deleteCategory(category.id, true), (impact, category) => {
    remove.setError(null);
    setDeleting({ category, impact });
  });
  const submit = (event: SubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    setNotice(null);
    void create.run(name.trim());
  };

  const impactText = (impact: CategoryRemoval): string => {
    const below = impact.categories - 1;
    const also = below > 0 ? `This also deletes the ${below} ${below === 1 ? "category" : "categories"} below it. ` : "";
    const documents =
      impact.documents === 0
        ? `No document is in ${below > 0 ? "any of them" : "it"}.`
        : `${documentCount(impact.documents)} of your organization ${impact.documents === 1 ? "loses" : "lose"} ${below > 0 ? "one of these categories" : "it"}; the documents themselves stay.`;
    return `${also}${documents}`;
  };

  return (
    <Card title="Categories" className="lg:col-span-2">
      <p className="-mt-2 mb-3 text-xs text-slate-500 dark:text-slate-400">A tree of places to file documents in: Finance / Taxes / 2026…</p>
      <form className="grid items-start gap-2 sm:grid-cols-[1fr_1fr_auto]" aria-label="New category" onSubmit={submit}>
        <Field label="New category" errors={create.error?.fieldMessages("name") ?? []}>
          {(control) => <input {...control} className={inputClass} value={name} required maxLength={128} onChange={(event) => { setName(event.target.value); }} />}
        </Field>
        <Field label="Inside">
          {(control) => <CategorySelect {...control} categories={all} value={parent} none="Top level" onChange={setParent} />}
        </Field>
        <button type="submit" className={`${buttonClass.primary} sm:mt-7`} disabled={create.busy}>
          {create.busy ? "Adding…" : "Add"}
        </button>
      </form>
      <div className="mt-3 space-y-2">
        {create.error !== null && create.error.fieldMessages("name").length === 0 && <Alert tone="danger">{create.error.message}</Alert>}
        {categories.error !== null && <Alert tone="danger">{categories.error.message}</Alert>}
        {ask.error !== null && <Alert tone="danger">{ask.error.message}</Alert>}
        {notice !== null && <Alert tone="success">{notice}</Alert>}
      </div>
      {categories.data === undefined ? (
        categories.isFetching && <Skeleton className="mt-3 h-16 w-full" />
      ) : (
        <ul className="mt-3 divide-y divide-slate-200 text-sm dark:divide-slate-800" aria-label="Categories" data-testid="manage-categories">
          {all.map((category) => (
            <li key={category.id} className="flex items-center justify-between gap-3 py-2" data-testid="category-row" data-name={category.name} data-path={categoryLabel(category)}>
              <div className="min-w-0" style={{ paddingLeft: `${depthOf(category) * 1.25}rem` }}>
                {depthOf(category) > 0 && <span className="mr-1 text-slate-400" aria-hidden="true">└</span>}
                <span className="font-medium text-slate-900 dark:text-white">{category.name}</span>
                <span className="ml-2 text-xs text-slate-500 dark:text-slate-400">{documentCount(category.document_count)} of yours</span>
              </div>
              <div className="flex shrink-0 flex-wrap justify-end gap-2">
                <button type="button" className={buttonClass.small} aria-label={`Rename ${categoryLabel(category)}`} onClick={() => { setRenaming(category); }}>
                  Rename
                </button>
                <button type="button" className={buttonClass.small} aria-label={`Move ${categoryLabel(category)}`} onClick={() => { setPlacing({ mode: "move", category }); }}>
                  Move
                </button>
                <button type="button" className={buttonClass.small} aria-label={`Merge ${categoryLabel(category)}`} onClick={() => { setPlacing({ mode: "merge", category }); }}>
                  Merge
                </button>
                <button
                  type="button"
                  className={buttonClass.smallDanger}
                  aria-label={`Delete ${categoryLabel(category)}`}
                  disabled={ask.busy}
                  onClick={() => {
                    setNotice(null);
                    void ask.run(category);
                  }}
                >
                  Delete
                </button>
              </div>
            </li>
          ))}
          {all.length === 0 && <li className="py-2 text-slate-500 dark:text-slate-400">No categories yet.</li>}
        </ul>
      )}
      {renaming !== null && (
        <NameDialog
          key={renaming.id}
          title={`Rename ${renaming.name}`}
          initial={renaming.name}
          maxLength={128}
          save={(value) => renameCategory(renaming.id, value)}
          onSaved={(value) => {
            setNotice(`Renamed ${renaming.name} to ${value}.`);
            setRenaming(null);
            changed();
          }}
          onClose={() => { setRenaming(null); }}
        />
      )}
      {placing !== null && (
        <PlaceDialog
          key={`${placing.mode}-${placing.category.id}`}
          mode={placing.mode}
          category={placing.category}
          categories={all}
          onDone={(message) => {
            setNotice(message);
            setPlacing(null);
            changed();
          }}
          onClose={() => { setPlacing(null); }}
        />
      )}
      <ConfirmDialog
        open={deleting !== null}
        title={`Delete ${deleting === null ? "" : categoryLabel(deleting.category)}?`}
        confirmLabel="Delete"
        busy={remove.busy}
        error={remove.error?.message ?? null}
        onCancel={() => { setDeleting(null); }}
        onConfirm={() => {
          if (deleting !== null) void remove.run(deleting.category);
        }}
      >
        {deleting !== null && <p data-testid="category-impact">{impactText(deleting.impact)}</p>}
      </ConfirmDialog>
    </Card>
  );
}

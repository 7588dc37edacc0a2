/** /admin/eggs (platform administrators): the eggs containers are made from; import a PTDL_v2 file (picked or pasted), edit its name, author and description, export, delete. */
import { useState } from "react";

import { useDeleteEgg, useEggCategories, useEggs } from "../../../api/containerQueries";
import { useInvalidate } from "../../../api/queryClient";
import { containerKeys } from "../../../api/queryKeys";
import { exportEgg, importEgg, updateEgg, type Egg, type EggCategory, type EggDocument } from "../../../api/containers";
import { toApiError } from "../../../api/problem";
import { AddButton } from "../../../components/AddButton";
import { buttonClass } from "../../../components/Button";
import { Card } from "../../../components/Card";
import { ConfirmDialog, Dialog } from "../../../components/Dialog";
import { Alert, Field, inputClass } from "../../../components/Form";
import { FormDialog } from "../../../components/FormDialog";
import { PageHeader } from "../../../components/PageHeader";
import { useDocumentTitle } from "../../../hooks/useDocumentTitle";
import { useAction } from "../../../lib/useAction";
import { EggCategories } from "./EggCategories";

function ImportEgg({ onImported }: { onImported: (egg: Egg) => void }) {
  const [text, setText] = useState("");
  const { run, busy, error, setError } = useAction(importEgg, onImported);

  const submit = async (): Promise<void> => {
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch (caught) {
      setError(`This is not JSON: ${caught instanceof Error ? caught.message : "parse error"}`);
      return;
    }
    if (typeof document !== "object" || document === null || Array.isArray(document)) {
      setError("An egg file is a JSON object (exported from Pterodactyl as PTDL_v2).");
      return;
    }
    // The server checks the whole file and names each bad field; the browser only checks it is an object.
    await run(document as EggDocument);
  };

  return (
    <div className="space-y-4">
      <label className="block text-sm font-medium text-slate-800 dark:text-slate-200">
        Egg file
        <input
          type="file"
          accept="application/json,.json"
          className="mt-1.5 block w-full text-sm text-slate-600 file:mr-3 file:rounded-md file:border-0 file:bg-slate-100 file:px-3 file:py-1.5 dark:text-slate-300 dark:file:bg-slate-800"
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (file !== undefined) void file.text().then(setText);
          }}
        />
      </label>
      <label className="block text-sm font-medium text-slate-800 dark:text-slate-200">
        …or paste it
        <textarea
          className={`${inputClass} mt-1.5 h-56 font-mono text-xs`}
          spellCheck={false}
          placeholder='{"meta": {"version": "PTDL_v2"}, "name": …}'
          value={text}
          onChange={(e) => { setText(e.target.value); }}
        />
      </label>
      {error !== null && <Alert tone="danger">{error.message}</Alert>}
      <div className="flex justify-end">
        <button type="button" className={buttonClass.primary} disabled={busy || text.trim() === ""} onClick={() => void submit()}>
          {busy ? "Importing…" : "Import"}
        </button>
      </div>
    </div>
  );
}

function EditEggDialog({ egg, categories, onSaved, onClose }: { egg: Egg; categories: EggCategory[]; onSaved: (egg: Egg) => void; onClose: () => void }) {
  const [name, setName] = useState(egg.name);
  const [author, setAuthor] = useState(egg.author);
  const [description, setDescription] = useState(egg.description);
  const [categoryId, setCategoryId] = useState(egg.category_id ?? "");
  const { run, busy, error } = useAction(updateEgg, onSaved);
  const submit = (): void => {
    const category = categoryId === "" ? { uncategorized: true } : { category_id: categoryId, uncategorized: false };
    void run(egg.id, { name: name.trim(), author: author.trim(), description, ...category });
  };
  return (
    <FormDialog
      title={`Edit ${egg.name}`}
      label="Edit egg"
      busy={busy}
      error={error}
      submitLabel="Save"
      footnote={<p className="text-xs text-slate-500">Images, startup, variables and the install script change by importing the egg file again.</p>}
      onSubmit={submit}
      onClose={onClose}
    >
      <Field label="Name" errors={error?.fieldMessages("name") ?? []}>
        {(control) => <input {...control} data-autofocus className={inputClass} value={name} required maxLength={200} onChange={(e) => { setName(e.target.value); }} />}
      </Field>
      <Field label="Author" errors={error?.fieldMessages("author") ?? []}>
        {(control) => <input {...control} className={inputClass} value={author} maxLength={200} onChange={(e) => { setAuthor(e.target.value); }} />}
      </Field>
      <Field label="Description" errors={error?.fieldMessages("description") ?? []}>
        {(control) => <textarea {...control} className={`${inputClass} h-28`} value={description} maxLength={5000} onChange={(e) => { setDescription(e.target.value); }} />}
      </Field>
      <Field label="Category" errors={error?.fieldMessages("category_id") ?? []}>
        {(control) => (
          <select {...control} className={inputClass} value={categoryId} onChange={(e) => { setCategoryId(e.target.value); }}>
            <option value="">Uncategorized</option>
            {categories.map((category) => (
              <option key={category.id} value={category.id}>
                {category.name}
              </option>
            ))}
          </select>
        )}
      </Field>
    </FormDialog>
  );
}

/** Save the egg file exactly as it was imported. */
async function download(egg: Egg): Promise<void> {
  const document = await exportEgg(egg.id);
  const url = URL.createObjectURL(new Blob([JSON.stringify(document, null, 4)], { type: "application/json" }));
  const link = window.document.createElement("a");
  link.href = url;
  link.download = `egg-${egg.name.toLowerCase().replace(/[^a-z0-9]+/g, "-")}.json`;
  link.click();
  URL.revokeObjectURL(url);
}

export function EggsPage() {
  useDocumentTitle("Eggs");
  const eggs = useEggs();
  const categories = useEggCategories();
  const invalidate = useInvalidate();
  const deleteMutation = useDeleteEgg();
  const categoryName = (egg: Egg): string => categories.data?.find((category) => category.id === egg.category_id)?.name ?? "Uncategorized";
  const [importing, setImporting] = useState(false);
  const [deleting, setDeleting] = useState<Egg | null>(null);
  const [editing, setEditing] = useState<Egg | null>(null);
  // One error line for the page: a failed export or delete (shown in the confirm dialog while it is open).
  const remove = useAction(deleteMutation.mutateAsync, () => {
    setDeleting(null);
  });
  const { error, setError } = remove;
  const [notice, setNotice] = useState<string | null>(null);

  return (
    <>
      <PageHeader
        title="Eggs"
        description="Templates containers are made from, in Pterodactyl's egg format (PTDL_v2): images, startup command, variables and their rules, install script."
        actions={
          <AddButton label="Import egg" onClick={() => { setImporting(true); }} />
        }
      />
      {eggs.error !== null && <Alert tone="danger">{eggs.error.message}</Alert>}
      {notice !== null && <Alert tone="success">{notice}</Alert>}
      {error !== null && deleting === null && <Alert tone="danger">{error.message}</Alert>}
      <div className="mt-4">
        <EggCategories
          categories={categories.data}
          error={categories.error}
          onChanged={() => {
            void invalidate(containerKeys.eggCategories, containerKeys.eggs);
          }}
        />
      </div>
      <div className="mt-4 grid gap-4 lg:grid-cols-2" data-testid="eggs">
        {eggs.data?.map((egg) => (
          <Card key={egg.id}>
            <div className="flex items-start justify-between gap-3">
              <div>
                <h2 className="font-semibold text-slate-900 dark:text-white">{egg.name}</h2>
                <p className="text-xs text-slate-500">
                  by {egg.author} · {categoryName(egg)}
                </p>
              </div>
              <div className="flex gap-2">
                <button
                  type="button"
                  className={buttonClass.small}
                  onClick={() => {
                    setError(null);
                    download(egg).catch((caught: unknown) => { setError(toApiError(caught)); });
                  }}
                >
                  Export
                </button>
                <button type="button" className={buttonClass.small} onClick={() => { setEditing(egg); }}>
                  Edit
                </button>
                <button type="button" className={buttonClass.smallDanger} onClick={() => { setError(null); setDeleting(egg); }}>
                  Delete
                </button>
              </div>
            </div>
            <p className="mt-2 text-sm text-slate-600 dark:text-slate-400">{egg.description || "No description."}</p>
            <p className="mt-2 font-mono text-xs break-all text-slate-500">{egg.images.join(", ")}</p>
            <details className="mt-3 text-sm">
              <summary className="cursor-pointer text-slate-600 dark:text-slate-300">
                Startup and {egg.variables.length} variable(s)
              </summary>
              <code className="mt-2 block rounded bg-slate-100 p-2 font-mono text-xs break-all dark:bg-slate-950">{egg.startup}</code>
              <table className="mt-2 w-full text-left text-xs">
                <thead className="text-slate-500">
                  <tr>
                    <th className="pb-1">Variable</th>
                    <th className="pb-1">Default</th>
                    <th className="pb-1">Rules</th>
                  </tr>
                </thead>
                <tbody className="font-mono">
                  {egg.variables.map((variable) => (
                    <tr key={variable.env_variable} className="border-t border-slate-200 dark:border-slate-800">
                      <td className="py-1 pr-2">
                        {variable.env_variable}
                        {!variable.user_editable && <span className="ml-1 font-sans text-slate-400">(fixed)</span>}
                      </td>
                      <td className="py-1 pr-2">{variable.default_value}</td>
                      <td className="py-1">{variable.rules}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </details>
          </Card>
        ))}
        {eggs.data?.length === 0 && <Alert tone="info">No eggs yet: import one exported from Pterodactyl, or written by hand.</Alert>}
      </div>
      <Dialog open={importing} title="Import an egg" description="A Pterodactyl egg file (PTDL_v2 or v1), unchanged." onClose={() => { setImporting(false); }}>
        <ImportEgg
          onImported={(egg) => {
            setImporting(false);
            setNotice(`Imported ${egg.name}.`);
            void invalidate(containerKeys.eggs, containerKeys.eggCategories);
          }}
        />
      </Dialog>
      {editing !== null && (
        <EditEggDialog
          key={editing.id}
          egg={editing}
          categories={categories.data ?? []}
          onSaved={(egg) => {
            setEditing(null);
            setNotice(`Saved ${egg.name}.`);
            void invalidate(containerKeys.eggs, containerKeys.eggCategories);
          }}
          onClose={() => { setEditing(null); }}
        />
      )}
      <ConfirmDialog
        open={deleting !== null}
        title={`Delete ${deleting?.name ?? ""}?`}
        confirmLabel="Delete"
        busy={remove.busy}
        error={error?.message}
        onCancel={() => { setDeleting(null); }}
        onConfirm={() => {
          if (deleting === null) return;
          void remove.run(deleting.id);
        }}
      >
        Only an egg no container uses can be deleted. Export it first if you may want it back.
      </ConfirmDialog>
    </>
  );
}

/**
 * Saved views: the source panel's list of them (open one, save the current list as one, rename, pin to the sidebar,
 * show on the overview, delete), the sidebar's pinned ones under Documents, and the overview's cards.
 */
import { useState } from "react";
import { Link, NavLink } from "react-router";

import { useQuery } from "@tanstack/react-query";

import { listDocuments, type DocumentQuery } from "../../api/documents";
import {
  createSavedView,
  deleteSavedView,
  updateSavedView,
  useSavedViews,
  savedViewsKey,
  type SavedView,
  type SavedViewUpdate,
} from "../../api/documentViews";
import { asApiError, useInvalidate } from "../../api/queryClient";
import { documentsKeys } from "../../api/queryKeys";
import { can, useAuth, useMe } from "../../auth/session";
import { buttonClass } from "../../components/Button";
import { Skeleton } from "../../components/Card";
import { ConfirmDialog } from "../../components/Dialog";
import { FormDialog } from "../../components/FormDialog";
import { TextField } from "../../components/Form";
import { ListIcon } from "../../components/icons";
import { useAction } from "../../lib/useAction";
import { RowMenu } from "../files/RowMenu";
import { COLUMN_LABELS, DEFAULT_COLUMNS, savedViewHref } from "./viewColumns";
import { fieldQuery, viewParams, type DocumentsLocation } from "./useDocumentsLocation";

/** Whether the URL shows this view (the page and the open document aside). */
function isShown(view: SavedView, params: URLSearchParams): boolean {
  const current = new URLSearchParams(params);
  current.delete("page");
  current.delete("doc");
  if (!current.has("cols")) current.set("cols", DEFAULT_COLUMNS.join(","));
  const wanted = viewParams(view.query, view.columns);
  const sorted = (values: URLSearchParams): string => [...values.entries()].map(([key, value]) => `${key}=${value}`).sort().join("&");
  return sorted(current) === sorted(wanted);
}

function SaveViewDialog({ location, canShare, onClose }: { location: DocumentsLocation; canShare: boolean; onClose: () => void }) {
  const [name, setName] = useState("");
  const [inSidebar, setInSidebar] = useState(true);
  const [onOverview, setOnOverview] = useState(false);
  const [shared, setShared] = useState(false);
  const invalidate = useInvalidate();
  const save = useAction(
    () =>
      createSavedView({
        name,
        query: location.viewQuery,
        columns: location.columns ?? [...DEFAULT_COLUMNS],
        in_sidebar: inSidebar,
        on_overview: onOverview,
        shared,
      }),
    () => {
      void invalidate(savedViewsKey);
      onClose();
    },
  );
  const check = (label: string, value: boolean, onChange: (value: boolean) => void) => (
    <label className="flex items-center gap-2 text-sm text-slate-700 dark:text-slate-300">
      <input type="checkbox" className="size-4 rounded border-slate-300 accent-sky-600" checked={value} onChange={(event) => { onChange(event.target.checked); }} />
      {label}
    </label>
  );
  return (
    <FormDialog
      title="Save this view"
      description="Its filters, order and columns, under a name: open it again in one click."
      label="Save view"
      size="sm"
      busy={save.busy}
      error={save.error}
      placedFields={["name"]}
      submitLabel="Save view"
      submitDisabled={name.trim() === ""}
      onSubmit={() => { void save.run(); }}
      onClose={onClose}
    >
      <TextField label="Name" value={name} onChange={setName} maxLength={120} required data-autofocus errors={save.error?.fieldMessages("name")} />
      <div className="space-y-2">
        {check("Pin to the sidebar", inSidebar, setInSidebar)}
        {check("Show on the overview", onOverview, setOnOverview)}
        {canShare && check("Share with the organization", shared, setShared)}
      </div>
    </FormDialog>
  );
}

function RenameDialog({ view, onClose }: { view: SavedView; onClose: () => void }) {
  const [name, setName] = useState(view.name);
  const invalidate = useInvalidate();
  const rename = useAction(() => updateSavedView(view.id, { name }), () => {
    void invalidate(savedViewsKey);
    onClose();
  });
  return (
    <FormDialog
      title={`Rename ${view.name}`}
      label="Rename view"
      size="sm"
      busy={rename.busy}
      error={rename.error}
      placedFields={["name"]}
      submitLabel="Rename"
      submitDisabled={name.trim() === ""}
      onSubmit={() => { void rename.run(); }}
      onClose={onClose}
    >
      <TextField label="Name" value={name} onChange={setName} maxLength={120} required data-autofocus errors={rename.error?.fieldMessages("name")} />
    </FormDialog>
  );
}

/** The source panel's saved views, with "Save current view". */
export function SavedViewsSection({ location, heading }: { location: DocumentsLocation; heading: string }) {
  const me = useMe();
  const views = useSavedViews();
  const invalidate = useInvalidate();
  const [saving, setSaving] = useState(false);
  const [renaming, setRenaming] = useState<SavedView | null>(null);
  const [deleting, setDeleting] = useState<SavedView | null>(null);
  const change = useAction((view: SavedView, update: SavedViewUpdate) => updateSavedView(view.id, update), () => { void invalidate(savedViewsKey); });
  const remove = useAction((view: SavedView) => deleteSavedView(view.id), () => {
    setDeleting(null);
    void invalidate(savedViewsKey);
  });

  return (
    <section aria-labelledby="source-saved-views" className="space-y-2">
      <h2 id="source-saved-views" className={heading}>Saved views</h2>
      {views.data === undefined ? (
        views.isFetching && <Skeleton className="mx-3 h-10 w-40" />
      ) : views.data.length === 0 ? (
        <p className="px-3 text-xs text-slate-500 dark:text-slate-400">Filter and sort the list, then save it here.</p>
      ) : (
        <ul aria-label="Saved views" className="space-y-0.5">
          {views.data.map((view) => {
            const active = isShown(view, location.params);
            return (
              <li key={view.id} className="group flex items-center gap-1" data-testid="saved-view">
                <button
                  type="button"
                  aria-current={active ? "page" : undefined}
                  className={`flex min-w-0 flex-1 items-center gap-2 rounded-lg px-3 py-2 text-left text-sm font-medium ${
                    active ? "bg-sky-50 text-sky-800 dark:bg-sky-500/15 dark:text-sky-200" : "text-slate-700 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800"
                  }`}
                  title={view.mine ? view.name : `${view.name} (shared by ${view.owner_name})`}
                  onClick={() => { location.openView(view.query, view.columns); }}
                >
                  <ListIcon className="size-4 shrink-0 text-slate-400" />
                  <span className="truncate">{view.name}</span>
                  {view.in_sidebar && view.mine && <span className="sr-only">(pinned)</span>}
                  {view.custom_field_removed && (
                    <span className="ml-auto shrink-0 text-[11px] font-normal text-amber-700 dark:text-amber-300" title="Its custom field was deleted since">
                      field removed
                    </span>
                  )}
                  {!view.mine && <span className="ml-auto shrink-0 text-[11px] font-normal text-slate-500">shared</span>}
                </button>
                {view.mine && (
                  <RowMenu
                    name={view.name}
                    actions={[
                      { id: "rename", label: "Rename", onSelect: () => { setRenaming(view); } },
                      { id: "pin", label: view.in_sidebar ? "Unpin from the sidebar" : "Pin to the sidebar", onSelect: () => { void change.run(view, { in_sidebar: !view.in_sidebar }); } },
                      { id: "overview", label: view.on_overview ? "Hide from the overview" : "Show on the overview", onSelect: () => { void change.run(view, { on_overview: !view.on_overview }); } },
                      { id: "update", label: "Save current view into it", onSelect: () => { void change.run(view, { query: location.viewQuery, columns: location.columns ?? [...DEFAULT_COLUMNS] }); } },
                      ...(can(me, "documents.manage")
                        ? [{ id: "share", label: view.shared ? "Stop sharing" : "Share with the organization", onSelect: () => { void change.run(view, { shared: !view.shared }); } }]
                        : []),
                      { id: "delete", label: "Delete", danger: true, onSelect: () => { remove.setError(null); setDeleting(view); } },
                    ]}
                  />
                )}
              </li>
            );
          })}
        </ul>
      )}
      {change.error !== null && <p role="alert" className="px-3 text-xs text-rose-700 dark:text-rose-300">{change.error.message}</p>}
      <button type="button" className="px-3 text-sm font-medium text-sky-700 hover:underline dark:text-sky-400" onClick={() => { setSaving(true); }}>
        Save current view
      </button>
      {saving && <SaveViewDialog location={location} canShare={can(me, "documents.manage")} onClose={() => { setSaving(false); }} />}
      {renaming !== null && <RenameDialog key={renaming.id} view={renaming} onClose={() => { setRenaming(null); }} />}
      <ConfirmDialog
        open={deleting !== null}
        title={`Delete ${deleting?.name ?? "view"}?`}
        confirmLabel="Delete view"
        busy={remove.busy}
        error={remove.error?.message ?? null}
        onConfirm={() => { if (deleting !== null) void remove.run(deleting); }}
        onCancel={() => { setDeleting(null); }}
      >
        The view goes (from the sidebar and the overview too); the documents it lists stay as they are.
      </ConfirmDialog>
    </section>
  );
}

/** The columns menu over the list: which columns the table shows (a saved view keeps them). */
export function ColumnsMenu({ location }: { location: DocumentsLocation }) {
  const shown = location.columns ?? [...DEFAULT_COLUMNS];
  const all = Object.keys(COLUMN_LABELS) as (keyof typeof COLUMN_LABELS)[];
  return (
    <details className="relative">
      <summary className={`${buttonClass.small} cursor-pointer list-none`}>Columns</summary>
      <fieldset className="absolute right-0 z-20 mt-1 w-44 space-y-1 rounded-lg border border-slate-200 bg-white p-2 text-sm shadow-lg dark:border-slate-700 dark:bg-slate-900">
        <legend className="sr-only">Columns shown</legend>
        {all.map((column) => (
          <label key={column} className="flex items-center gap-2 rounded px-1 py-0.5 text-slate-700 hover:bg-slate-50 dark:text-slate-200 dark:hover:bg-slate-800">
            <input
              type="checkbox"
              className="size-4 rounded border-slate-300 accent-sky-600"
              checked={shown.includes(column)}
              onChange={(event) => {
                const next = all.filter((item) => (item === column ? event.target.checked : shown.includes(item)));
                const isDefault = next.length === DEFAULT_COLUMNS.length && next.every((item) => DEFAULT_COLUMNS.includes(item));
                location.setColumns(isDefault ? null : next);
              }}
            />
            {COLUMN_LABELS[column]}
          </label>
        ))}
      </fieldset>
    </details>
  );
}

/** The views pinned to the sidebar, under Documents (an item of the sidebar's list). */
export function PinnedViews({ onNavigate }: { onNavigate: () => void }) {
  // The sidebar shows on public pages too: ask only for a signed-in reader of documents.
  const { state } = useAuth();
  const views = useSavedViews(state.status === "signed-in" && can(state.me, "documents.read"));
  const pinned = (views.data ?? []).filter((view) => view.mine && view.in_sidebar);
  if (pinned.length === 0) return null;
  return (
    <li>
      <ul aria-label="Pinned views" className="mt-0.5 mb-1 ml-8 space-y-0.5 border-l border-slate-200 pl-2 dark:border-slate-800">
        {pinned.map((view) => (
          <li key={view.id}>
            <NavLink
              to={savedViewHref(view)}
              onClick={onNavigate}
              className="block truncate rounded-md px-2 py-1 text-sm text-slate-600 hover:bg-slate-100 hover:text-slate-900 dark:text-slate-400 dark:hover:bg-slate-800 dark:hover:text-white"
            >
              {view.name}
            </NavLink>
          </li>
        ))}
      </ul>
    </li>
  );
}

function ViewCount({ view }: { view: SavedView }) {
  const { scope, sort, type_id, correspondent_id, tag_id, category_id, q } = view.query;
  const query: DocumentQuery = {
    scope,
    sort,
    limit: 1,
    offset: 0,
    ...(type_id ? { type_id } : {}),
    ...(correspondent_id ? { correspondent_id } : {}),
    ...(tag_id ? { tag_id } : {}),
    ...(category_id ? { category_id } : {}),
    ...(q ? { q } : {}),
    ...fieldQuery(view.query),
  };
  const count = useQuery({ queryKey: documentsKeys.list(query), queryFn: () => asApiError(listDocuments(query)), select: (page) => page.total });
  if (count.data === undefined) return <Skeleton className="h-5 w-20" />;
  return <>{count.data === 1 ? "1 document" : `${count.data} documents`}</>;
}

/** The overview's cards of the views marked for it (nothing when there are none). */
export function SavedViewCards() {
  const me = useMe();
  const views = useSavedViews(can(me, "documents.read"));
  const shown = (views.data ?? []).filter((view) => view.on_overview && view.mine);
  if (shown.length === 0) return null;
  return (
    <section aria-labelledby="overview-views" className="mb-10">
      <h2 id="overview-views" className="mb-4 text-lg font-semibold text-slate-900 dark:text-white">Saved views</h2>
      <ul className="grid gap-4 sm:grid-cols-2 xl:grid-cols-3">
        {shown.map((view) => (
          <li key={view.id}>
            <Link
              to={savedViewHref(view)}
              data-testid="overview-view"
              className="group flex h-full flex-col rounded-xl border border-slate-200 bg-white p-5 shadow-sm transition hover:border-sky-300 hover:shadow-md dark:border-slate-800 dark:bg-slate-900 dark:hover:border-sky-700"
            >
              <span className="inline-flex size-10 items-center justify-center rounded-lg bg-sky-50 text-sky-700 dark:bg-sky-500/15 dark:text-sky-300">
                <ListIcon className="size-5" />
              </span>
              <h3 className="mt-4 font-semibold text-slate-900 group-hover:text-sky-800 dark:text-white dark:group-hover:text-sky-200">{view.name}</h3>
              <p className="mt-3 text-sm font-medium text-slate-900 tabular-nums dark:text-white">
                <ViewCount view={view} />
              </p>
            </Link>
          </li>
        ))}
      </ul>
    </section>
  );
}

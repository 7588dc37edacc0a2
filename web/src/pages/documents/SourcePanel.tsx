/**
 * The documents page's left column: the views (all documents, by type, by correspondent, by tag — each of these three
 * lists its terms with how many of your documents use them —, shared with me), the saved views, and the category tree
 * with a search box.
 */
import { useState } from "react";
import { Link } from "react-router";

import type { Category, Tag, Term } from "../../api/documents";
import { useCategories, useTags, useTerms } from "../../api/documentsQueries";
import { Skeleton } from "../../components/Card";
import { inputClass } from "../../components/Form";
import { SavedViewsSection } from "./SavedViews";
import type { DocumentsLocation, FilterKey, SourceView } from "./useDocumentsLocation";
import { categoryLabel, depthOf } from "./vocabulary";

const VIEWS: readonly { view: SourceView; label: string }[] = [
  { view: "all", label: "All documents" },
  { view: "types", label: "By type" },
  { view: "correspondents", label: "By correspondent" },
  { view: "tags", label: "By tag" },
  { view: "shared", label: "Shared with me" },
];

const itemClass = (active: boolean): string =>
  `flex w-full items-center justify-between gap-2 rounded-lg px-3 py-2 text-left text-sm font-medium ${
    active ? "bg-sky-50 text-sky-800 dark:bg-sky-500/15 dark:text-sky-200" : "text-slate-700 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800"
  }`;

function Count({ value }: { value: number }) {
  return <span className="text-xs font-normal text-slate-500 tabular-nums dark:text-slate-400">{value}</span>;
}

/** The terms of one vocabulary; picking one filters the list by it (picking it again clears the filter). */
function TermList({
  label,
  terms,
  loading,
  active,
  empty,
  onPick,
}: {
  label: string;
  terms: readonly (Term | Tag)[] | undefined;
  loading: boolean;
  active: string | null;
  empty: string;
  onPick: (id: string | null) => void;
}) {
  if (terms === undefined) return loading ? <Skeleton className="mx-3 h-16 w-40" /> : null;
  if (terms.length === 0) return <p className="px-3 py-1 text-xs text-slate-500 dark:text-slate-400">{empty}</p>;
  return (
    <ul aria-label={label} className="space-y-0.5">
      {terms.map((term) => (
        <li key={term.id}>
          <button
            type="button"
            className={itemClass(active === term.id)}
            aria-pressed={active === term.id}
            onClick={() => { onPick(active === term.id ? null : term.id); }}
          >
            <span className="flex min-w-0 items-center gap-2">
              {"color" in term && <span className="size-2.5 shrink-0 rounded-full ring-1 ring-black/10" style={{ backgroundColor: term.color }} aria-hidden="true" />}
              <span className="truncate">{term.name}</span>
            </span>
            <Count value={term.document_count} />
          </button>
        </li>
      ))}
    </ul>
  );
}

function CategoryTree({ categories, active, onPick }: { categories: readonly Category[]; active: string | null; onPick: (id: string | null) => void }) {
  const [filter, setFilter] = useState("");
  const words = filter.trim().toLocaleLowerCase();
  // While searching, matches are shown with their whole path (their parents may not match).
  const shown = words === "" ? categories : categories.filter((category) => categoryLabel(category).toLocaleLowerCase().includes(words));
  return (
    <div className="space-y-2">
      <input
        type="search"
        aria-label="Search categories"
        placeholder="Search categories…"
        className={`${inputClass} py-1.5`}
        value={filter}
        onChange={(event) => { setFilter(event.target.value); }}
      />
      {shown.length === 0 ? (
        <p className="px-3 py-1 text-xs text-slate-500 dark:text-slate-400">{categories.length === 0 ? "No categories yet." : "No category matches."}</p>
      ) : (
        <ul aria-label="Categories" className="max-h-80 space-y-0.5 overflow-y-auto">
          {shown.map((category) => (
            <li key={category.id}>
              <button
                type="button"
                className={itemClass(active === category.id)}
                aria-pressed={active === category.id}
                title={categoryLabel(category)}
                onClick={() => { onPick(active === category.id ? null : category.id); }}
              >
                <span className="flex min-w-0 items-center" style={words === "" ? { paddingLeft: `${depthOf(category) * 0.75}rem` } : undefined}>
                  <span className="truncate">{words === "" ? category.name : categoryLabel(category)}</span>
                </span>
                <Count value={category.document_count} />
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function SourcePanel({ location, canManage }: { location: DocumentsLocation; canManage: boolean }) {
  const { view, filters, setFilter } = location;
  const types = useTerms("types");
  const correspondents = useTerms("correspondents");
  const tags = useTags();
  const categories = useCategories();
  const pick = (key: FilterKey) => (id: string | null) => { setFilter(key, id); };

  const heading = "px-3 text-xs font-semibold tracking-wide text-slate-500 uppercase dark:text-slate-400";
  return (
    <div className="flex w-full shrink-0 flex-col gap-6 lg:w-56" data-testid="source-panel">
      <nav aria-label="Document views" className="space-y-0.5">
        {VIEWS.map((item) => {
          const active = item.view === "all" ? view === "all" && !location.filtered && location.viewQuery.scope === "mine" : view === item.view;
          return (
            <button
              key={item.view}
              type="button"
              aria-current={active ? "page" : undefined}
              className={itemClass(active)}
              onClick={() => {
                if (item.view === "all") location.showAll();
                else location.setView(item.view);
              }}
            >
              {item.label}
            </button>
          );
        })}
      </nav>

      {view === "types" && (
        <section aria-labelledby="source-types" className="space-y-2">
          <h2 id="source-types" className={heading}>Types</h2>
          <TermList label="Types" terms={types.data} loading={types.isFetching} active={filters.type} empty="No types yet." onPick={pick("type")} />
        </section>
      )}
      {view === "correspondents" && (
        <section aria-labelledby="source-correspondents" className="space-y-2">
          <h2 id="source-correspondents" className={heading}>Correspondents</h2>
          <TermList
            label="Correspondents"
            terms={correspondents.data}
            loading={correspondents.isFetching}
            active={filters.correspondent}
            empty="No correspondents yet."
            onPick={pick("correspondent")}
          />
        </section>
      )}
      {view === "tags" && (
        <section aria-labelledby="source-tags" className="space-y-2">
          <h2 id="source-tags" className={heading}>Tags</h2>
          <TermList label="Tags" terms={tags.data} loading={tags.isFetching} active={filters.tag} empty="No tags yet." onPick={pick("tag")} />
        </section>
      )}

      <SavedViewsSection location={location} heading={heading} />

      <section aria-labelledby="source-categories" className="space-y-2">
        <h2 id="source-categories" className={heading}>Categories</h2>
        {categories.data === undefined ? (
          categories.isFetching && <Skeleton className="mx-3 h-16 w-40" />
        ) : (
          <CategoryTree categories={categories.data} active={filters.category} onPick={pick("category")} />
        )}
      </section>

      {canManage && (
        <Link to="/documents/manage" className="px-3 text-sm font-medium text-sky-700 hover:underline dark:text-sky-400">
          Manage types, tags and categories
        </Link>
      )}
    </div>
  );
}

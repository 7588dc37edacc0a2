/** The active filters above the list, each a chip that removes it, how many documents match, and "+ Field". */
import { useCustomFields } from "../../api/documentFields";
import { useCategories, useTags, useTerms } from "../../api/documentsQueries";
import { CloseIcon } from "../../components/icons";
import { FieldFilterMenu } from "./FieldFilter";
import { fieldFilterText } from "./fieldFilterText";
import type { DocumentsLocation, FilterKey } from "./useDocumentsLocation";
import { categoryLabel, textOn } from "./vocabulary";

const LABELS: Record<FilterKey, string> = { type: "Type", correspondent: "Correspondent", tag: "Tag", category: "Category", q: "Search" };

export function FilterChips({ location, total }: { location: DocumentsLocation; total: number | null }) {
  const { filters, setFilter } = location;
  const types = useTerms("types");
  const correspondents = useTerms("correspondents");
  const tags = useTags();
  const categories = useCategories();
  const fields = useCustomFields();
  const { fieldFilter } = location;

  const valueOf = (key: FilterKey, id: string): string => {
    if (key === "q") return `“${id}”`;
    if (key === "type") return types.data?.find((term) => term.id === id)?.name ?? "…";
    if (key === "correspondent") return correspondents.data?.find((term) => term.id === id)?.name ?? "…";
    if (key === "tag") return tags.data?.find((tag) => tag.id === id)?.name ?? "…";
    const category = categories.data?.find((item) => item.id === id);
    return category === undefined ? "…" : categoryLabel(category);
  };
  const active = (Object.keys(LABELS) as FilterKey[]).flatMap((key) => {
    const id = filters[key];
    return id === null ? [] : [{ key, id }];
  });

  // With nothing at all and no filter, the empty state says it all.
  if (total === 0 && active.length === 0 && fieldFilter === null) return null;
  const fieldText = fieldFilter === null ? null : fieldFilterText(fieldFilter, fields.data);
  const removed = fieldText === "Field removed";
  const chip = "inline-flex items-center gap-1 rounded-full py-0.5 pr-1 pl-2.5 text-xs font-medium ring-1 ring-inset";
  const chipTone = "bg-sky-50 text-sky-800 ring-sky-300/70 dark:bg-sky-950 dark:text-sky-200 dark:ring-sky-700/70";
  return (
    <div className="mb-3 flex min-h-8 flex-wrap items-center gap-2" data-testid="filter-bar">
      <p className="mr-1 text-sm text-slate-600 tabular-nums dark:text-slate-400" aria-live="polite">
        {total === null ? "Loading…" : `${total} ${total === 1 ? "document" : "documents"}`}
      </p>
      {(active.length > 0 || fieldText !== null) && (
        <ul aria-label="Active filters" className="flex flex-wrap items-center gap-2">
          {active.map(({ key, id }) => {
            const tag = key === "tag" ? tags.data?.find((item) => item.id === id) : undefined;
            const text = `${LABELS[key]}: ${valueOf(key, id)}`;
            return (
              <li key={key} data-testid="filter-chip" data-filter={key}>
                <span
                  className={`${chip} ${chipTone}`}
                  style={tag !== undefined ? { backgroundColor: tag.color, color: textOn(tag.color) } : undefined}
                >
                  {text}
                  <button type="button" className="rounded-full p-0.5 hover:bg-black/10" aria-label={`Remove filter ${text}`} onClick={() => { setFilter(key, null); }}>
                    <CloseIcon className="size-3" />
                  </button>
                </span>
              </li>
            );
          })}
          {fieldText !== null && (
            <li data-testid="filter-chip" data-filter="field">
              <span
                className={`${chip} ${removed ? "bg-amber-50 text-amber-900 ring-amber-300/70 dark:bg-amber-950 dark:text-amber-200 dark:ring-amber-700/70" : chipTone}`}
                title={removed ? "This view filters by a custom field that was deleted since: no document matches until you remove the filter." : undefined}
              >
                {fieldText}
                <button type="button" className="rounded-full p-0.5 hover:bg-black/10" aria-label={`Remove filter ${fieldText}`} onClick={() => { location.setFieldFilter(null); }}>
                  <CloseIcon className="size-3" />
                </button>
              </span>
            </li>
          )}
          {active.length + (fieldText === null ? 0 : 1) > 1 && (
            <li>
              <button type="button" className="text-xs text-sky-700 hover:underline dark:text-sky-400" onClick={location.showAll}>
                Clear all
              </button>
            </li>
          )}
        </ul>
      )}
      <FieldFilterMenu location={location} />
    </div>
  );
}

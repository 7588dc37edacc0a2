/** The document panel's Text tab (what was read from it) and History tab (who changed what, before and after). */
import type { Document } from "../../api/documents";
import { useCategories, useDocumentHistory, useDocumentText, useTags, useTerms } from "../../api/documentsQueries";
import { Skeleton } from "../../components/Card";
import { Alert } from "../../components/Form";
import { describeTimestamp } from "../../lib/format";
import { categoryLabel } from "./vocabulary";

export function TextTab({ document }: { document: Document }) {
  const { data, error, isFetching } = useDocumentText(document.id, document.extraction);
  const state = document.extraction?.state ?? null;
  if (state === "pending" || state === "running") {
    return <p className="text-sm text-slate-600 dark:text-slate-400">The text shows here once it is read.</p>;
  }
  if (error !== null) return <Alert tone="danger">{error.message}</Alert>;
  if (data === undefined) return isFetching ? <Skeleton className="h-40 w-full" /> : null;
  if (state === "failed") return <p className="text-sm text-slate-600 dark:text-slate-400">No text: reading it failed (the reason is above). Re-analyse tries again.</p>;
  if (data.text.trim() === "") return <p className="text-sm text-slate-600 dark:text-slate-400">No text was found in it.</p>;
  return (
    <pre
      className="max-h-[50dvh] overflow-auto rounded-lg border border-slate-200 bg-slate-50 p-3 font-mono text-xs break-words whitespace-pre-wrap text-slate-800 dark:border-slate-800 dark:bg-slate-950 dark:text-slate-200"
      data-testid="document-text"
      tabIndex={0}
      aria-label="Text read from the document"
    >
      {data.text}
    </pre>
  );
}

const FIELDS: Record<string, string> = {
  title: "Title",
  type_id: "Type",
  correspondent_id: "Correspondent",
  archive_serial: "Archive serial number",
  created_on: "Created on",
  notes: "Notes",
  tag_ids: "Tags",
  category_ids: "Categories",
  shared_with: "Shared with",
  trashed: "In the trash",
};

export function HistoryTab({ document }: { document: Document }) {
  const { data, error, isFetching } = useDocumentHistory(document.id);
  const types = useTerms("types");
  const correspondents = useTerms("correspondents");
  const tags = useTags();
  const categories = useCategories();

  /** A recorded value in words: ids become names (or "a deleted …"), lists are joined, nothing is a dash. */
  const show = (field: string, value: unknown): string => {
    if (value === "" && field.startsWith("custom_fields.")) return "(no value)"; // carried, empty (null: not carried)
    if (value === null || value === undefined || value === "") return "—";
    const nameOf = (id: unknown): string => {
      const text = String(id);
      if (field === "type_id") return types.data?.find((term) => term.id === text)?.name ?? "a deleted type";
      if (field === "correspondent_id") return correspondents.data?.find((term) => term.id === text)?.name ?? "a deleted correspondent";
      if (field === "tag_ids") return tags.data?.find((tag) => tag.id === text)?.name ?? "a deleted tag";
      if (field === "category_ids") {
        const category = categories.data?.find((item) => item.id === text);
        return category === undefined ? "a deleted category" : categoryLabel(category);
      }
      return text;
    };
    if (Array.isArray(value)) return value.length === 0 ? "—" : value.map(nameOf).join(", ");
    if (field === "type_id" || field === "correspondent_id") return nameOf(value);
    const text = typeof value === "string" ? value : JSON.stringify(value);
    return text.length > 120 ? `${text.slice(0, 120)}…` : text;
  };

  if (error !== null) return <Alert tone="danger">{error.message}</Alert>;
  if (data === undefined) return isFetching ? <Skeleton className="h-24 w-full" /> : null;
  return (
    <ol className="space-y-3 text-sm" aria-label="History">
      {data.map((change, index) => (
        <li key={`${change.at}-${index}`} className="rounded-lg border border-slate-200 px-3 py-2 dark:border-slate-800" data-testid="history-entry">
          <div className="flex justify-between gap-3 text-xs text-slate-500 dark:text-slate-400">
            <span>{change.actor?.name ?? "Someone no longer here"}</span>
            <time dateTime={change.at} title={describeTimestamp(change.at).title}>
              {describeTimestamp(change.at).text}
            </time>
          </div>
          <dl className="mt-1 space-y-1">
            {Object.entries(change.changes).map(([field, [before, after]]) => (
              <div key={field}>
                <dt className="inline font-medium text-slate-900 dark:text-white">{FIELDS[field] ?? field.replace(/^custom_fields\./, "")}: </dt>
                <dd className="inline text-slate-700 dark:text-slate-300">
                  <span className="line-through decoration-slate-400">{show(field, before)}</span> → {show(field, after)}
                </dd>
              </div>
            ))}
          </dl>
        </li>
      ))}
      <li className="rounded-lg border border-dashed border-slate-200 px-3 py-2 text-xs text-slate-500 dark:border-slate-800 dark:text-slate-400">
        Added {describeTimestamp(document.added_at).text} as {document.file_name}.
      </li>
    </ol>
  );
}

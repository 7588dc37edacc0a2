/**
 * Full-text search of your documents, in place of the list while the search box holds words: how many matched (or
 * about how many, when only the newest were ranked), facets that narrow by type, correspondent, tag or year, then
 * each hit with its title and a snippet of where the words matched (marked); a hit opens the document's slide-over.
 */
import type { FacetBucket, SearchHit, SearchResults as Answer } from "../../api/search";
import { useSearch } from "../../api/documentsQueries";
import { Skeleton } from "../../components/Card";
import { Alert } from "../../components/Form";
import type { FilterKey } from "./useDocumentsLocation";

function Snippet({ hit }: { hit: SearchHit }) {
  if (hit.snippet.length === 0) return null;
  return (
    <p className="mt-1 line-clamp-3 text-sm text-slate-600 dark:text-slate-400" data-testid="search-snippet">
      {hit.snippet.map((part, index) =>
        part.match ? (
          <mark key={index} className="rounded-sm bg-amber-200 px-0.5 text-slate-900 dark:bg-amber-400/40 dark:text-white">
            {part.text}
          </mark>
        ) : (
          <span key={index}>{part.text}</span>
        ),
      )}
    </p>
  );
}

const FACETS = [
  { key: "type", label: "Type" },
  { key: "correspondent", label: "Correspondent" },
  { key: "tag", label: "Tag" },
  { key: "year", label: "Year" },
] as const;

/** Narrow the search to one value: the list's filter for a term, `year:` words for a year. */
function Facets({ answer, onNarrow }: { answer: Answer; onNarrow: (key: FilterKey, value: string) => void }) {
  const groups = FACETS.filter(({ key }) => answer.facets[key].length > 0);
  if (groups.length === 0) return null;
  return (
    <div className="flex flex-wrap gap-x-6 gap-y-2" aria-label="Narrow the results" data-testid="search-facets">
      {groups.map(({ key, label }) => (
        <div key={key} className="flex flex-wrap items-center gap-1.5 text-xs">
          <span className="font-medium uppercase tracking-wide text-slate-500 dark:text-slate-400">{label}</span>
          {answer.facets[key].map((bucket: FacetBucket) => (
            <button
              key={bucket.term_id ?? bucket.value}
              type="button"
              data-testid={`facet-${key}`}
              title={`Only what has ${label.toLowerCase()} ${bucket.value}`}
              className="rounded-full border border-slate-200 bg-white px-2 py-0.5 text-slate-700 hover:border-sky-400 hover:text-sky-700 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-300 dark:hover:text-sky-300"
              onClick={() => { onNarrow(key === "year" ? "q" : key, key === "year" ? `year:${bucket.value}` : (bucket.term_id ?? "")); }}
            >
              {bucket.value} <span className="tabular-nums text-slate-500 dark:text-slate-400">{bucket.count.toLocaleString()}</span>
            </button>
          ))}
        </div>
      ))}
    </div>
  );
}

function Summary({ answer }: { answer: Answer }) {
  const count = answer.total.toLocaleString();
  return (
    <p className="text-sm text-slate-600 dark:text-slate-400" data-testid="search-summary">
      {answer.total_exact ? (
        <>{count} {answer.total === 1 ? "match" : "matches"}</>
      ) : (
        <>
          About {count} matches; these are the best of the newest {answer.ranked.toLocaleString()}. Add a word or narrow by a
          facet to see older ones.
        </>
      )}
    </p>
  );
}

export function SearchResults({
  q,
  selected,
  onOpen,
  onNarrow,
}: {
  q: string;
  selected: string | null;
  onOpen: (hit: SearchHit) => void;
  onNarrow: (key: FilterKey, value: string) => void;
}) {
  const { data, error } = useSearch(q);
  if (error !== null) return <Alert tone="danger">{error.message}</Alert>;
  if (data === undefined) return <Skeleton className="h-40 w-full" />;
  if (data.items.length === 0) {
    return (
      <p className="rounded-xl border border-dashed border-slate-300 px-4 py-8 text-center text-sm text-slate-600 dark:border-slate-700 dark:text-slate-400" data-testid="search-empty">
        Nothing found for “{q}”. A document changed a moment ago shows up here shortly.
      </p>
    );
  }
  return (
    <div className="space-y-3">
      <Summary answer={data} />
      <Facets answer={data} onNarrow={onNarrow} />
      <ul className="divide-y divide-slate-200 overflow-hidden rounded-xl border border-slate-200 bg-white dark:divide-slate-800 dark:border-slate-800 dark:bg-slate-900" aria-label="Search results">
        {data.items.map((hit) => (
          <li key={hit.document_id ?? hit.file_id} data-testid="search-result" data-title={hit.title} className={hit.document_id === selected ? "bg-sky-50 dark:bg-sky-950/40" : undefined}>
            <button type="button" className="block w-full px-4 py-3 text-left hover:bg-slate-50 dark:hover:bg-slate-800/60" aria-current={hit.document_id === selected ? "true" : undefined} onClick={() => { onOpen(hit); }}>
              <span className="font-medium text-slate-900 dark:text-white">{hit.title}</span>
              <Snippet hit={hit} />
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

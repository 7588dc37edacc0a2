/**
 * Full-text search of your documents, in place of the list while the search box holds words: each hit with its
 * title and a snippet of where the words matched (marked); a hit opens the document's slide-over.
 */
import type { SearchHit } from "../../api/search";
import { useSearch } from "../../api/documentsQueries";
import { Skeleton } from "../../components/Card";
import { Alert } from "../../components/Form";

function Snippet({ hit }: { hit: SearchHit }) {
  if (hit.snippet.length === 0) return null;
  return (
    <p className="mt-1 line-clamp-3 text-sm text-slate-600 dark:text-slate-400" data-testid="search-snippet">
      …
      {hit.snippet.map((part, index) =>
        part.match ? (
          <mark key={index} className="rounded-sm bg-amber-200 px-0.5 text-slate-900 dark:bg-amber-400/40 dark:text-white">
            {part.text}
          </mark>
        ) : (
          <span key={index}>{part.text}</span>
        ),
      )}
      …
    </p>
  );
}

export function SearchResults({ q, selected, onOpen }: { q: string; selected: string | null; onOpen: (hit: SearchHit) => void }) {
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
    <ul className="divide-y divide-slate-200 overflow-hidden rounded-xl border border-slate-200 bg-white dark:divide-slate-800 dark:border-slate-800 dark:bg-slate-900" aria-label="Search results">
      {data.items.map((hit) => (
        <li key={hit.document_id} data-testid="search-result" data-title={hit.title} className={hit.document_id === selected ? "bg-sky-50 dark:bg-sky-950/40" : undefined}>
          <button type="button" className="block w-full px-4 py-3 text-left hover:bg-slate-50 dark:hover:bg-slate-800/60" aria-current={hit.document_id === selected ? "true" : undefined} onClick={() => { onOpen(hit); }}>
            <span className="font-medium text-slate-900 dark:text-white">{hit.title}</span>
            <Snippet hit={hit} />
          </button>
        </li>
      ))}
    </ul>
  );
}

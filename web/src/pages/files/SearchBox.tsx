/** The files page's search box (the documents page's too): waits until typing pauses before it asks the server. */
import { useEffect, useRef, useState } from "react";

/** A search box that waits until typing pauses before it asks the server. */
export function SearchBox({
  query,
  onSearch,
  label = "Search files",
  placeholder = "Search by name…",
  describedBy,
}: {
  query: string;
  onSearch: (q: string) => void;
  label?: string;
  placeholder?: string;
  /** The id of a hint about what may be typed. */
  describedBy?: string;
}) {
  const [text, setText] = useState(query);
  // Follow the URL when it changes from elsewhere (a view link clears the search), without remounting the
  // box, which would take the focus away from someone still typing.
  const [seen, setSeen] = useState(query);
  if (seen !== query) {
    setSeen(query);
    if (query !== text.trim()) setText(query);
  }
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const timer = window.setTimeout(() => {
      if (text.trim() !== query) onSearch(text.trim());
    }, 300);
    return () => {
      window.clearTimeout(timer);
    };
  }, [text, query, onSearch]);
  return (
    <input
      type="search"
      aria-label={label}
      aria-describedby={describedBy}
      placeholder={placeholder}
      className="w-56 rounded-lg border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm focus:border-sky-500 focus:ring-1 focus:ring-sky-500 focus:outline-none dark:border-slate-700 dark:bg-slate-900"
      value={text}
      onChange={(event) => {
        setText(event.target.value);
      }}
      onKeyDown={(event) => {
        if (event.key === "Enter") onSearch(text.trim());
      }}
    />
  );
}

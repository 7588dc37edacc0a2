/** The files page's views in the side column (My files, Recent, Favorites, Trash) and the link to Shared with me. */
import { Link } from "react-router";

import { views, type View } from "./filesViews";

export function FilesNav({ view }: { view: View }) {
  return (
    <nav aria-label="File views" className="flex gap-1 lg:flex-col">
      {views.map((item) => (
        <Link
          key={item.view}
          to={item.view === "files" ? "/files" : `/files?view=${item.view}`}
          aria-current={view === item.view ? "page" : undefined}
          className={`rounded-lg px-3 py-2 text-sm font-medium ${
            view === item.view
              ? "bg-sky-50 text-sky-800 dark:bg-sky-500/15 dark:text-sky-200"
              : "text-slate-700 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800"
          }`}
        >
          {item.label}
        </Link>
      ))}
      <Link
        to="/files/shared"
        className="rounded-lg px-3 py-2 text-sm font-medium text-slate-700 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800"
      >
        Shared with me
      </Link>
    </nav>
  );
}

/** Where the file manager is, read from the URL (`?folder=`, `?view=recent|favorites|trash|search`, `?q=`), and the ways to go elsewhere. */
import { useCallback } from "react";
import { useSearchParams } from "react-router";

import { viewOf, views, type View } from "./filesViews";

export interface FilesLocation {
  view: View;
  /** The open folder of My files (null: the root, or another view). */
  folderId: string | null;
  /** The search words of the search view. */
  query: string;
  /** One string per place: state that belongs to a place (selection, details) is keyed by it. */
  place: string;
  /** The page's title for this place. */
  title: string;
  /** Whether the URL names a folder (even one that could not be opened). */
  namesFolder: boolean;
  openFolder: (id: string | null) => void;
  search: (q: string) => void;
}

export function useFilesLocation(): FilesLocation {
  const [params, setParams] = useSearchParams();
  const view = viewOf(params.get("view"));
  const folderId = view === "files" ? params.get("folder") : null;
  const query = params.get("q") ?? "";
  const openFolder = useCallback(
    (id: string | null) => {
      setParams(id ? { folder: id } : {});
    },
    [setParams],
  );
  const search = useCallback(
    (q: string) => {
      setParams(q ? { view: "search", q } : {});
    },
    [setParams],
  );
  const title = view === "search" ? `Search: ${query}` : view === "files" ? "Files" : (views.find((item) => item.view === view)?.label ?? "Files");
  return {
    view,
    folderId,
    query,
    place: `${view}|${folderId ?? ""}|${query}`,
    title,
    namesFolder: params.get("folder") !== null,
    openFolder,
    search,
  };
}

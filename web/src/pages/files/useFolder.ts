/**
 * What the file manager lists at one place, sorted as chosen (recents keep the server's order until a column is
 * clicked; a folder larger than a page is shown a page at a time, `offset` its first entry), and how to refresh it
 * after a change.
 */
import { useCallback, useMemo } from "react";

import { useListing } from "../../api/filesQueries";
import { useInvalidate } from "../../api/queryClient";
import { filesKeys } from "../../api/queryKeys";
import { forgetLocations, sortEntries, type Sort } from "./fileKinds";
import { SORT_KEY } from "./filesViews";
import type { FilesLocation } from "./useFilesLocation";
import { usePlaceState } from "./usePlaceState";
import { useRemembered } from "./useRemembered";

/** Refresh everything the file manager shows (listings, trash, quota, versions) after a change. Stable across renders. */
export function useFilesRefresh(): () => void {
  const invalidate = useInvalidate();
  return useCallback(() => {
    forgetLocations();
    void invalidate(filesKeys.all);
  }, [invalidate]);
}

export function useFolder({ view, folderId, query, place }: FilesLocation) {
  const [offset, setOffset] = usePlaceState(place, 0);
  const { data, error, isFetching } = useListing(view, folderId, query, true, view === "files" ? offset : 0);
  const [sort, setSortState] = useRemembered<Sort>(SORT_KEY, { key: "name", descending: false }, (value) => typeof value === "object" && value !== null && "key" in value);
  const [recentSorted, setRecentSorted] = usePlaceState(place, false);
  const entries = useMemo(() => {
    const items = data?.items ?? [];
    return view === "recent" && !recentSorted ? items : sortEntries(items, sort);
  }, [data, sort, view, recentSorted]);
  const setSort = (next: Sort): void => {
    setRecentSorted(true);
    setSortState(next);
  };
  return { listing: data?.listing ?? null, loaded: data !== undefined, entries, error, loading: isFetching, sort, setSort, offset, setOffset };
}

/**
 * `?file=` (the top bar's search opens a file in its folder): select it and show its details once it is listed, on
 * whichever page of a large folder holds it (the server says where it is listed: one request, whatever the folder's
 * size), and scroll it into view.
 */
import { useEffect, useState } from "react";
import { useSearchParams } from "react-router";

import { FOLDER_PAGE, type FileEntry } from "../../api/files";
import { usePlace } from "../../api/filesQueries";
import type { useFolder } from "./useFolder";

export function useWantedFile(folder: ReturnType<typeof useFolder>, show: (entry: FileEntry) => void): void {
  const [params] = useSearchParams();
  const wanted = params.get("file");
  const [shown, setShown] = useState<string | null>(null);
  if (wanted === null && shown !== null) setShown(null); // gone from the URL: the same file may come again
  const pending = wanted !== null && wanted !== shown;
  const found = pending ? folder.entries.find((entry) => entry.id === wanted) : undefined;
  if (found !== undefined) {
    setShown(found.id);
    show(found);
  }

  // Not on the page shown of a folder larger than a page: ask where it is listed, then show the page that holds it.
  const { listing, offset, setOffset } = folder;
  const elsewhere = pending && found === undefined && folder.loaded && !folder.loading && listing !== null && listing.total > folder.entries.length;
  const place = usePlace(elsewhere ? wanted : null);
  const target = place.data !== undefined && listing !== null && place.data.folder_id === listing.folder.id ? Math.floor(place.data.offset / FOLDER_PAGE) * FOLDER_PAGE : null;
  useEffect(() => {
    if (elsewhere && target !== null && target !== offset) setOffset(target);
  }, [elsewhere, target, offset, setOffset]);

  useEffect(() => {
    if (shown === null) return;
    const selector = `[data-testid="file-row"][data-id="${CSS.escape(shown)}"], [data-testid="file-card"][data-id="${CSS.escape(shown)}"]`;
    document.querySelector(selector)?.scrollIntoView({ block: "center" });
  }, [shown]);
}

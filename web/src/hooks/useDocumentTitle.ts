/** Sets the browser tab title to "<page> · Nubes" while a page is shown. */
import { useEffect } from "react";

export function useDocumentTitle(page: string | null): void {
  useEffect(() => {
    document.title = page ? `${page} · Nubes` : "Nubes";
  }, [page]);
}

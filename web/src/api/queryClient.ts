/** The one TanStack Query client (server state cached per query key, see queryKeys.ts) and the helpers every `<domain>Queries.ts` uses. */
import { QueryClient, useQueryClient, type QueryKey } from "@tanstack/react-query";
import { useCallback } from "react";

import { toApiError, type ApiError } from "./problem";

declare module "@tanstack/react-query" {
  interface Register {
    /** Query functions throw ApiError (see `asApiError()`), so `error.message` is readable. */
    defaultError: ApiError;
  }
}

export const queryClient = new QueryClient({
  defaultOptions: {
    // Like the hand-written loads before: one try (the client already refreshes a stale session and retries once),
    // no refetch on window focus, data counted stale at once so a page opened again loads fresh.
    // Query functions do not take the abort signal: a load a page no longer needs (it navigated on while showing
    // cached data) finishes into the cache instead of ending as a cancelled request.
    queries: { retry: false, refetchOnWindowFocus: false, staleTime: 0 },
    mutations: { retry: false },
  },
});

/** Turn any failure into an ApiError (the query client's error type). */
export function asApiError<T>(promise: Promise<T>): Promise<T> {
  return promise.catch((error: unknown) => {
    throw toApiError(error);
  });
}

/**
 * `invalidate(key, …)`: mark what a change touched stale, so every page showing it loads it again (resolves once they have). Stable across renders.
 *
 * A load already under way may have read before the change: it is cancelled first, since React Query would otherwise
 * join a first load still in flight instead of starting a new one (a file dropped while the folder was still loading
 * stayed missing from it).
 */
export function useInvalidate(): (...keys: QueryKey[]) => Promise<void> {
  const client = useQueryClient();
  return useCallback(
    async (...keys: QueryKey[]) => {
      await Promise.all(keys.map((queryKey) => client.cancelQueries({ queryKey })));
      await Promise.all(keys.map((queryKey) => client.invalidateQueries({ queryKey })));
    },
    [client],
  );
}

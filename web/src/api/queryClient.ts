/** The one TanStack Query client: server state (lists the admin pages show) is cached per query key and refetched after a change. */
import { QueryClient } from "@tanstack/react-query";

import type { ApiError } from "./problem";

declare module "@tanstack/react-query" {
  interface Register {
    /** Query functions throw ApiError (see `query()` in the domain query files), so `error.message` is readable. */
    defaultError: ApiError;
  }
}

export const queryClient = new QueryClient({
  defaultOptions: {
    // Like the hand-written loads before: one try (the client already refreshes a stale session and retries once),
    // no refetch on window focus, data counted stale at once so a page opened again loads fresh.
    queries: { retry: false, refetchOnWindowFocus: false, staleTime: 0 },
    mutations: { retry: false },
  },
});

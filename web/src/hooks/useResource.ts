/** Load data for a page: re-runs when `load` changes (wrap it in useCallback), aborts the stale call, keeps the last data while reloading. */
import { useCallback, useEffect, useState } from "react";

import { toApiError, type ApiError } from "../api/problem";

export interface Resource<T> {
  /** The last data that arrived (kept while a newer call is in flight); undefined before the first. */
  data: T | undefined;
  /** Why the latest call failed; null while loading or after a success. */
  error: ApiError | null;
  loading: boolean;
  /** Call `load` again (after a change the page made). */
  reload: () => void;
}

interface Settled<T> {
  load: (signal: AbortSignal) => Promise<T>;
  round: number;
  data: T | undefined;
  error: ApiError | null;
}

export function useResource<T>(load: (signal: AbortSignal) => Promise<T>): Resource<T> {
  const [round, setRound] = useState(0);
  const [settled, setSettled] = useState<Settled<T> | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    load(controller.signal).then(
      (data) => {
        if (!controller.signal.aborted) setSettled({ load, round, data, error: null });
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setSettled((previous) => ({ load, round, data: previous?.data, error: toApiError(error) }));
      },
    );
    return () => {
      controller.abort();
    };
  }, [load, round]);

  const reload = useCallback(() => {
    setRound((n) => n + 1);
  }, []);

  const loading = settled?.load !== load || settled.round !== round;
  return { data: settled?.data, error: loading ? null : settled.error, loading, reload };
}

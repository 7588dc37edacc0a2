/** Run an async action (a save, a delete) with a busy flag and the problem+json error it failed with, the way every form and button does. */
import { useCallback, useState } from "react";

import { ApiError, toApiError } from "../api/problem";

export interface Action<A extends unknown[], R> {
  /** Run the action: clears the last error, sets `busy`, and resolves to `{ ok, value }` (never rejects). */
  run: (...args: A) => Promise<{ ok: true; value: R } | { ok: false }>;
  /** True while a run is in flight (disable the button, say "Saving…"). */
  busy: boolean;
  /** Why the last run failed (its `message`, `fieldMessages(field)`); null before and after a success. */
  error: ApiError | null;
  /** Show a message the browser decided on (bad input caught before sending), or clear it with null. */
  setError: (error: ApiError | string | null) => void;
}

/** Wrap `action`; `onSuccess` gets its result (and the arguments) after a run that did not fail. */
export function useAction<A extends unknown[], R>(action: (...args: A) => Promise<R>, onSuccess?: (value: R, ...args: A) => void): Action<A, R> {
  const [busy, setBusy] = useState(false);
  const [error, setErrorState] = useState<ApiError | null>(null);

  const setError = useCallback((next: ApiError | string | null) => {
    setErrorState(typeof next === "string" ? new ApiError("unexpected", next) : next);
  }, []);

  const run = async (...args: A): Promise<{ ok: true; value: R } | { ok: false }> => {
    setBusy(true);
    setErrorState(null);
    try {
      const value = await action(...args);
      setBusy(false);
      onSuccess?.(value, ...args);
      return { ok: true, value };
    } catch (caught) {
      setBusy(false);
      setErrorState(toApiError(caught));
      return { ok: false };
    }
  };

  return { run, busy, error, setError };
}

/** `useAction` for work written in place: `await task.run(async () => { … })` (the body may set state after the call). */
export function useTask(): Action<[work: () => Promise<void>], void> {
  return useAction((work: () => Promise<void>) => work());
}

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

export interface Confirm<T> {
  /** The item the "are you sure?" dialog asks about; null while it is closed. */
  target: T | null;
  /** Open the dialog for `item` (clears the last error). */
  ask: (item: T) => void;
  /** What to spread on `<ConfirmDialog>`: open, busy, error, onConfirm, onCancel. */
  dialog: { open: boolean; busy: boolean; error: string | null; onConfirm: () => void; onCancel: () => void };
}

/** An action on one item behind a `<ConfirmDialog>`: `ask(item)` opens it, confirming runs `action(item)`, success closes it and calls `onDone`. */
export function useConfirm<T, R>(action: (item: T) => Promise<R>, onDone?: (value: R, item: T) => void): Confirm<T> {
  const [target, setTarget] = useState<T | null>(null);
  const { run, busy, error, setError } = useAction(action, (value: R, item: T) => {
    setTarget(null);
    onDone?.(value, item);
  });
  return {
    target,
    ask: (item: T) => {
      setError(null);
      setTarget(item);
    },
    dialog: {
      open: target !== null,
      busy,
      error: error?.message ?? null,
      onConfirm: () => {
        if (target !== null) void run(target);
      },
      onCancel: () => {
        setTarget(null);
      },
    },
  };
}

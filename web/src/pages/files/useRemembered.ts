/** A state value kept in localStorage (the files page's layout and sort), falling back when missing or invalid. */
import { useCallback, useState } from "react";

function remembered<T>(key: string, fallback: T, valid: (value: unknown) => boolean): T {
  try {
    const raw = localStorage.getItem(key);
    if (raw === null) return fallback;
    const value: unknown = JSON.parse(raw);
    return valid(value) ? (value as T) : fallback;
  } catch {
    return fallback;
  }
}

export function useRemembered<T>(key: string, fallback: T, valid: (value: unknown) => boolean): [T, (value: T) => void] {
  const [value, setValue] = useState<T>(() => remembered(key, fallback, valid));
  const set = useCallback(
    (next: T) => {
      setValue(next);
      try {
        localStorage.setItem(key, JSON.stringify(next));
      } catch {
        // private mode or full storage: the choice holds for this page only
      }
    },
    [key],
  );
  return [value, set];
}

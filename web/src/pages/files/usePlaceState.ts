/** State that belongs to one place of the file manager (the selection, the open details, a sorted recents list): going elsewhere starts again from `initial`. */
import { useCallback, useState } from "react";

export function usePlaceState<T>(place: string, initial: T): [T, (value: T) => void] {
  const [state, setState] = useState<{ place: string; value: T }>({ place, value: initial });
  const value = state.place === place ? state.value : initial;
  const set = useCallback(
    (next: T) => {
      setState({ place, value: next });
    },
    [place],
  );
  return [value, set];
}

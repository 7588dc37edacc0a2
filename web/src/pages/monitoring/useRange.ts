/** The chart range of the monitoring pages, kept in the URL (`?range=24h`) so a link shows the same view. */
import { useSearchParams } from "react-router";

import { RANGES, type Range } from "../../api/monitoring";

function isRange(value: string | null): value is Range {
  return value !== null && (RANGES as readonly string[]).includes(value);
}

export function useRange(): [Range, (range: Range) => void] {
  const [params, setParams] = useSearchParams();
  const wanted = params.get("range");
  const range: Range = isRange(wanted) ? wanted : "1h";
  const setRange = (next: Range) => {
    setParams(
      (current) => {
        const updated = new URLSearchParams(current);
        updated.set("range", next);
        return updated;
      },
      { replace: true },
    );
  };
  return [range, setRange];
}

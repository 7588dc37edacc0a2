/** One stored metric as a chart over the page's range: asks the metrics API, draws one line per label value. */
import { useMemo } from "react";

import type { MetricSeries, Range } from "../../api/monitoring";
import { useMetric } from "../../api/monitoringQueries";
import { TimeChart } from "../../components/TimeChart";
import type { Unit } from "../../lib/units";
import { linesOf, rangeOf } from "./series";

export function MetricChart({
  title,
  metric,
  unit,
  range,
  labels,
  lineName,
  height,
}: {
  title: string;
  metric: string;
  unit: Unit;
  range: Range;
  /** Only the series with these labels. */
  labels?: Record<string, string>;
  /** The legend name of a series; series with the same name are summed. */
  lineName: (labels: MetricSeries["labels"]) => string;
  height?: number;
}) {
  const query = useMetric(metric, range, labels);
  const lines = useMemo(() => linesOf(query.data, lineName), [query.data, lineName]);
  const span = useMemo(() => rangeOf(query.data), [query.data]);
  if (query.isError)
    return (
      <TimeChart title={title} unit={unit} series={[]} action={<span className="text-xs text-rose-600 dark:text-rose-400">{query.error.message}</span>} />
    );
  return <TimeChart title={title} unit={unit} series={lines} range={span} loading={query.isPending} height={height} />;
}

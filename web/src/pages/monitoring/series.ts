/** Turning a metric's labelled series into chart lines: one line per label value, summed where several series share it. */
import type { ChartSeries } from "../../components/TimeChart";
import type { MetricQuery, MetricSeries } from "../../api/monitoring";

/** The most lines one chart draws (the largest by their mean value); more would not be readable. */
export const MAX_LINES = 8;

function mean(points: [number, number][]): number {
  return points.length === 0 ? 0 : points.reduce((total, [, value]) => total + value, 0) / points.length;
}

/**
 * One line per distinct `name(labels)`: series with the same name (e.g. every route of one status class) are summed
 * point by point; the `MAX_LINES` largest lines are kept.
 */
export function linesOf(query: MetricQuery | undefined, name: (labels: MetricSeries["labels"]) => string): ChartSeries[] {
  if (query === undefined) return [];
  const grouped = new Map<string, Map<number, number>>();
  for (const series of query.series) {
    const label = name(series.labels);
    const points = grouped.get(label) ?? new Map<number, number>();
    for (const [at, value] of series.points) points.set(at, (points.get(at) ?? 0) + value);
    grouped.set(label, points);
  }
  const lines = [...grouped.entries()].map(([label, points]) => ({
    label,
    points: [...points.entries()].sort(([a], [b]) => a - b),
  }));
  return lines.sort((a, b) => mean(b.points) - mean(a.points) || a.label.localeCompare(b.label)).slice(0, MAX_LINES);
}

/** The query's range as [start, end] in epoch seconds, for the chart's x axis. */
export function rangeOf(query: MetricQuery | undefined): [number, number] | undefined {
  if (query === undefined) return undefined;
  return [Math.floor(Date.parse(query.start) / 1000), Math.floor(Date.parse(query.end) / 1000)];
}

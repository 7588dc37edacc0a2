/** A time-series line chart (uPlot): fills its card's width, follows dark mode, formats values in their unit on the axis, in the legend and at the cursor. */
import "uplot/dist/uPlot.min.css";

import { useEffect, useRef, useState } from "react";
import uPlot from "uplot";

import { formatValue, type Unit } from "../lib/units";
import { Card } from "./Card";

/** One line: its legend label and its points as [epoch seconds, value]. */
export interface ChartSeries {
  label: string;
  points: [number, number][];
}

const COLORS = ["#0ea5e9", "#f97316", "#22c55e", "#a855f7", "#ef4444", "#eab308", "#14b8a6", "#ec4899"];
const DARK_QUERY = "(prefers-color-scheme: dark)";
const AXIS_WIDTH = 72;

function useDarkMode(): boolean {
  const [dark, setDark] = useState(() => window.matchMedia(DARK_QUERY).matches);
  useEffect(() => {
    const media = window.matchMedia(DARK_QUERY);
    const changed = (event: MediaQueryListEvent) => {
      setDark(event.matches);
    };
    media.addEventListener("change", changed);
    return () => {
      media.removeEventListener("change", changed);
    };
  }, []);
  return dark;
}

/** uPlot's aligned data: one shared, sorted time axis; a series without a point at a time has null there. */
function aligned(series: ChartSeries[]): uPlot.AlignedData {
  const times = [...new Set(series.flatMap((item) => item.points.map(([at]) => at)))].sort((a, b) => a - b);
  const index = new Map(times.map((at, position) => [at, position]));
  const columns = series.map((item) => {
    const column: (number | null)[] = times.map(() => null);
    for (const [at, value] of item.points) {
      const position = index.get(at);
      if (position !== undefined) column[position] = value;
    }
    return column;
  });
  return [times, ...columns];
}

function options(width: number, height: number, unit: Unit, series: ChartSeries[], dark: boolean, range?: [number, number]): uPlot.Options {
  const text = dark ? "#94a3b8" : "#475569";
  const grid = dark ? "#1e293b" : "#e2e8f0";
  const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
  return {
    width,
    height,
    legend: { show: true, live: true },
    cursor: { drag: { x: false, y: false } },
    scales: {
      x: { time: true, ...(range === undefined ? {} : { range: (): uPlot.Range.MinMax => range }) },
      y: {
        range: (_chart, _min, max): uPlot.Range.MinMax => {
          const top = unit === "percent" ? Math.max(100, max) : max > 0 ? max * 1.15 : 1;
          return [0, top];
        },
      },
    },
    axes: [
      axis,
      { ...axis, size: AXIS_WIDTH, values: (_chart, splits) => splits.map((value) => formatValue(value, unit)) },
    ],
    series: [
      { label: "Time" },
      ...series.map((item, position) => ({
        label: item.label,
        stroke: COLORS[position % COLORS.length] ?? "#0ea5e9",
        width: 2,
        spanGaps: false,
        points: { show: false },
        value: (_chart: uPlot, value: number | null) => formatValue(value, unit),
      })),
    ],
  };
}

/**
 * A chart of one metric over a range, in a card. `range` ([start, end], epoch seconds) keeps the whole range on the x
 * axis even where there is no data yet; without points at all it says when data will come.
 */
export function TimeChart({
  title,
  unit,
  series,
  range,
  height = 180,
  loading = false,
  action,
}: {
  title: string;
  unit: Unit;
  series: ChartSeries[];
  range?: [number, number];
  height?: number;
  loading?: boolean;
  action?: React.ReactNode;
}) {
  const holder = useRef<HTMLDivElement>(null);
  const dark = useDarkMode();
  const empty = series.every((item) => item.points.length === 0);

  useEffect(() => {
    const element = holder.current;
    if (element === null || empty) return;
    const chart = new uPlot(options(Math.max(element.clientWidth, 200), height, unit, series, dark, range), aligned(series), element);
    const observer = new ResizeObserver(() => {
      chart.setSize({ width: Math.max(element.clientWidth, 200), height });
    });
    observer.observe(element);
    return () => {
      observer.disconnect();
      chart.destroy();
    };
  }, [series, unit, dark, height, range, empty]);

  return (
    <Card title={title} action={action}>
      {empty ? (
        <div className="flex items-center justify-center rounded-lg border border-dashed border-slate-200 text-center text-sm text-slate-500 dark:border-slate-700 dark:text-slate-400" style={{ height }} data-testid="chart-empty">
          {loading ? "Loading…" : "No data yet: metrics are collected every 15 s."}
        </div>
      ) : (
        <div ref={holder} className="time-chart w-full text-xs text-slate-600 dark:text-slate-300" data-testid="time-chart" role="img" aria-label={`${title} over time`} />
      )}
    </Card>
  );
}

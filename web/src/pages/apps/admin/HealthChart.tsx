/** A service's last hours of health as an SVG timeline: one bar per check, its height the latency, red where the check failed. */
import type { Check } from "../../../api/appServices";
import { formatDateTime, formatLatency, parseDate } from "../../../lib/format";

const WIDTH = 720;
const HEIGHT = 120;
const AXIS = 18;

const count = (checks: number): string => `${checks} check${checks === 1 ? "" : "s"}`;

/** `end`: when the checks were read (the chart ends there, "now"). */
export function HealthChart({ checks, hours, end }: { checks: readonly Check[]; hours: number; end: number }) {
  const start = end - hours * 3_600_000;
  const points = checks
    .map((check) => ({ check, at: parseDate(check.checked_at)?.getTime() ?? 0 }))
    .filter(({ at }) => at >= start)
    .sort((a, b) => a.at - b.at);
  const slowest = Math.max(50, ...points.map(({ check }) => check.latency_ms ?? 0));
  const plot = HEIGHT - AXIS;
  const barWidth = Math.max(2, Math.min(10, (WIDTH / Math.max(points.length, 1)) * 0.7));
  const failed = points.filter(({ check }) => !check.ok).length;
  const x = (at: number): number => ((at - start) / (end - start)) * (WIDTH - barWidth);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((share) => start + share * (end - start));
  return (
    <figure>
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        className="h-36 w-full"
        role="img"
        aria-label={`Health over the last ${hours} hours: ${count(points.length)}, ${failed} failed`}
        data-testid="health-chart"
      >
        <line x1={0} x2={WIDTH} y1={plot} y2={plot} className="stroke-slate-300 dark:stroke-slate-700" />
        <line x1={0} x2={WIDTH} y1={plot / 2} y2={plot / 2} className="stroke-slate-200 dark:stroke-slate-800" strokeDasharray="4 4" />
        <text x={WIDTH} y={plot / 2 - 4} textAnchor="end" className="fill-slate-400 text-[10px]">
          {formatLatency(slowest / 2)}
        </text>
        {points.map(({ check, at }) => {
          // A failed check without a latency still shows, as a full-height red bar.
          const height = check.ok ? Math.max(3, ((check.latency_ms ?? 0) / slowest) * (plot - 4)) : plot - 4;
          return (
            <rect
              key={check.checked_at}
              x={x(at)}
              y={plot - height}
              width={barWidth}
              height={height}
              rx={1}
              className={check.ok ? "fill-emerald-500" : "fill-rose-500"}
            >
              <title>
                {`${formatDateTime(new Date(at))}: ${check.ok ? "up" : "down"}${check.latency_ms !== null ? `, ${formatLatency(check.latency_ms)}` : ""}${check.error ? ` — ${check.error}` : ""}`}
              </title>
            </rect>
          );
        })}
        {ticks.map((tick, index) => (
          <text
            key={tick}
            x={index === 0 ? 0 : index === ticks.length - 1 ? WIDTH : (index / (ticks.length - 1)) * WIDTH}
            y={HEIGHT - 4}
            textAnchor={index === 0 ? "start" : index === ticks.length - 1 ? "end" : "middle"}
            className="fill-slate-500 text-[10px]"
          >
            {index === ticks.length - 1 ? "now" : `-${Math.round(((end - tick) / 3_600_000) * 10) / 10} h`}
          </text>
        ))}
      </svg>
      <figcaption className="mt-1 text-xs text-slate-500 dark:text-slate-400">
        {points.length === 0
          ? `No checks in the last ${hours} hours yet.`
          : `${count(points.length)}, ${failed} failed. Bar height: how long /health took; red: down.`}
      </figcaption>
    </figure>
  );
}

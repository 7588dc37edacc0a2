/** The stats tab: live line charts (plain SVG) of CPU, memory, network and disk from the console's stats frames, last 5 minutes. */
import type { Container } from "../../api/containers";
import { Card } from "../../components/Card";
import { formatBytes } from "./containerState";
import type { StatsSample } from "./useConsole";

const WINDOW_MS = 5 * 60 * 1000;
const WIDTH = 600;
const HEIGHT = 140;

interface Series {
  label: string;
  color: string;
  points: { at: number; value: number }[];
}

function Chart({ title, series, format, ceiling, now }: { title: string; series: Series[]; format: (value: number) => string; ceiling?: number; now: number }) {
  const values = series.flatMap((item) => item.points.map((point) => point.value));
  const top = Math.max(ceiling ?? 0, ...values, 1) * 1.1;
  const x = (at: number): number => ((at - (now - WINDOW_MS)) / WINDOW_MS) * WIDTH;
  const y = (value: number): number => HEIGHT - (value / top) * HEIGHT;
  return (
    <Card
      title={title}
      action={
        <span className="flex gap-3 text-xs">
          {series.map((item) => (
            <span key={item.label} className="flex items-center gap-1.5 text-slate-600 dark:text-slate-300">
              <span className="inline-block size-2 rounded-full" style={{ background: item.color }} />
              {item.label} {item.points.length > 0 ? format(item.points[item.points.length - 1]?.value ?? 0) : "–"}
            </span>
          ))}
        </span>
      }
    >
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} className="h-36 w-full" preserveAspectRatio="none" role="img" aria-label={`${title}, last 5 minutes`}>
        {[0.25, 0.5, 0.75].map((fraction) => (
          <line key={fraction} x1={0} x2={WIDTH} y1={HEIGHT * fraction} y2={HEIGHT * fraction} className="stroke-slate-200 dark:stroke-slate-800" strokeWidth={1} />
        ))}
        {ceiling !== undefined && <line x1={0} x2={WIDTH} y1={y(ceiling)} y2={y(ceiling)} stroke="#f43f5e" strokeDasharray="4 4" strokeWidth={1} />}
        {series.map((item) => (
          <polyline
            key={item.label}
            fill="none"
            stroke={item.color}
            strokeWidth={2}
            vectorEffect="non-scaling-stroke"
            points={item.points.map((point) => `${x(point.at).toFixed(1)},${y(point.value).toFixed(1)}`).join(" ")}
          />
        ))}
      </svg>
      <div className="mt-1 flex justify-between text-xs text-slate-500">
        <span>5 min ago</span>
        <span>
          max {format(top / 1.1)}
          {ceiling !== undefined ? ` · limit ${format(ceiling)}` : ""}
        </span>
        <span>now</span>
      </div>
    </Card>
  );
}

/** Bytes per second between consecutive cumulative counters. */
function rate(stats: StatsSample[], key: "network_rx_bytes" | "network_tx_bytes"): { at: number; value: number }[] {
  const points: { at: number; value: number }[] = [];
  for (let index = 1; index < stats.length; index += 1) {
    const previous = stats[index - 1];
    const current = stats[index];
    if (previous === undefined || current === undefined) continue;
    const seconds = (current.at - previous.at) / 1000;
    if (seconds > 0) points.push({ at: current.at, value: Math.max(0, (current[key] - previous[key]) / seconds) });
  }
  return points;
}

export function StatsTab({ stats, container }: { stats: StatsSample[]; container: Container }) {
  const last = stats.at(-1);
  if (last === undefined) {
    return <p className="text-sm text-slate-600 dark:text-slate-400" data-testid="stats-empty">No stats yet: they arrive about once a second while the container runs.</p>;
  }
  const now = last.at;
  const memoryLimit = last.memory_limit_bytes || container.memory_mb * 1024 * 1024;
  return (
    <div className="grid gap-4 lg:grid-cols-2" data-testid="stats-charts">
      <Chart
        title="CPU"
        now={now}
        ceiling={container.cpu}
        format={(value) => `${value.toFixed(1)} %`}
        series={[{ label: "CPU", color: "#0ea5e9", points: stats.map((item) => ({ at: item.at, value: item.cpu_percent })) }]}
      />
      <Chart
        title="Memory"
        now={now}
        ceiling={memoryLimit > 0 ? memoryLimit : undefined}
        format={formatBytes}
        series={[{ label: "Used", color: "#8b5cf6", points: stats.map((item) => ({ at: item.at, value: item.memory_bytes })) }]}
      />
      <Chart
        title="Network"
        now={now}
        format={(value) => `${formatBytes(value)}/s`}
        series={[
          { label: "In", color: "#10b981", points: rate(stats, "network_rx_bytes") },
          { label: "Out", color: "#f59e0b", points: rate(stats, "network_tx_bytes") },
        ]}
      />
      <Chart
        title="Disk"
        now={now}
        ceiling={container.disk_mb * 1024 * 1024}
        format={formatBytes}
        series={[{ label: "Used", color: "#64748b", points: stats.map((item) => ({ at: item.at, value: item.disk_bytes })) }]}
      />
    </div>
  );
}

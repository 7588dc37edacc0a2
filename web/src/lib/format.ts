/** Formatting of times, durations and latencies for display, in the reader's locale. */

export function formatTime(date: Date): string {
  return date.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

export function formatDateTime(date: Date): string {
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}

/** "2 d 3 h", "4 h 12 min", "35 s": the two largest units of a duration. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const units: [number, string][] = [
    [Math.floor(seconds / 86400), "d"],
    [Math.floor((seconds % 86400) / 3600), "h"],
    [Math.floor((seconds % 3600) / 60), "min"],
    [seconds % 60, "s"],
  ];
  const first = units.findIndex(([value]) => value > 0);
  if (first === -1) return "0 s";
  return units
    .slice(first, first + 2)
    .filter(([value]) => value > 0)
    .map(([value, unit]) => `${value} ${unit}`)
    .join(" ");
}

export function formatLatency(ms?: number | null): string {
  if (ms === undefined || ms === null) return "—";
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

/** Parses an ISO datetime; null when the server sent something unparseable. */
export function parseDate(value: string): Date | null {
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

const engineNames: Record<string, string> = {
  sqlite: "SQLite — the embedded default",
  postgresql: "PostgreSQL — for scale-out",
};

export function describeEngine(engine: string): string {
  return engineNames[engine] ?? "Database engine in use";
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

const relativeUnits: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 86400],
  ["month", 30 * 86400],
  ["day", 86400],
  ["hour", 3600],
  ["minute", 60],
];

/** "just now", "5 minutes ago", "in 3 days": how far `date` is from `now`. */
export function formatRelative(date: Date, now: Date = new Date()): string {
  const seconds = (date.getTime() - now.getTime()) / 1000;
  if (Math.abs(seconds) < 45) return "just now";
  for (const [unit, size] of relativeUnits) {
    if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
  }
  return relative.format(Math.round(seconds / 60), "minute");
}

/** A compact date and time ("Nov 22, 2026, 03:02") for tables. */
export function formatShortDateTime(date: Date): string {
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** An ISO timestamp from the API as "5 minutes ago" (with the full time for a tooltip), or a dash. */
export function describeTimestamp(value: string | null | undefined): { text: string; title: string } {
  const date = value ? parseDate(value) : null;
  if (date === null) return { text: "—", title: "" };
  return { text: formatRelative(date), title: formatDateTime(date) };
}

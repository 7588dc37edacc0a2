/** Values of metrics as people read them: bytes in binary units, percentages, rates and durations. */

/** The units a chart's axis, legend and tooltip format their values in. */
export type Unit = "bytes" | "bytes/s" | "percent" | "req/s" | "seconds" | "count";

const BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

function trimmed(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 100 || Number.isInteger(value)) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2).replace(/\.?0+$/, "");
  return String(Number(value.toPrecision(2))); // 0.0042, not 0
}

/** 1536 → "1.5 KiB". */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${trimmed(value)} ${BYTE_UNITS[unit] ?? "B"}`;
}

/** 0.25 → "250 ms", 3 → "3 s", 150 → "2.5 min". */
export function formatSeconds(seconds: number): string {
  const abs = Math.abs(seconds);
  if (abs === 0) return "0 s";
  if (abs < 1) return `${trimmed(seconds * 1000)} ms`;
  if (abs < 120) return `${trimmed(seconds)} s`;
  if (abs < 7200) return `${trimmed(seconds / 60)} min`;
  if (abs < 172800) return `${trimmed(seconds / 3600)} h`;
  return `${trimmed(seconds / 86400)} d`;
}

/** 12345 → "12.3k". */
function formatCount(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${trimmed(value / 1e9)}G`;
  if (abs >= 1e6) return `${trimmed(value / 1e6)}M`;
  if (abs >= 1e3) return `${trimmed(value / 1e3)}k`;
  return trimmed(value);
}

/** A value in its unit, short enough for an axis tick. */
export function formatValue(value: number | null | undefined, unit: Unit): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  switch (unit) {
    case "bytes":
      return formatBytes(value);
    case "bytes/s":
      return `${formatBytes(value)}/s`;
    case "percent":
      return `${trimmed(value)} %`;
    case "req/s":
      return `${formatCount(value)}/s`;
    case "seconds":
      return formatSeconds(value);
    case "count":
      return formatCount(value);
  }
}

/** The chart unit of a metric from the unit the catalog gives it ("bytes", "percent", "seconds", ...). */
export function unitOf(catalogUnit: string): Unit {
  switch (catalogUnit) {
    case "bytes":
    case "bytes/s":
    case "percent":
    case "req/s":
    case "seconds":
      return catalogUnit;
    default:
      return "count";
  }
}

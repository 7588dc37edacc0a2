/** What the container pages share that is not a component: state colours, the power actions a state allows, byte sizes. */
import type { PowerAction } from "../../api/containers";
import type { BadgeTone } from "../../components/Badge";

export const STATE_TONES: Record<string, BadgeTone> = {
  running: "success",
  starting: "brand",
  stopping: "brand",
  installing: "brand",
  deleting: "warning",
  stopped: "neutral",
  crashed: "danger",
  install_failed: "danger",
};

export const CONTAINER_STATES = ["installing", "install_failed", "stopped", "starting", "running", "stopping", "crashed", "deleting"] as const;

/** Which power actions make sense in a state (the server refuses the others with 409 anyway). */
export function actionsFor(state: string): PowerAction[] {
  if (state === "running") return ["restart", "stop", "kill"];
  if (state === "stopped" || state === "crashed") return ["start"];
  if (state === "starting" || state === "stopping") return ["kill"];
  return [];
}

/** 1536 -> "1.5 KiB". */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 10 || unit === 0 ? value.toFixed(0) : value.toFixed(1)} ${units[unit] ?? "B"}`;
}

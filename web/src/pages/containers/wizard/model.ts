/** The wizard's steps, its form state (Settings) and the checks the browser makes before the server does. */
import type { Egg } from "../../../api/containers";
import { checkValue, parseRules } from "../../../lib/eggRules";

export const STEPS = ["Egg", "Variables", "Limits and placement", "Review"] as const;
export type Step = 0 | 1 | 2 | 3;

export interface Settings {
  name: string;
  clusterId: string;
  /** "" lets the server pick any node of the cluster with room. */
  nodeId: string;
  image: string;
  cpu: string;
  memory: string;
  disk: string;
  start: boolean;
  ports: string;
  restartMode: "never" | "on-crash";
  maxRetries: string;
}

export const DEFAULT_SETTINGS: Settings = {
  name: "",
  clusterId: "",
  nodeId: "",
  image: "",
  cpu: "100",
  memory: "512",
  disk: "1024",
  start: true,
  ports: "1",
  restartMode: "never",
  maxRetries: "3" };

/** The client-side error of each user-editable variable (null when it passes). */
export function variableErrors(egg: Egg, values: Record<string, string>): Record<string, string | null> {
  const errors: Record<string, string | null> = {};
  for (const variable of egg.variables.filter((item) => item.user_editable)) {
    const message = checkValue(values[variable.env_variable] ?? variable.default_value, parseRules(variable.rules));
    errors[variable.env_variable] = message === null ? null : `${variable.env_variable} ${message}`;
  }
  return errors;
}

/** Why each limit field is not acceptable (null when it is). */
export function limitErrorsOf(settings: Settings): Record<"name" | "cpu" | "memory" | "disk" | "ports" | "maxRetries", string | null> {
  return {
    name: settings.name.trim() === "" ? "Give the container a name." : /^[\w .@-]+$/u.test(settings.name.trim()) ? null : "Letters, digits, spaces and . @ - _ only.",
    cpu: Number(settings.cpu) >= 1 ? null : "At least 1 (% of one core).",
    memory: Number(settings.memory) >= 4 ? null : "At least 4 MiB.",
    disk: Number(settings.disk) >= 1 ? null : "At least 1 MiB.",
    ports: Number.isInteger(Number(settings.ports)) && Number(settings.ports) >= 1 && Number(settings.ports) <= 20 ? null : "From 1 to 20 ports.",
    maxRetries:
      settings.restartMode === "never" || (Number.isInteger(Number(settings.maxRetries)) && Number(settings.maxRetries) >= 1 && Number(settings.maxRetries) <= 100)
        ? null
        : "From 1 to 100 restarts." };
}

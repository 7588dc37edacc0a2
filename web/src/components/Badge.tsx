/** A small rounded label: a state ("Coming soon", "ok", "failing") at a glance. */
import type { ReactNode } from "react";

export type BadgeTone = "neutral" | "brand" | "success" | "danger" | "warning";

const tones: Record<BadgeTone, string> = {
  neutral: "bg-slate-100 text-slate-700 ring-slate-300/60 dark:bg-slate-800 dark:text-slate-300 dark:ring-slate-600/60",
  brand: "bg-sky-50 text-sky-800 ring-sky-300/70 dark:bg-sky-950 dark:text-sky-200 dark:ring-sky-700/70",
  success: "bg-emerald-50 text-emerald-800 ring-emerald-300/70 dark:bg-emerald-950 dark:text-emerald-200 dark:ring-emerald-700/70",
  danger: "bg-rose-50 text-rose-800 ring-rose-300/70 dark:bg-rose-950 dark:text-rose-200 dark:ring-rose-700/70",
  warning: "bg-amber-50 text-amber-800 ring-amber-300/70 dark:bg-amber-950 dark:text-amber-200 dark:ring-amber-700/70",
};

export function Badge({ tone = "neutral", children }: { tone?: BadgeTone; children: ReactNode }) {
  return (
    <span className={`inline-flex items-center gap-1.5 rounded-full px-2.5 py-0.5 text-xs font-medium ring-1 ring-inset ${tones[tone]}`}>
      {children}
    </span>
  );
}

/** A colored dot that says the same as its text, for scanning a list of states. */
export function StatusDot({ tone }: { tone: BadgeTone }) {
  const colors: Record<BadgeTone, string> = {
    neutral: "bg-slate-400",
    brand: "bg-sky-500",
    success: "bg-emerald-500",
    danger: "bg-rose-500",
    warning: "bg-amber-500",
  };
  return <span className={`inline-block size-2 shrink-0 rounded-full ${colors[tone]}`} aria-hidden="true" />;
}

/** A bordered surface with an optional title row; the building block of the dashboard and status pages. */
import type { ReactNode } from "react";

export function Card({ title, action, children, className = "" }: { title?: ReactNode; action?: ReactNode; children: ReactNode; className?: string }) {
  return (
    <section className={`rounded-xl border border-slate-200 bg-white p-5 shadow-sm dark:border-slate-800 dark:bg-slate-900 ${className}`}>
      {title !== undefined && (
        <div className="mb-3 flex items-center justify-between gap-3">
          <h2 className="text-sm font-medium text-slate-500 dark:text-slate-400">{title}</h2>
          {action}
        </div>
      )}
      {children}
    </section>
  );
}

/** A grey placeholder bar shown while data loads. */
export function Skeleton({ className = "h-6 w-24" }: { className?: string }) {
  return <span className={`block animate-pulse rounded-md bg-slate-200 dark:bg-slate-700 ${className}`} aria-hidden="true" />;
}

/** The top of every page: the one h1, an optional line under it, and optional actions on the right. */
import type { ReactNode } from "react";

export function PageHeader({ title, description, actions, badge }: { title: string; description?: ReactNode; actions?: ReactNode; badge?: ReactNode }) {
  return (
    <div className="mb-8 flex flex-col gap-4 sm:flex-row sm:items-end sm:justify-between">
      <div>
        <div className="flex flex-wrap items-center gap-3">
          <h1 className="text-2xl font-semibold tracking-tight text-slate-900 sm:text-3xl dark:text-white">{title}</h1>
          {badge}
        </div>
        {description !== undefined && <p className="mt-2 max-w-2xl text-slate-600 dark:text-slate-400">{description}</p>}
      </div>
      {actions !== undefined && <div className="flex shrink-0 items-center gap-3">{actions}</div>}
    </div>
  );
}

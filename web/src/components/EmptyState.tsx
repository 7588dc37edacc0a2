/** A centered "nothing here yet" panel: an icon, a short message, and optional actions. */
import type { ReactNode } from "react";

import type { IconComponent } from "./icons";

export function EmptyState({ icon: Icon, title, children, actions }: { icon: IconComponent; title: string; children: ReactNode; actions?: ReactNode }) {
  return (
    <div className="flex flex-col items-center rounded-xl border border-dashed border-slate-300 bg-white px-6 py-14 text-center dark:border-slate-700 dark:bg-slate-900">
      <span className="inline-flex size-12 items-center justify-center rounded-full bg-sky-50 text-sky-700 dark:bg-sky-500/15 dark:text-sky-300">
        <Icon className="size-6" />
      </span>
      <h2 className="mt-4 text-base font-semibold text-slate-900 dark:text-white">{title}</h2>
      <div className="mt-2 max-w-md text-sm text-slate-600 dark:text-slate-400">{children}</div>
      {actions !== undefined && <div className="mt-6 flex flex-wrap justify-center gap-3">{actions}</div>}
    </div>
  );
}

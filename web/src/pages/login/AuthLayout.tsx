/** The frame of the pages people use before they are signed in: sign in, sign up, mailed links. */
import type { ReactNode } from "react";
import { Link } from "react-router";

import { PulseIcon } from "../../components/icons";
import { LogoMark } from "../../components/Logo";

/** The white panel the forms sit on. */
export const panelClass =
  "rounded-2xl border border-slate-200 bg-white p-6 shadow-xl shadow-slate-900/5 sm:p-8 dark:border-slate-800 dark:bg-slate-900 dark:shadow-black/20";

/** A quiet text link under or inside a form ("Forgot password?", "Back to sign in"). */
export const textLinkClass = "rounded font-medium text-sky-700 hover:text-sky-900 hover:underline dark:text-sky-300 dark:hover:text-sky-100";

export function AuthLayout({ title, subtitle, children, footer }: { title: string; subtitle: ReactNode; children: ReactNode; footer?: ReactNode }) {
  return (
    <div className="flex min-h-dvh flex-col bg-linear-to-b from-sky-50 via-slate-50 to-slate-100 text-slate-900 dark:from-slate-900 dark:via-slate-950 dark:to-slate-950 dark:text-slate-100">
      <main className="flex flex-1 flex-col items-center justify-center px-4 py-12">
        <div className="w-full max-w-sm">
          <div className="flex flex-col items-center text-center">
            <LogoMark className="size-12 drop-shadow-sm" />
            <h1 className="mt-5 text-2xl font-semibold tracking-tight text-slate-900 dark:text-white">{title}</h1>
            <p className="mt-1.5 text-sm text-slate-600 dark:text-slate-400">{subtitle}</p>
          </div>
          <div className="mt-8">{children}</div>
          {footer}
          <p className="mt-6 text-center">
            <Link to="/status" className="inline-flex items-center gap-1.5 rounded text-xs font-medium text-slate-500 hover:text-slate-800 dark:text-slate-400 dark:hover:text-white">
              <PulseIcon className="size-4" />
              Server status
            </Link>
          </p>
        </div>
      </main>
    </div>
  );
}

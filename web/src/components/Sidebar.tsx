/** The section navigation: a fixed column on wide screens, a drawer opened from the top bar on narrow ones. */
import { Fragment } from "react";
import { NavLink } from "react-router";

import { useAuth } from "../auth/session";
import { PinnedViews } from "../pages/documents/SavedViews";
import { isListedFor, sections, type Section } from "../sections";
import { HomeIcon, type IconComponent } from "./icons";

function linkClass({ isActive }: { isActive: boolean }): string {
  const base = "group flex items-center gap-3 rounded-lg px-3 py-2 text-sm font-medium transition-colors";
  return isActive
    ? `${base} bg-sky-50 text-sky-800 dark:bg-sky-500/15 dark:text-sky-200`
    : `${base} text-slate-700 hover:bg-slate-100 hover:text-slate-900 dark:text-slate-300 dark:hover:bg-slate-800 dark:hover:text-white`;
}

function Item({ to, name, icon: Icon, onNavigate, end = false }: { to: string; name: string; icon: IconComponent; onNavigate: () => void; end?: boolean }) {
  return (
    <li>
      <NavLink to={to} end={end} className={linkClass} onClick={onNavigate}>
        <Icon className="size-5 shrink-0 text-slate-400 group-aria-[current=page]:text-sky-600 dark:text-slate-500 dark:group-aria-[current=page]:text-sky-300" />
        {name}
      </NavLink>
    </li>
  );
}

function Group({ id, label, items, onNavigate }: { id: string; label: string; items: readonly Section[]; onNavigate: () => void }) {
  return (
    <div className="mt-6">
      <p id={id} className="px-3 text-xs font-semibold tracking-wider text-slate-500 uppercase dark:text-slate-400">
        {label}
      </p>
      <ul aria-labelledby={id} className="mt-2 space-y-0.5">
        {items.map((section) => (
          <Fragment key={section.id}>
            <Item to={section.path} name={section.name} icon={section.icon} onNavigate={onNavigate} />
            {/* The saved views pinned to the sidebar, under Documents. */}
            {section.id === "documents" && <PinnedViews onNavigate={onNavigate} />}
          </Fragment>
        ))}
      </ul>
    </div>
  );
}

export function Sidebar({ open, onNavigate }: { open: boolean; onNavigate: () => void }) {
  const { state } = useAuth();
  const permissions = state.status === "signed-in" ? state.me.permissions : null;
  const listed = sections.filter((section) => isListedFor(section, permissions));
  return (
    <nav
      id="sidebar"
      aria-label="Sections"
      className={`${open ? "fixed inset-x-0 top-16 bottom-0 z-30 block" : "hidden"} overflow-y-auto border-r border-slate-200 bg-white px-3 py-5 lg:sticky lg:top-16 lg:z-auto lg:block lg:h-[calc(100dvh-4rem)] lg:w-64 lg:shrink-0 dark:border-slate-800 dark:bg-slate-900`}
    >
      <ul className="space-y-0.5">
        <Item to="/" name="Overview" icon={HomeIcon} onNavigate={onNavigate} end />
      </ul>
      <Group id="nav-workspace" label="Workspace" items={listed.filter((s) => s.group === "workspace")} onNavigate={onNavigate} />
      <Group id="nav-system" label="System" items={listed.filter((s) => s.group === "system")} onNavigate={onNavigate} />
    </nav>
  );
}

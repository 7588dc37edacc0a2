/** /admin: what the admin console holds today, and honestly what it does not yet. */
import { Link } from "react-router";

import { can, useMe } from "../../auth/session";
import { Badge } from "../../components/Badge";
import { ArrowRightIcon, KeyIcon, ListIcon, ShieldIcon, UsersIcon, type IconComponent } from "../../components/icons";
import { PageHeader } from "../../components/PageHeader";
import { useDocumentTitle } from "../../hooks/useDocumentTitle";

interface Area {
  to: string;
  name: string;
  description: string;
  icon: IconComponent;
  /** A permission code, or "superadmin" for what only super-admins may do. */
  permission: string;
}

const areas: Area[] = [
  {
    to: "/admin/users",
    name: "Users",
    description: "Find people, create accounts with their roles, deactivate and reactivate them.",
    icon: UsersIcon,
    permission: "admin.users",
  },
  {
    to: "/admin/roles",
    name: "Roles",
    description: "What each role may do: the built-in roles, and your own roles with their permissions and inheritance.",
    icon: KeyIcon,
    permission: "admin.roles",
  },
  {
    to: "/admin/groups",
    name: "Groups",
    description: "Give roles to many people at once: groups, their roles and their members.",
    icon: UsersIcon,
    permission: "admin.groups",
  },
  {
    to: "/admin/audit",
    name: "Audit log",
    description: "Who did what and when: sign-ins, changes to users and sessions. Filter and export as CSV.",
    icon: ListIcon,
    permission: "admin.audit",
  },
  {
    to: "/admin/settings",
    name: "Settings",
    description: "Every settings group in one place — feature flags, public links, files, documents, apps — with where to change each.",
    icon: ListIcon,
    permission: "admin.settings",
  },
  {
    to: "/admin/tenants",
    name: "Tenants",
    description: "Every tenant on this server: create one, suspend or reactivate it, delete it. Super-admins only.",
    icon: ShieldIcon,
    permission: "superadmin",
  },
  {
    to: "/admin/registration",
    name: "Registration",
    description: "Let people create their own account: which tenant and role they get, and whether they confirm their email first. Super-admins only.",
    icon: UsersIcon,
    permission: "superadmin",
  },
];

export function AdminIndexPage() {
  useDocumentTitle("Admin");
  const me = useMe();
  const available = areas.filter((area) => (area.permission === "superadmin" ? me.user.is_superadmin : can(me, area.permission)));
  return (
    <>
      <PageHeader title="Admin" description={`Look after the ${me.tenant.name} tenant: its people and its record of what happened.`} />
      <ul className="grid gap-4 sm:grid-cols-2 xl:grid-cols-3">
        {available.map(({ to, name, description, icon: Icon }) => (
          <li key={to}>
            <Link
              to={to}
              className="group flex h-full flex-col rounded-xl border border-slate-200 bg-white p-5 shadow-sm transition hover:border-sky-300 hover:shadow-md dark:border-slate-800 dark:bg-slate-900 dark:hover:border-sky-700"
            >
              <span className="inline-flex size-10 items-center justify-center rounded-lg bg-sky-50 text-sky-700 dark:bg-sky-500/15 dark:text-sky-300">
                <Icon className="size-5" />
              </span>
              <h2 className="mt-4 flex items-center gap-1.5 font-semibold text-slate-900 group-hover:text-sky-800 dark:text-white dark:group-hover:text-sky-200">
                {name}
                <ArrowRightIcon className="size-4 opacity-0 transition group-hover:opacity-100" />
              </h2>
              <p className="mt-1 text-sm text-slate-600 dark:text-slate-400">{description}</p>
            </Link>
          </li>
        ))}
        <li>
          <div className="flex h-full flex-col rounded-xl border border-dashed border-slate-300 bg-white/60 p-5 dark:border-slate-700 dark:bg-slate-900/60">
            <div className="flex items-center justify-between gap-3">
              <span className="inline-flex size-10 items-center justify-center rounded-lg bg-slate-100 text-slate-500 dark:bg-slate-800 dark:text-slate-400">
                <ShieldIcon className="size-5" />
              </span>
              <Badge>Coming next</Badge>
            </div>
            <h2 className="mt-4 font-semibold text-slate-700 dark:text-slate-200">Sign-in settings: coming next</h2>
            <p className="mt-1 text-sm text-slate-600 dark:text-slate-400">
              Requiring two-factor sign-in or passkeys for a tenant is not in the console yet; each person turns them on in their account.
            </p>
          </div>
        </li>
      </ul>
    </>
  );
}

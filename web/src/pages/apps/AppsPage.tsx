/** /apps: the apps you may open, each with its health; "Open" goes through the gateway (/apps/<id>/, a full page load), or to a new tab. */
import { useState } from "react";
import { Link } from "react-router";

import type { App } from "../../api/appServices";
import { useApps } from "../../api/appServicesQueries";
import { can, useMe } from "../../auth/session";
import { buttonClass } from "../../components/Button";
import { Skeleton } from "../../components/Card";
import { Dialog } from "../../components/Dialog";
import { EmptyState } from "../../components/EmptyState";
import { Alert } from "../../components/Form";
import { AppsIcon } from "../../components/icons";
import { PageHeader } from "../../components/PageHeader";
import { useDocumentTitle } from "../../hooks/useDocumentTitle";
import { HealthBadge } from "./HealthBadge";
import { ServiceSettingsForm } from "./ServiceSettingsForm";

function AppIcon({ app }: { app: App }) {
  const [broken, setBroken] = useState(false);
  if (app.icon === "" || broken)
    return (
      <span className="inline-flex size-12 shrink-0 items-center justify-center rounded-xl bg-sky-50 text-sky-700 dark:bg-sky-500/15 dark:text-sky-300" aria-hidden="true">
        <AppsIcon className="size-6" />
      </span>
    );
  return (
    <img
      src={app.icon}
      alt=""
      className="size-12 shrink-0 rounded-xl bg-slate-50 object-contain p-1 dark:bg-slate-800"
      onError={() => {
        setBroken(true);
      }}
    />
  );
}

function AppCard({ app, onSettings }: { app: App; onSettings: () => void }) {
  const down = app.status === "down";
  return (
    <li className="flex flex-col rounded-xl border border-slate-200 bg-white p-5 shadow-sm dark:border-slate-800 dark:bg-slate-900" data-testid="app-card">
      <div className="flex items-start gap-4">
        <AppIcon app={app} />
        <div className="min-w-0">
          <h2 className="truncate text-base font-semibold text-slate-900 dark:text-white">{app.name}</h2>
          <HealthBadge status={app.status} checkedAt={app.last_checked_at} />
        </div>
      </div>
      <p className="mt-3 flex-1 text-sm text-slate-600 dark:text-slate-400">{app.description || "No description."}</p>
      {down && <p className="mt-2 text-xs text-rose-700 dark:text-rose-300">It is not answering right now; try again in a minute, or tell an admin.</p>}
      <div className="mt-4 flex flex-wrap gap-2">
        {app.open_url !== null ? (
          <>
            {/* The gateway is the server's, not a page of this app: a full page load. */}
            <a href={app.open_url} className={buttonClass.primary} {...(app.open_in === "tab" ? { target: "_blank", rel: "noopener" } : {})}>
              Open
            </a>
            {app.open_in === "nubes" && (
              <a href={app.open_url} target="_blank" rel="noopener" className={buttonClass.secondary}>
                Open in new tab
              </a>
            )}
          </>
        ) : (
          <span className="text-xs text-slate-500 dark:text-slate-400">An API for other apps; nothing to open.</span>
        )}
        {app.can_manage_settings && (
          <button type="button" className={buttonClass.secondary} onClick={onSettings}>
            Settings
          </button>
        )}
      </div>
    </li>
  );
}

export function AppsPage() {
  useDocumentTitle("Apps");
  const me = useMe();
  const apps = useApps();
  const [settingsOf, setSettingsOf] = useState<App | null>(null);
  const admin = can(me, "apps.manage");
  return (
    <>
      <PageHeader
        title="Apps"
        description="Apps that run beside Nubes and sign you in with your Nubes account."
        actions={
          admin ? (
            <Link to="/admin/services" className={buttonClass.secondary}>
              Manage services
            </Link>
          ) : undefined
        }
      />
      {apps.error !== null && <Alert tone="danger">{apps.error.message}</Alert>}
      {apps.data === undefined && apps.error === null && (
        <div className="grid gap-4 sm:grid-cols-2 xl:grid-cols-3">
          <Skeleton className="h-44 w-full" />
          <Skeleton className="h-44 w-full" />
        </div>
      )}
      {apps.data?.length === 0 && (
        <EmptyState
          icon={AppsIcon}
          title="No apps for you yet"
          actions={
            me.user.is_superadmin ? (
              <Link to="/admin/services" className={buttonClass.primary}>
                Register a service
              </Link>
            ) : undefined
          }
        >
          {me.user.is_superadmin ? (
            <p>Register a service in Admin → Services: give its address, and Nubes reads its manifest and checks its health.</p>
          ) : admin ? (
            <p>No service is registered, or none is granted to you. A platform administrator registers services; you choose who uses them in Admin → Services.</p>
          ) : (
            <p>No app is open to you. Ask an admin of your organization to let you use one.</p>
          )}
        </EmptyState>
      )}
      {apps.data !== undefined && apps.data.length > 0 && (
        <ul className="grid gap-4 sm:grid-cols-2 xl:grid-cols-3" aria-label="Apps">
          {apps.data.map((app) => (
            <AppCard
              key={app.id}
              app={app}
              onSettings={() => {
                setSettingsOf(app);
              }}
            />
          ))}
        </ul>
      )}
      {settingsOf !== null && (
        <Dialog
          open
          title={`${settingsOf.name} settings`}
          description="For everyone in your organization. Secrets are kept encrypted and never shown again."
          onClose={() => {
            setSettingsOf(null);
          }}
        >
          <ServiceSettingsForm serviceId={settingsOf.id} />
        </Dialog>
      )}
    </>
  );
}

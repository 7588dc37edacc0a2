/** /monitoring/*: the platform over time — a dashboard of charts (platform, nodes, containers), storage against quotas, and alerts — for users holding ops.monitor. */
import { NavLink, Route, Routes } from "react-router";

import { can, useMe } from "../../auth/session";
import { EmptyState } from "../../components/EmptyState";
import { ChartIcon } from "../../components/icons";
import { PageHeader } from "../../components/PageHeader";
import { useDocumentTitle } from "../../hooks/useDocumentTitle";
import { NotFoundPage } from "../NotFoundPage";
import { AlertsPage } from "./alerts/AlertsPage";
import { DashboardPage } from "./DashboardPage";
import { StoragePage } from "./StoragePage";

function tabClass({ isActive }: { isActive: boolean }): string {
  const base = "rounded-md px-3 py-1.5 text-sm font-medium transition-colors";
  return isActive
    ? `${base} bg-white text-slate-900 shadow-sm ring-1 ring-slate-200 dark:bg-slate-800 dark:text-white dark:ring-slate-700`
    : `${base} text-slate-600 hover:text-slate-900 dark:text-slate-400 dark:hover:text-white`;
}

export function MonitoringPage() {
  const me = useMe();
  useDocumentTitle("Monitoring");
  if (!can(me, "ops.monitor"))
    return (
      <>
        <PageHeader title="Monitoring" />
        <EmptyState icon={ChartIcon} title="You do not have access to monitoring">
          <p>
            This needs the <code className="font-mono text-xs">ops.monitor</code> permission. Ask an admin of your tenant if you should have it.
          </p>
        </EmptyState>
      </>
    );
  return (
    <>
      <nav aria-label="Monitoring" className="mb-6 inline-flex flex-wrap gap-1 rounded-lg bg-slate-100 p-1 dark:bg-slate-900">
        <NavLink to="/monitoring" end className={tabClass}>
          Dashboard
        </NavLink>
        <NavLink to="/monitoring/storage" className={tabClass}>
          Storage
        </NavLink>
        <NavLink to="/monitoring/alerts" className={tabClass}>
          Alerts
        </NavLink>
      </nav>
      <Routes>
        <Route index element={<DashboardPage />} />
        <Route path="storage" element={<StoragePage />} />
        <Route path="alerts/*" element={<AlertsPage />} />
        <Route path="*" element={<NotFoundPage />} />
      </Routes>
    </>
  );
}

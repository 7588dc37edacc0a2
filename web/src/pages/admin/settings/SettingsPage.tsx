/** /admin/settings/* (admin.settings): the one place to start — every settings group with its summary and a link to its page, the platform settings (super-admins), and the feature flags page. */
import { Link, Route, Routes } from "react-router";

import type { SettingsGroup } from "../../../api/settings";
import { useSettingsOverview } from "../../../api/settingsQueries";
import { Badge } from "../../../components/Badge";
import { Card, Skeleton } from "../../../components/Card";
import { Alert } from "../../../components/Form";
import { ArrowRightIcon } from "../../../components/icons";
import { PageHeader } from "../../../components/PageHeader";
import { useDocumentTitle } from "../../../hooks/useDocumentTitle";
import { NotFoundPage } from "../../NotFoundPage";
import { FeatureFlagsPage } from "./FeatureFlagsPage";

function GroupCard({ group }: { group: SettingsGroup }) {
  return (
    <Link
      to={group.page}
      data-testid={`settings-group-${group.key}`}
      className="group flex h-full flex-col rounded-xl border border-slate-200 bg-white p-5 shadow-sm transition hover:border-sky-300 hover:shadow-md dark:border-slate-800 dark:bg-slate-900 dark:hover:border-sky-700"
    >
      <div className="flex items-start justify-between gap-3">
        <h2 className="flex items-center gap-1.5 font-semibold text-slate-900 group-hover:text-sky-800 dark:text-white dark:group-hover:text-sky-200">
          {group.title}
          <ArrowRightIcon className="size-4 opacity-0 transition group-hover:opacity-100" />
        </h2>
        <span className="shrink-0 whitespace-nowrap">
          <Badge tone={group.scope === "install" ? "warning" : "brand"}>{group.scope === "install" ? "Whole platform" : "Your tenant"}</Badge>
        </span>
      </div>
      <p className="mt-1 text-sm text-slate-600 dark:text-slate-400">{group.description}</p>
      {group.summary != null && <p className="mt-3 text-sm font-medium text-slate-800 dark:text-slate-200">{group.summary}</p>}
    </Link>
  );
}

function SettingsHub() {
  useDocumentTitle("Settings");
  const overview = useSettingsOverview();
  const data = overview.data;
  return (
    <>
      <PageHeader title="Settings" description="Every setting of your tenant, and of the platform if you run it, in one place. Open a group to change it." />
      {overview.error !== null && <Alert tone="danger">{overview.error.message}</Alert>}
      {data === undefined && overview.isFetching && (
        <div className="grid gap-4 sm:grid-cols-2 xl:grid-cols-3">
          <Skeleton className="h-32 w-full" />
          <Skeleton className="h-32 w-full" />
          <Skeleton className="h-32 w-full" />
        </div>
      )}
      {data !== undefined && (
        <>
          <ul className="grid gap-4 sm:grid-cols-2 xl:grid-cols-3" aria-label="Settings groups">
            {data.groups.map((group) => (
              <li key={group.key}>
                <GroupCard group={group} />
              </li>
            ))}
          </ul>
          {data.platform.length > 0 && (
            <Card title="Platform settings stored on this server" className="mt-6 max-w-3xl">
              <ul className="divide-y divide-slate-100 text-sm dark:divide-slate-800">
                {data.platform.map((setting) => (
                  <li key={setting.key} className="flex items-center justify-between gap-3 py-2">
                    <code className="font-mono text-xs text-slate-700 dark:text-slate-300">{setting.key}</code>
                    {setting.page != null ? (
                      <Link to={setting.page} className="text-sky-700 hover:underline dark:text-sky-300">
                        Change it
                      </Link>
                    ) : (
                      <span className="text-slate-500">Set from the command line</span>
                    )}
                  </li>
                ))}
              </ul>
            </Card>
          )}
        </>
      )}
    </>
  );
}

export function SettingsPage() {
  return (
    <Routes>
      <Route index element={<SettingsHub />} />
      <Route path="flags" element={<FeatureFlagsPage />} />
      <Route path="*" element={<NotFoundPage />} />
    </Routes>
  );
}

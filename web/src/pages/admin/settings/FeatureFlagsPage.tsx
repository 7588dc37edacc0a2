/** /admin/settings/flags (admin.settings): new features, off until an admin turns them on — for the tenant, and (super-admins) for the whole platform with each tenant's own choice. */
import { useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router";

import { settingsKeys } from "../../../api/queryKeys";
import { resetInstallFlag, resetTenantFlag, setInstallFlag, setTenantFlag, type FeatureFlag } from "../../../api/settings";
import { useFeatureFlags, useFlagOverrides } from "../../../api/settingsQueries";
import { useMe } from "../../../auth/session";
import { Badge } from "../../../components/Badge";
import { buttonClass } from "../../../components/Button";
import { Skeleton } from "../../../components/Card";
import { Alert } from "../../../components/Form";
import { PageHeader } from "../../../components/PageHeader";
import { useDocumentTitle } from "../../../hooks/useDocumentTitle";
import { useTask } from "../../../lib/useAction";

const sources: Record<FeatureFlag["source"], string> = {
  tenant: "your tenant's choice",
  install: "the platform's value",
  default: "the default",
};

function Switch({ label, hint, checked, disabled, onChange, testId }: { label: string; hint: string; checked: boolean; disabled: boolean; onChange: (on: boolean) => void; testId: string }) {
  return (
    <label className="flex cursor-pointer items-start gap-3">
      <input
        type="checkbox"
        role="switch"
        data-testid={testId}
        className="mt-0.5 size-4 shrink-0 accent-sky-600"
        checked={checked}
        disabled={disabled}
        onChange={(event) => {
          onChange(event.target.checked);
        }}
      />
      <span>
        <span className="block text-sm font-medium text-slate-900 dark:text-white">{label}</span>
        <span className="block text-xs text-slate-500 dark:text-slate-400">{hint}</span>
      </span>
    </label>
  );
}

function Overrides({ flagKey }: { flagKey: string }) {
  const overrides = useFlagOverrides(flagKey, true);
  if (overrides.error !== null) return <p className="text-xs text-rose-700 dark:text-rose-300">{overrides.error.message}</p>;
  if (overrides.data === undefined) return <Skeleton className="h-4 w-48" />;
  const { items, total } = overrides.data;
  if (total === 0) return <p className="text-xs text-slate-500 dark:text-slate-400">No tenant chose its own value: every tenant follows the platform.</p>;
  return (
    <p className="text-xs text-slate-600 dark:text-slate-400" data-testid={`flag-overrides-${flagKey}`}>
      {total === 1 ? "1 tenant chose" : `${String(total)} tenants chose`} its own value:{" "}
      {items.map((item) => `${item.tenant_name} (${item.enabled ? "on" : "off"})`).join(", ")}
      {total > items.length && ` and ${String(total - items.length)} more`}.
    </p>
  );
}

function FlagRow({ flag, superadmin, tenantName }: { flag: FeatureFlag; superadmin: boolean; tenantName: string }) {
  const client = useQueryClient();
  const { run, busy, error } = useTask();
  const change = (work: () => Promise<unknown>) => {
    void run(async () => {
      await work();
      await client.invalidateQueries({ queryKey: settingsKeys.all });
    });
  };
  return (
    <li className="rounded-xl border border-slate-200 bg-white p-5 shadow-sm dark:border-slate-800 dark:bg-slate-900" data-testid={`flag-${flag.key}`}>
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div className="min-w-0">
          <h2 className="font-semibold text-slate-900 dark:text-white">{flag.title}</h2>
          <p className="mt-0.5 font-mono text-xs text-slate-500 dark:text-slate-400">
            {flag.key} · since {flag.since}
          </p>
        </div>
        <div className="flex shrink-0 items-center gap-2">
          <Badge tone={flag.scope === "install" ? "warning" : "brand"}>{flag.scope === "install" ? "Whole platform" : "Per tenant"}</Badge>
          <Badge tone={flag.enabled ? "success" : "neutral"}>{flag.enabled ? "On" : "Off"}</Badge>
        </div>
      </div>
      <p className="mt-2 max-w-3xl text-sm text-slate-600 dark:text-slate-400">{flag.description}</p>
      <p className="mt-2 text-sm text-slate-700 dark:text-slate-300" data-testid={`flag-state-${flag.key}`}>
        {flag.enabled ? "On" : "Off"} for your tenant ({tenantName}): {sources[flag.source]}.
      </p>
      {error !== null && (
        <div className="mt-3">
          <Alert tone="danger">{error.message}</Alert>
        </div>
      )}
      <div className="mt-4 grid gap-4 border-t border-slate-100 pt-4 md:grid-cols-2 dark:border-slate-800">
        {flag.scope === "tenant" ? (
          <div className="space-y-2">
            <Switch
              label="On for your tenant"
              hint={flag.tenant_value === null ? "Follows the platform's value until you choose." : "Your choice wins over the platform's value."}
              checked={flag.enabled}
              disabled={busy}
              testId={`flag-tenant-${flag.key}`}
              onChange={(on) => {
                change(() => setTenantFlag(flag.key, on));
              }}
            />
            {flag.tenant_value !== null && (
              <button
                type="button"
                className={buttonClass.small}
                disabled={busy}
                onClick={() => {
                  change(() => resetTenantFlag(flag.key));
                }}
              >
                Follow the platform's value again
              </button>
            )}
          </div>
        ) : (
          <p className="text-sm text-slate-500 dark:text-slate-400">
            {superadmin ? "Applies to every tenant at once: there is no per-tenant choice." : "Applies to every tenant at once: a platform administrator turns it on."}
          </p>
        )}
        {superadmin && (
          <div className="space-y-2 md:border-l md:border-slate-100 md:pl-4 dark:md:border-slate-800">
            <Switch
              label="On for the whole platform"
              hint={
                flag.install_value === null
                  ? `Not chosen: the default (${flag.default ? "on" : "off"}) applies.`
                  : flag.scope === "tenant"
                    ? "Tenants that chose their own value keep it."
                    : "Every tenant has it this way."
              }
              checked={flag.install_value ?? flag.default}
              disabled={busy}
              testId={`flag-install-${flag.key}`}
              onChange={(on) => {
                change(() => setInstallFlag(flag.key, on));
              }}
            />
            {flag.install_value !== null && (
              <button
                type="button"
                className={buttonClass.small}
                disabled={busy}
                onClick={() => {
                  change(() => resetInstallFlag(flag.key));
                }}
              >
                Back to the default
              </button>
            )}
            {flag.scope === "tenant" && <Overrides flagKey={flag.key} />}
          </div>
        )}
      </div>
    </li>
  );
}

export function FeatureFlagsPage() {
  useDocumentTitle("Feature flags");
  const me = useMe();
  const flags = useFeatureFlags();
  return (
    <>
      <PageHeader
        title="Feature flags"
        description="New features start off. Turn one on when your tenant is ready for it; every change is written to the audit log."
        actions={
          <Link to="/admin/settings" className={buttonClass.secondary}>
            All settings
          </Link>
        }
      />
      {flags.error !== null && <Alert tone="danger">{flags.error.message}</Alert>}
      {flags.data === undefined && flags.isFetching && <Skeleton className="h-40 w-full max-w-4xl" />}
      {flags.data !== undefined && (
        <ul className="max-w-4xl space-y-4" aria-label="Feature flags">
          {flags.data.items.map((flag) => (
            <FlagRow key={flag.key} flag={flag} superadmin={flags.data.can_set_install} tenantName={me.tenant.name} />
          ))}
        </ul>
      )}
    </>
  );
}

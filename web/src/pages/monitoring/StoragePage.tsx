/** /monitoring/storage: bytes stored against quotas per tenant and per user, the largest consumers, and storage used over the range. */
import { useMemo, useState } from "react";

import type { MetricSeries, TenantStorage } from "../../api/monitoring";
import { useStorageOverview } from "../../api/monitoringQueries";
import { Card, Skeleton } from "../../components/Card";
import { DataTable } from "../../components/DataTable";
import { PageHeader } from "../../components/PageHeader";
import { formatBytes } from "../../lib/units";
import { MetricChart } from "./MetricChart";
import { RangePicker } from "./RangePicker";
import { useRange } from "./useRange";

/** Past this share of the quota a bar turns amber, and red when full. */
const WARN_AT = 0.8;

/** Used against the quota; without a quota the bar is relative to `largest` (the largest of its list) and says so. */
function UsageBar({ used, quota, largest, label }: { used: number; quota: number | null; largest: number; label: string }) {
  const share = quota === null || quota === 0 ? null : used / quota;
  const width = share === null ? (largest > 0 ? used / largest : 0) : Math.min(share, 1);
  const color = share === null ? "bg-sky-500" : share >= 1 ? "bg-rose-500" : share >= WARN_AT ? "bg-amber-500" : "bg-emerald-500";
  return (
    <div>
      <div className="h-2.5 w-full overflow-hidden rounded-full bg-slate-100 dark:bg-slate-800">
        <div
          className={`h-full rounded-full ${color}`}
          style={{ width: `${width * 100}%` }}
          role="meter"
          aria-label={label}
          aria-valuemin={0}
          aria-valuemax={quota ?? used}
          aria-valuenow={used}
        />
      </div>
      <p className="mt-1 text-xs text-slate-600 tabular-nums dark:text-slate-400">
        {quota === null ? `${formatBytes(used)} · no quota` : `${formatBytes(used)} of ${formatBytes(quota)} (${Math.round((share ?? 0) * 100)} %)`}
      </p>
    </div>
  );
}

function TenantRow({ tenant, largest, chosen, onChoose }: { tenant: TenantStorage; largest: number; chosen: boolean; onChoose: () => void }) {
  return (
    <li data-testid="tenant-storage">
      <button
        type="button"
        aria-pressed={chosen}
        onClick={onChoose}
        className={`w-full rounded-lg px-3 py-2 text-left transition-colors ${chosen ? "bg-sky-50 ring-1 ring-sky-200 dark:bg-sky-950/60 dark:ring-sky-800" : "hover:bg-slate-50 dark:hover:bg-slate-800/60"}`}
      >
        <span className="flex items-baseline justify-between gap-3">
          <span className="font-medium text-slate-900 dark:text-white">{tenant.name}</span>
          <span className="text-xs text-slate-500 dark:text-slate-400">{tenant.file_count.toLocaleString()} files</span>
        </span>
        <span className="mt-1.5 block">
          <UsageBar used={tenant.used_bytes} quota={tenant.quota_bytes} largest={largest} label={`${tenant.name}: storage used`} />
        </span>
      </button>
    </li>
  );
}

function LargestUsers({ tenant }: { tenant: TenantStorage }) {
  const largest = tenant.largest_users[0]?.used_bytes ?? 0;
  return (
    <Card title={`Largest consumers of ${tenant.name}`}>
      <DataTable
        look="plain"
        testId="largest-users"
        columns={["User", "Used of quota"]}
        rows={tenant.largest_users}
        empty={<span className="text-sm text-slate-600 dark:text-slate-400">Nobody has stored a file yet.</span>}
        renderRow={(user) => (
          <tr key={user.user_id} className="border-t border-slate-100 dark:border-slate-800" data-testid="largest-user">
            <td className="py-2 pr-4 align-top font-medium text-slate-900 dark:text-white">{user.name}</td>
            <td className="w-2/3 py-2">
              <UsageBar used={user.used_bytes} quota={user.quota_bytes} largest={largest} label={`${user.name}: storage used`} />
            </td>
          </tr>
        )}
      />
    </Card>
  );
}

export function StoragePage() {
  const [range, setRange] = useRange();
  const storage = useStorageOverview();
  const [picked, setPicked] = useState<string | null>(null);
  const tenants = storage.data?.tenants;
  const chosen = tenants?.find((tenant) => tenant.tenant_id === picked) ?? tenants?.[0];
  const names = useMemo(() => new Map((tenants ?? []).map((tenant) => [tenant.tenant_id, tenant.name])), [tenants]);
  const byTenant = useMemo(() => (labels: MetricSeries["labels"]) => names.get(labels.tenant ?? "") ?? labels.tenant ?? "?", [names]);
  const platform = storage.data?.scope === "platform";
  return (
    <>
      <PageHeader
        title="Storage"
        description={
          platform
            ? "Bytes stored against quotas in every tenant, the largest first. Choose a tenant to see who stores the most. Default quotas come from NUBES_USER_QUOTA_BYTES and NUBES_TENANT_QUOTA_BYTES."
            : "Bytes your organization stores against its quota, and who stores the most."
        }
        actions={<RangePicker range={range} onChange={setRange} />}
      />
      {storage.isError && <p className="mb-6 text-sm text-rose-600 dark:text-rose-400">{storage.error.message}</p>}
      {tenants === undefined ? (
        <Skeleton className="h-48 w-full" />
      ) : (
        <div className="grid gap-4 lg:grid-cols-2">
          <Card
            title={
              !platform
                ? "Your organization"
                : storage.data !== undefined && storage.data.tenant_count > tenants.length
                  ? `The ${tenants.length} largest of ${storage.data.tenant_count} tenants`
                  : `Tenants (${tenants.length})`
            }
          >
            <p className="mb-2 text-xs text-slate-500 dark:text-slate-400">Bars show the share of the quota; without a quota, the share of the largest.</p>
            <ul className="max-h-[28rem] space-y-1 overflow-y-auto">
              {tenants.map((tenant) => (
                <TenantRow
                  key={tenant.tenant_id}
                  tenant={tenant}
                  largest={tenants[0]?.used_bytes ?? 0}
                  chosen={tenant.tenant_id === chosen?.tenant_id}
                  onChoose={() => {
                    setPicked(tenant.tenant_id);
                  }}
                />
              ))}
            </ul>
          </Card>
          {chosen !== undefined && <LargestUsers tenant={chosen} />}
          <div className="lg:col-span-2">
            <MetricChart title="Storage used over time" metric="storage_used_bytes" unit="bytes" range={range} lineName={byTenant} height={220} />
          </div>
        </div>
      )}
    </>
  );
}

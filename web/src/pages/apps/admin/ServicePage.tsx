/** /admin/services/:serviceId: one service — its health over time, its manifest, your organization's settings for it and who may use it; platform administrators refresh, disable or delete it. */
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router";

import { deleteService, grantPermission, refreshService, revokePermission, setServiceEnabled } from "../../../api/appServices";
import { useChecks, usePermissions, useService } from "../../../api/appServicesQueries";
import { useDirectorySearch } from "../../../api/filesQueries";
import { useInvalidate } from "../../../api/queryClient";
import { appServiceKeys } from "../../../api/queryKeys";
import { useMe } from "../../../auth/session";
import { buttonClass } from "../../../components/Button";
import { Card, Skeleton } from "../../../components/Card";
import { ConfirmDialog } from "../../../components/Dialog";
import { Alert, TextField } from "../../../components/Form";
import { UserIcon, UsersIcon } from "../../../components/icons";
import { PageHeader } from "../../../components/PageHeader";
import { useDebounced } from "../../../hooks/useDebounced";
import { useDocumentTitle } from "../../../hooks/useDocumentTitle";
import { describeTimestamp } from "../../../lib/format";
import { useTask } from "../../../lib/useAction";
import { HealthBadge } from "../HealthBadge";
import { ServiceSettingsForm } from "../ServiceSettingsForm";
import { HealthChart } from "./HealthChart";

const HOURS = 24;

function Permissions({ serviceId }: { serviceId: string }) {
  const permissions = usePermissions(serviceId);
  const [query, setQuery] = useState("");
  const searched = useDebounced(query.trim(), 200);
  const search = useDirectorySearch(searched);
  const found = query.trim() === "" || searched === "" ? [] : (search.data ?? []);
  const invalidate = useInvalidate();
  const task = useTask();
  const [done, setDone] = useState<string | null>(null);
  const act = async (work: () => Promise<unknown>, message: string): Promise<void> => {
    setDone(null);
    await task.run(async () => {
      await work();
      setDone(message);
      void invalidate(appServiceKeys.permissions(serviceId), appServiceKeys.apps);
    });
  };
  const granted = new Set((permissions.data?.items ?? []).map((item) => item.user_id ?? item.group_id));
  return (
    <div className="space-y-4">
      {task.error !== null && <Alert tone="danger">{task.error.message}</Alert>}
      {done !== null && <Alert tone="success">{done}</Alert>}
      {permissions.error !== null && <Alert tone="danger">{permissions.error.message}</Alert>}
      {permissions.data?.open_to_everyone && (
        <Alert tone="info">Everyone in your organization who may use apps can open it. Grant a person or a group to keep it to them.</Alert>
      )}
      {permissions.data !== undefined && permissions.data.required_groups.length > 0 && (
        <p className="text-sm text-slate-600 dark:text-slate-400">
          Its manifest also lets in the members of: {permissions.data.required_groups.join(", ")}.
        </p>
      )}
      <TextField label="Grant people or groups" type="search" placeholder="Name or username" autoComplete="off" value={query} onChange={setQuery} />
      {found.length > 0 && (
        <ul aria-label="Matches" className="divide-y divide-slate-100 rounded-lg border border-slate-200 dark:divide-slate-800 dark:border-slate-800">
          {found.map((target) => (
            <li key={target.id} className="flex items-center justify-between gap-3 px-3 py-2 text-sm">
              <span className="flex min-w-0 items-center gap-2">
                {target.kind === "user" ? <UserIcon className="size-4 text-slate-400" /> : <UsersIcon className="size-4 text-slate-400" />}
                <span className="truncate font-medium">{target.name}</span>
                <span className="truncate text-xs text-slate-500">{target.kind === "user" ? target.detail : "group"}</span>
              </span>
              <button
                type="button"
                className={buttonClass.small}
                disabled={granted.has(target.id)}
                onClick={() => {
                  void act(() => grantPermission(serviceId, target), `${target.name} may use it now.`).then(() => {
                    setQuery("");
                  });
                }}
              >
                {granted.has(target.id) ? "Granted" : `Grant ${target.name}`}
              </button>
            </li>
          ))}
        </ul>
      )}
      {permissions.data === undefined && permissions.error === null ? (
        <Skeleton className="h-12 w-full" />
      ) : permissions.data?.items.length ? (
        <ul className="divide-y divide-slate-100 dark:divide-slate-800" aria-label="Granted">
          {permissions.data.items.map((item) => (
            <li key={item.id} data-testid="grant-row" className="flex items-center justify-between gap-3 py-2 text-sm">
              <span className="flex min-w-0 items-center gap-2">
                {item.kind === "user" ? <UserIcon className="size-4 text-slate-400" /> : <UsersIcon className="size-4 text-slate-400" />}
                <span className="truncate font-medium">{item.name}</span>
                <span className="truncate text-xs text-slate-500" title={describeTimestamp(item.granted_at).title}>
                  {item.granted_by ? `by ${item.granted_by}, ` : ""}
                  {describeTimestamp(item.granted_at).text}
                </span>
              </span>
              <button
                type="button"
                className={buttonClass.smallDanger}
                aria-label={`Revoke ${item.name}`}
                onClick={() => {
                  void act(() => revokePermission(serviceId, item.id), `${item.name} no longer has it.`);
                }}
              >
                Revoke
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

function PlatformActions({ serviceId, enabled, name }: { serviceId: string; enabled: boolean; name: string }) {
  const invalidate = useInvalidate();
  const navigate = useNavigate();
  const task = useTask();
  const [deleting, setDeleting] = useState(false);
  const act = (work: () => Promise<unknown>): void => {
    void task.run(async () => {
      await work();
      void invalidate(appServiceKeys.all);
    });
  };
  return (
    <div className="flex flex-wrap items-center gap-2">
      <button type="button" className={buttonClass.secondary} disabled={task.busy} onClick={() => { act(() => refreshService(serviceId)); }}>
        Check now
      </button>
      <button type="button" className={buttonClass.secondary} disabled={task.busy} onClick={() => { act(() => setServiceEnabled(serviceId, !enabled)); }}>
        {enabled ? "Disable" : "Enable"}
      </button>
      <button type="button" className={buttonClass.danger} onClick={() => { setDeleting(true); }}>
        Delete
      </button>
      {task.error !== null && <Alert tone="danger">{task.error.message}</Alert>}
      <ConfirmDialog
        open={deleting}
        title={`Delete ${name}?`}
        confirmLabel="Delete"
        busy={task.busy}
        error={task.error?.message ?? null}
        onCancel={() => { setDeleting(false); }}
        onConfirm={() => {
          void task.run(async () => {
            await deleteService(serviceId);
            void invalidate(appServiceKeys.all);
            void navigate("/admin/services");
          });
        }}
      >
        Its health history, every organization&apos;s settings for it and who may use it go with it. It can be registered again later.
      </ConfirmDialog>
    </div>
  );
}

export function ServicePage() {
  const { serviceId = "" } = useParams();
  const me = useMe();
  const service = useService(serviceId);
  const checks = useChecks(serviceId, HOURS);
  useDocumentTitle(service.data?.name ?? "Service");
  if (service.error !== null)
    return (
      <>
        <PageHeader title="Service" />
        <Alert tone="danger">{service.error.message}</Alert>
        <Link to="/admin/services" className={`${buttonClass.secondary} mt-4`}>
          Back to services
        </Link>
      </>
    );
  if (service.data === undefined) return <Skeleton className="h-48 w-full" />;
  const detail = service.data;
  return (
    <>
      <PageHeader
        title={detail.name}
        description={detail.description || undefined}
        badge={<HealthBadge status={detail.status} checkedAt={detail.last_checked_at} />}
        actions={me.user.is_superadmin ? <PlatformActions serviceId={detail.id} enabled={detail.enabled} name={detail.name} /> : undefined}
      />
      <div className="space-y-6">
        {!detail.enabled && <Alert tone="info">Disabled: it is hidden from the Apps page and the gateway does not forward to it.</Alert>}
        {detail.last_error && (
          <Alert tone="danger" testId="last-error">
            Last error: {detail.last_error}
          </Alert>
        )}
        <Card title={`Health, last ${HOURS} hours`}>
          {checks.error !== null && <Alert tone="danger">{checks.error.message}</Alert>}
          {checks.data === undefined ? <Skeleton className="h-36 w-full" /> : <HealthChart checks={checks.data.items} hours={HOURS} end={checks.dataUpdatedAt} />}
        </Card>
        <div className="grid gap-6 lg:grid-cols-2">
          <Card title="Who may use it in your organization">
            <Permissions serviceId={detail.id} />
          </Card>
          <Card title="Settings for your organization">
            <p className="mb-4 text-xs text-slate-500 dark:text-slate-400">
              Members of the group <code className="font-mono">{detail.admin_group}</code> change these too (add people to it in Admin → Groups).
            </p>
            <ServiceSettingsForm serviceId={detail.id} />
          </Card>
        </div>
        <Card title="Manifest">
          <dl className="mb-4 grid gap-x-6 gap-y-1 text-sm sm:grid-cols-[auto_1fr]">
            <dt className="text-slate-500">Id</dt>
            <dd className="font-mono">{detail.slug}</dd>
            <dt className="text-slate-500">Version</dt>
            <dd>{detail.version || "—"}</dd>
            <dt className="text-slate-500">Address</dt>
            <dd className="font-mono">{detail.base_url}</dd>
            <dt className="text-slate-500">Read</dt>
            <dd title={describeTimestamp(detail.manifest_fetched_at).title}>{describeTimestamp(detail.manifest_fetched_at).text}</dd>
          </dl>
          <pre className="max-h-96 overflow-auto rounded-lg bg-slate-950 p-4 font-mono text-xs text-slate-100" data-testid="manifest">
            {JSON.stringify(detail.manifest, null, 2)}
          </pre>
        </Card>
      </div>
    </>
  );
}

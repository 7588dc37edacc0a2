/** Connected apps: the apps you allowed to use your account (OAuth), what each may do, when it last did, and Revoke. */
import { useState } from "react";

import { disconnectApp, oauthKeys, useConnectedApps, type ConnectedApp } from "../../api/oauth";
import { useInvalidate } from "../../api/queryClient";
import { buttonClass } from "../../components/Button";
import { Card, Skeleton } from "../../components/Card";
import { ConfirmDialog } from "../../components/Dialog";
import { Alert } from "../../components/Form";
import { describeTimestamp } from "../../lib/format";
import { useConfirm } from "../../lib/useAction";

function When({ value, empty }: { value: string | null; empty: string }) {
  const { text, title } = describeTimestamp(value);
  return value === null ? <span>{empty}</span> : <span title={title}>{text}</span>;
}

function AppRow({ app, onRevoke }: { app: ConnectedApp; onRevoke: () => void }) {
  return (
    <li data-testid="connected-app" className="flex items-start gap-4 py-3.5">
      <div className="min-w-0 flex-1">
        <p className="text-sm font-medium text-slate-900 dark:text-white">{app.name}</p>
        <ul className="mt-1 flex flex-wrap gap-1.5" aria-label={`What ${app.name} may do`}>
          {app.scopes.map((scope) => (
            <li key={scope.scope} title={scope.scope} className="rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-700 dark:bg-slate-800 dark:text-slate-300">
              {scope.description}
            </li>
          ))}
        </ul>
        <p className="mt-1 text-xs text-slate-500 dark:text-slate-400">
          Connected <When value={app.connected_at} empty="" />
          <span aria-hidden="true"> · </span>
          Last used <When value={app.last_used_at} empty="never" />
        </p>
      </div>
      <button type="button" aria-label={`Revoke ${app.name}`} className={buttonClass.smallDanger} onClick={onRevoke}>
        Revoke
      </button>
    </li>
  );
}

export function ConnectedAppsCard() {
  const { data: apps, error: loadError, isFetching: loading } = useConnectedApps();
  const invalidate = useInvalidate();
  const [notice, setNotice] = useState<string | null>(null);
  const revoke = useConfirm(disconnectApp, (_done, app) => {
    setNotice(`${app.name} no longer has access to your account.`);
    void invalidate(oauthKeys.connected);
  });

  return (
    <Card title={`Connected apps${apps ? ` (${apps.length})` : ""}`}>
      <p className="text-sm text-slate-600 dark:text-slate-400">Apps you allowed to sign you in or use your data. Revoking one stops every token it holds at once.</p>
      {notice !== null && (
        <div className="mt-4">
          <Alert tone="success">{notice}</Alert>
        </div>
      )}
      {loadError !== null && (
        <div className="mt-4">
          <Alert tone="danger">{loadError.message}</Alert>
        </div>
      )}
      {apps === undefined && loading && (
        <div className="mt-4" aria-busy="true">
          <Skeleton className="h-12 w-full" />
        </div>
      )}
      {apps?.length === 0 && <p className="mt-4 text-sm text-slate-500 dark:text-slate-400">No app is connected. Apps that sign you in with Nubes appear here.</p>}
      {apps !== undefined && apps.length > 0 && (
        <ul className="mt-2 divide-y divide-slate-100 dark:divide-slate-800" aria-label="Connected apps">
          {apps.map((app) => (
            <AppRow
              key={app.id}
              app={app}
              onRevoke={() => {
                setNotice(null);
                revoke.ask(app);
              }}
            />
          ))}
        </ul>
      )}
      <ConfirmDialog title={`Revoke ${revoke.target?.name ?? ""}?`} confirmLabel="Revoke" {...revoke.dialog}>
        <p>{revoke.target?.name ?? "This app"} loses access at once; to use it again you will be asked to allow it again.</p>
      </ConfirmDialog>
    </Card>
  );
}

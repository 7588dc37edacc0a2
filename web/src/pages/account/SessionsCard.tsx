/** Where you are signed in: device, address, when it started and was last used; sign any other one out. */

import { endMySession, type Session } from "../../api/identity";
import { useMySessions } from "../../api/identityQueries";
import { useInvalidate } from "../../api/queryClient";
import { identityKeys } from "../../api/queryKeys";
import { Badge } from "../../components/Badge";
import { buttonClass } from "../../components/Button";
import { Card, Skeleton } from "../../components/Card";
import { ConfirmDialog } from "../../components/Dialog";
import { Alert } from "../../components/Form";
import { DevicesIcon } from "../../components/icons";
import { describeTimestamp } from "../../lib/format";
import { useConfirm } from "../../lib/useAction";
import { describeUserAgent } from "../../lib/userAgent";

function SessionRow({ session, onSignOut }: { session: Session; onSignOut: (session: Session) => void }) {
  const created = describeTimestamp(session.created_at);
  const used = describeTimestamp(session.last_used_at);
  return (
    <li data-testid="session-row" data-current={session.current} className="flex items-center gap-4 py-3.5">
      <span className="inline-flex size-10 shrink-0 items-center justify-center rounded-lg bg-slate-100 text-slate-500 dark:bg-slate-800 dark:text-slate-400">
        <DevicesIcon className="size-5" />
      </span>
      <div className="min-w-0 flex-1">
        <p className="flex flex-wrap items-center gap-2 text-sm font-medium text-slate-900 dark:text-white">
          <span title={session.user_agent}>{describeUserAgent(session.user_agent)}</span>
          {session.current && <Badge tone="success">This device</Badge>}
        </p>
        <p className="mt-0.5 text-xs text-slate-500 dark:text-slate-400">
          <span className="font-mono">{session.ip || "unknown address"}</span>
          <span aria-hidden="true"> · </span>
          Signed in <span title={created.title}>{created.text}</span>
          <span aria-hidden="true"> · </span>
          Last used <span title={used.title}>{used.text}</span>
        </p>
      </div>
      {!session.current && (
        <button
          type="button"
          aria-label={`Sign out ${describeUserAgent(session.user_agent)} at ${session.ip || "an unknown address"}`}
          className={buttonClass.smallDanger}
          onClick={() => {
            onSignOut(session);
          }}
        >
          Sign out
        </button>
      )}
    </li>
  );
}

export function SessionsCard() {
  const { data: sessions, error, isFetching: loading } = useMySessions();
  const invalidate = useInvalidate();
  const end = useConfirm((session: Session) => endMySession(session.id), () => void invalidate(identityKeys.sessions));
  const ending = end.target;

  const sorted = [...(sessions ?? [])].sort((a, b) => Number(b.current) - Number(a.current) || b.last_used_at.localeCompare(a.last_used_at));

  return (
    <Card title={`Sessions${sessions ? ` (${sessions.length})` : ""}`} >
      <p className="text-sm text-slate-600 dark:text-slate-400">
        Each device or browser where you signed in. Signing one out ends it at once; it has to sign in again.
      </p>
      {error !== null && (
        <div className="mt-4">
          <Alert tone="danger">{error.message}</Alert>
        </div>
      )}
      {sessions === undefined && loading && (
        <div className="mt-4 space-y-3" aria-busy="true">
          <Skeleton className="h-12 w-full" />
          <Skeleton className="h-12 w-full" />
        </div>
      )}
      {sessions !== undefined && (
        <ul className="mt-2 divide-y divide-slate-100 dark:divide-slate-800" aria-label="Sessions">
          {sorted.map((session) => (
            <SessionRow
              key={session.id}
              session={session}
              onSignOut={end.ask}
            />
          ))}
        </ul>
      )}
      <ConfirmDialog
        title="Sign out this device?"
        confirmLabel="Sign out"
        {...end.dialog}
      >
        {ending !== null && (
          <p>
            <strong className="font-medium text-slate-900 dark:text-white">{describeUserAgent(ending.user_agent)}</strong> at{" "}
            <span className="font-mono">{ending.ip || "an unknown address"}</span> will be signed out now and must sign in again.
          </p>
        )}
      </ConfirmDialog>
    </Card>
  );
}

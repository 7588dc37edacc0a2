/**
 * "Grant access to <client>?": the page a Nextcloud client (desktop, mobile) opens in the browser when it signs in
 * with Login Flow v2 (/login/flow/<token>). Granting makes an app password for that client, listed with your
 * devices on the account page and revoked there; the client collects it once. Cancelling ends the request.
 */
import { useEffect, useState } from "react";
import { Link, useParams } from "react-router";

import { denyLoginFlow, getLoginFlow, grantLoginFlow, type LoginFlow } from "../../api/nextcloud";
import { toApiError, type ApiError } from "../../api/problem";
import { useMe } from "../../auth/session";
import { ConsentActions } from "../../components/ConsentActions";
import { Card, Skeleton } from "../../components/Card";
import { Alert } from "../../components/Form";
import { DevicesIcon } from "../../components/icons";
import { useDocumentTitle } from "../../hooks/useDocumentTitle";
import { describeTimestamp } from "../../lib/format";
import { useTask } from "../../lib/useAction";

type Outcome = { kind: "granted" | "denied"; client: string } | null;

export function LoginFlowPage() {
  useDocumentTitle("Grant access");
  const { token = "" } = useParams();
  const me = useMe();
  const [flow, setFlow] = useState<LoginFlow | null>(null);
  const [loadError, setLoadError] = useState<ApiError | null>(null);
  const [outcome, setOutcome] = useState<Outcome>(null);
  const { run, busy, error } = useTask();

  useEffect(() => {
    const controller = new AbortController();
    getLoginFlow(token, controller.signal).then(setFlow, (caught: unknown) => {
      if (!controller.signal.aborted) setLoadError(toApiError(caught));
    });
    return () => {
      controller.abort();
    };
  }, [token]);

  const answer = (grant: boolean): void => {
    void run(async () => {
      const answered = grant ? await grantLoginFlow(token) : await denyLoginFlow(token);
      setOutcome({ kind: answered.granted ? "granted" : "denied", client: answered.client_name });
    });
  };

  return (
    <div className="mx-auto w-full max-w-lg py-8">
      <Card>
        <div className="flex flex-col items-center text-center" data-testid="login-flow">
          <span className="inline-flex size-14 items-center justify-center rounded-2xl bg-sky-50 text-sky-700 dark:bg-sky-950 dark:text-sky-300">
            <DevicesIcon className="size-7" />
          </span>
          {outcome !== null ? (
            <>
              <h1 className="mt-4 text-xl font-semibold text-slate-900 dark:text-white">
                {outcome.kind === "granted" ? "Access granted" : "Access refused"}
              </h1>
              <p className="mt-2 text-sm text-slate-600 dark:text-slate-400">
                {outcome.kind === "granted"
                  ? `${outcome.client} is signing in now. You can close this window and go back to it.`
                  : `${outcome.client} was not given access. You can close this window.`}
              </p>
              {outcome.kind === "granted" && (
                <p className="mt-4 text-sm">
                  <Link to="/account" className="font-medium text-sky-700 hover:underline dark:text-sky-300">
                    See your devices and app passwords
                  </Link>
                </p>
              )}
            </>
          ) : loadError !== null ? (
            <>
              <h1 className="mt-4 text-xl font-semibold text-slate-900 dark:text-white">This sign-in request cannot be answered</h1>
              <div className="mt-4 w-full text-left">
                <Alert tone="danger">{loadError.message}</Alert>
              </div>
            </>
          ) : flow === null ? (
            <div className="mt-4 flex w-full flex-col items-center gap-3">
              <Skeleton className="h-7 w-64" />
              <Skeleton className="h-4 w-80" />
            </div>
          ) : (
            <>
              <h1 className="mt-4 text-xl font-semibold text-slate-900 dark:text-white" data-testid="login-flow-question">
                Grant access to {flow.client_name}?
              </h1>
              <p className="mt-2 text-sm text-slate-600 dark:text-slate-400">
                {flow.client_name} asks to sync the files of <strong className="font-medium text-slate-900 dark:text-white">{me.user.username}</strong>.
                It gets an app password of its own that reads and writes your files, which you can revoke at any time on your account page.
              </p>
              <p className="mt-2 text-xs text-slate-500 dark:text-slate-400" title={describeTimestamp(flow.expires_at).title}>
                Only continue if you started this sign-in yourself, just now, from that client.
              </p>
              <ConsentActions error={error} busy={busy} refuseLabel="Cancel" allowLabel="Grant access" busyLabel="Granting…" onAnswer={answer} />
            </>
          )}
        </div>
      </Card>
    </div>
  );
}

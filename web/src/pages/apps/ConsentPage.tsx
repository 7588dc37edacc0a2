/**
 * "Allow <app> to use your account?": where /oauth/authorize sends a signed-in user whose consent does not cover what
 * an app asks for (/oauth/consent?request=<id>). It lists the scopes in plain words and where the app sends you back;
 * Allow or Refuse sends the browser to the app (with a code, or with access_denied). Revoke later on the account page.
 */
import { Link, useSearchParams } from "react-router";

import { decideAuthorization, useAuthorization } from "../../api/oauth";
import { useMe } from "../../auth/session";
import { ConsentActions } from "../../components/ConsentActions";
import { Card, Skeleton } from "../../components/Card";
import { Alert } from "../../components/Form";
import { AppsIcon } from "../../components/icons";
import { useDocumentTitle } from "../../hooks/useDocumentTitle";
import { useTask } from "../../lib/useAction";

export function ConsentPage() {
  useDocumentTitle("Allow an app");
  const [params] = useSearchParams();
  const requestId = params.get("request") ?? "";
  const me = useMe();
  const { data: pending, error: loadError } = useAuthorization(requestId);
  const { run, busy, error } = useTask();

  const answer = (allow: boolean): void => {
    void run(async () => {
      // The app's own address comes next: a full page load, not a route of this UI.
      window.location.assign(await decideAuthorization(requestId, allow));
    });
  };

  return (
    <div className="mx-auto w-full max-w-lg py-8">
      <Card>
        <div className="flex flex-col items-center text-center" data-testid="oauth-consent">
          <span className="inline-flex size-14 items-center justify-center rounded-2xl bg-sky-50 text-sky-700 dark:bg-sky-950 dark:text-sky-300">
            <AppsIcon className="size-7" />
          </span>
          {loadError !== null ? (
            <>
              <h1 className="mt-4 text-xl font-semibold text-slate-900 dark:text-white">This request cannot be answered</h1>
              <div className="mt-4 w-full text-left">
                <Alert tone="danger">{loadError.message}</Alert>
              </div>
              <p className="mt-4 text-sm">
                <Link to="/" className="font-medium text-sky-700 hover:underline dark:text-sky-300">
                  Back to Nubes
                </Link>
              </p>
            </>
          ) : pending === undefined ? (
            <div className="mt-4 flex w-full flex-col items-center gap-3" aria-busy="true">
              <Skeleton className="h-7 w-64" />
              <Skeleton className="h-4 w-80" />
            </div>
          ) : (
            <>
              <h1 className="mt-4 text-xl font-semibold text-slate-900 dark:text-white" data-testid="oauth-consent-question">
                Allow {pending.client_name} to use your account?
              </h1>
              <p className="mt-2 text-sm text-slate-600 dark:text-slate-400">
                Signed in as <strong className="font-medium text-slate-900 dark:text-white">{me.user.username}</strong>.{" "}
                {pending.client_name} asks to:
              </p>
              <ul className="mt-4 w-full space-y-2 text-left" aria-label="What the app asks for" data-testid="oauth-consent-scopes">
                {pending.scopes.map((scope) => (
                  <li key={scope.scope} className="flex items-start gap-3 rounded-lg bg-slate-50 px-3 py-2 text-sm dark:bg-slate-900">
                    <span aria-hidden="true" className="mt-1.5 size-1.5 shrink-0 rounded-full bg-sky-600" />
                    <span className="text-slate-800 dark:text-slate-200">
                      {scope.description}
                      <span className="ml-2 font-mono text-xs text-slate-500 dark:text-slate-400">{scope.scope}</span>
                    </span>
                  </li>
                ))}
              </ul>
              <p className="mt-4 text-xs text-slate-500 dark:text-slate-400">
                After you answer, you go back to <span className="font-mono">{pending.redirect_host}</span>. The app never gets more than you can do, and
                you can revoke it at any time under Connected apps on your account page.
              </p>
              <ConsentActions error={error} busy={busy} refuseLabel="Refuse" allowLabel="Allow" busyLabel="Allowing…" onAnswer={answer} />
            </>
          )}
        </div>
      </Card>
    </div>
  );
}

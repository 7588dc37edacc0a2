/** /login: username-or-email and password; on success back to `next` (a path on this site) or the overview. */
import { useEffect, useRef, useState, type SubmitEvent } from "react";
import { Link, Navigate, useNavigate, useSearchParams } from "react-router";

import { signIn } from "../../api/identity";
import { toApiError } from "../../api/problem";
import { safeNext, useAuth } from "../../auth/session";
import { buttonClass } from "../../components/Button";
import { Alert, Field, inputClass } from "../../components/Form";
import { PulseIcon } from "../../components/icons";
import { LogoMark } from "../../components/Logo";
import { useDocumentTitle } from "../../hooks/useDocumentTitle";

/** Seconds left before sign-in may be tried again, counting down to zero. */
function useCountdown(): [number, (seconds: number) => void] {
  const [until, setUntil] = useState<number | null>(null);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (until === null) return;
    const timer = window.setInterval(() => {
      setNow(Date.now());
    }, 1000);
    return () => {
      window.clearInterval(timer);
    };
  }, [until]);
  const left = until === null ? 0 : Math.max(0, Math.ceil((until - now) / 1000));
  const start = (seconds: number): void => {
    setNow(Date.now());
    setUntil(Date.now() + seconds * 1000);
  };
  return [left, start];
}

export function LoginPage() {
  useDocumentTitle("Sign in");
  const { state, reload } = useAuth();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get("next"));
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [waitSeconds, startWait] = useCountdown();
  const passwordInput = useRef<HTMLInputElement>(null);

  if (state.status === "signed-in" && !busy) return <Navigate to={next} replace />;

  const submit = async (event: SubmitEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(username.trim(), password);
      await reload();
      void navigate(next, { replace: true });
    } catch (caught) {
      const apiError = toApiError(caught);
      if (apiError.status === 429) {
        startWait(apiError.retryAfter ?? 60);
        setError("Too many sign-in attempts.");
      } else {
        setError(apiError.message);
      }
      setPassword("");
      passwordInput.current?.focus();
    } finally {
      setBusy(false);
    }
  };

  const notice =
    state.status === "signed-out" && state.reason === "expired"
      ? "Your session has ended. Sign in again to continue."
      : state.status === "signed-out" && state.reason === "signed-out"
        ? "You are signed out."
        : null;

  return (
    <div className="flex min-h-dvh flex-col bg-linear-to-b from-sky-50 via-slate-50 to-slate-100 text-slate-900 dark:from-slate-900 dark:via-slate-950 dark:to-slate-950 dark:text-slate-100">
      <main className="flex flex-1 flex-col items-center justify-center px-4 py-12">
        <div className="w-full max-w-sm">
          <div className="flex flex-col items-center text-center">
            <LogoMark className="size-12 drop-shadow-sm" />
            <h1 className="mt-5 text-2xl font-semibold tracking-tight text-slate-900 dark:text-white">Sign in to Nubes</h1>
            <p className="mt-1.5 text-sm text-slate-600 dark:text-slate-400">Your files, apps and workspaces, on your own servers.</p>
          </div>

          <form
            onSubmit={(event) => {
              void submit(event);
            }}
            className="mt-8 space-y-5 rounded-2xl border border-slate-200 bg-white p-6 shadow-xl shadow-slate-900/5 sm:p-8 dark:border-slate-800 dark:bg-slate-900 dark:shadow-black/20"
          >
            {error !== null && (
              <Alert tone="danger" testId="login-error">
                {error}
                {waitSeconds > 0 && (
                  <>
                    {" "}
                    Try again in <span className="font-semibold tabular-nums">{waitSeconds}</span> {waitSeconds === 1 ? "second" : "seconds"}.
                  </>
                )}
              </Alert>
            )}
            {error === null && notice !== null && <Alert tone="info">{notice}</Alert>}
            <Field label="Username or email">
              {(control) => (
                <input
                  {...control}
                  className={inputClass}
                  name="username"
                  autoComplete="username"
                  autoCapitalize="none"
                  spellCheck={false}
                  required
                  autoFocus
                  value={username}
                  onChange={(event) => {
                    setUsername(event.target.value);
                  }}
                />
              )}
            </Field>
            <Field label="Password">
              {(control) => (
                <input
                  {...control}
                  ref={passwordInput}
                  className={inputClass}
                  name="password"
                  type="password"
                  autoComplete="current-password"
                  required
                  value={password}
                  onChange={(event) => {
                    setPassword(event.target.value);
                  }}
                />
              )}
            </Field>
            <button type="submit" className={`${buttonClass.primary} w-full py-2.5`} disabled={busy || waitSeconds > 0}>
              {busy ? "Signing in…" : "Sign in"}
            </button>
          </form>

          <p className="mt-6 text-center text-xs text-slate-500 dark:text-slate-400">
            Trouble signing in? Ask an administrator of your organization.
          </p>
          <p className="mt-3 text-center">
            <Link to="/status" className="inline-flex items-center gap-1.5 rounded text-xs font-medium text-slate-500 hover:text-slate-800 dark:text-slate-400 dark:hover:text-white">
              <PulseIcon className="size-4" />
              Server status
            </Link>
          </p>
        </div>
      </main>
    </div>
  );
}

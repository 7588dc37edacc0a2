/**
 * /login: username-or-email and password, then (for accounts with two-factor sign-in) a code from the
 * authenticator app or a recovery code; or a passkey instead of both. On success back to `next` (a path
 * on this site) or the overview.
 */
import { useEffect, useRef, useState, type SubmitEvent } from "react";
import { Link, Navigate, useNavigate, useSearchParams } from "react-router";

import { clearFederationFragment, providerStartUrl, readFederationFragment, useProviderButtons } from "../../api/federation";
import { signIn } from "../../api/identity";
import { useAuthOptions } from "../../api/identityQueries";
import { ApiError, toApiError } from "../../api/problem";
import {
  isEmailUnverified,
  mfaChallenge,
  passkeysSupported,
  requestVerificationEmail,
  signInWithCode,
  signInWithPasskey,
  type MfaChallenge,
} from "../../api/security";
import { safeNext, useAuth } from "../../auth/session";
import { buttonClass } from "../../components/Button";
import { Alert, Field, inputClass, TextField } from "../../components/Form";
import { KeyIcon } from "../../components/icons";
import { useDocumentTitle } from "../../hooks/useDocumentTitle";
import { useAction, useTask } from "../../lib/useAction";
import { AuthLayout, panelClass, textLinkClass } from "./AuthLayout";

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

/** The password was right but the address is not confirmed yet: mail the link again. */
function ResendVerification({ username, onSent }: { username: string; onSent: () => void }) {
  const [email, setEmail] = useState(username.includes("@") ? username : "");
  const [sent, setSent] = useState(false);
  const { run, busy, error } = useAction(requestVerificationEmail, () => {
    setSent(true);
    onSent();
  });

  const send = async (event: SubmitEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    await run(email.trim());
  };

  if (sent) {
    return (
      <Alert tone="success" testId="verification-sent">
        If an account uses <strong className="font-semibold">{email.trim()}</strong>, a new confirmation link is on its way. Open it, then sign in here.
      </Alert>
    );
  }
  return (
    <form
      className="space-y-3 rounded-lg border border-slate-200 bg-slate-50 p-3.5 dark:border-slate-700 dark:bg-slate-950/60"
      onSubmit={(event) => {
        void send(event);
      }}
    >
      {error !== null && <Alert tone="danger">{error.message}</Alert>}
      <TextField
        label="Your email address"
        type="email"
        name="email"
        autoComplete="email"
        required
        value={email}
        onChange={setEmail}
      />
      <button type="submit" className={`${buttonClass.secondary} w-full`} disabled={busy}>
        {busy ? "Sending…" : "Send the link again"}
      </button>
    </form>
  );
}

/** The second step: six digits from the authenticator app, or one recovery code. */
function CodeStep({
  challenge,
  onSignedIn,
  onStartOver,
}: {
  challenge: MfaChallenge;
  onSignedIn: () => Promise<void>;
  onStartOver: (message: string | null) => void;
}) {
  const canUseRecovery = challenge.methods.includes("recovery_code");
  const [useRecovery, setUseRecovery] = useState(false);
  const [code, setCode] = useState("");
  const { run, busy, error, setError } = useTask();
  const input = useRef<HTMLInputElement>(null);

  const submit = async (event: SubmitEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    await run(async () => {
      try {
        await signInWithCode(challenge.mfaToken, useRecovery ? code.trim() : code.replace(/\s/g, ""));
        await onSignedIn();
      } catch (caught) {
        const apiError = toApiError(caught);
        // The step's token is short-lived and single-use: once it is refused, only the password step helps.
        if (apiError.status === 401 && /expired|start again|sign in again/i.test(apiError.message)) {
          onStartOver(apiError.message);
          return;
        }
        setCode("");
        input.current?.focus();
        throw apiError.status === 429 ? new ApiError(apiError.kind, `${apiError.message} Wait a minute, then try again.`, apiError.status) : apiError;
      }
    });
  };

  return (
    <form
      className={`${panelClass} space-y-5`}
      onSubmit={(event) => {
        void submit(event);
      }}
    >
      {error !== null && (
        <Alert tone="danger" testId="login-error">
          {error.message}
        </Alert>
      )}
      {useRecovery ? (
        <Field key="recovery" label="Recovery code" hint="One of the codes you saved when you turned on two-factor sign-in. Each works once.">
          {(control) => (
            <input
              {...control}
              ref={input}
              className={`${inputClass} font-mono`}
              name="recovery-code"
              autoComplete="off"
              autoCapitalize="none"
              spellCheck={false}
              required
              autoFocus
              value={code}
              onChange={(event) => {
                setCode(event.target.value);
              }}
            />
          )}
        </Field>
      ) : (
        <Field key="totp" label="Authentication code" hint="Open your authenticator app and enter the 6-digit code it shows for Nubes.">
          {(control) => (
            <input
              {...control}
              ref={input}
              className={`${inputClass} text-center font-mono text-lg tracking-[0.4em]`}
              name="one-time-code"
              autoComplete="one-time-code"
              inputMode="numeric"
              pattern="[0-9 ]{6,7}"
              maxLength={7}
              required
              autoFocus
              value={code}
              onChange={(event) => {
                setCode(event.target.value);
              }}
            />
          )}
        </Field>
      )}
      <button type="submit" className={`${buttonClass.primary} w-full py-2.5`} disabled={busy}>
        {busy ? "Checking…" : "Verify"}
      </button>
      <div className="flex items-center justify-between gap-3 text-sm">
        {canUseRecovery ? (
          <button
            type="button"
            className={textLinkClass}
            onClick={() => {
              setUseRecovery((current) => !current);
              setCode("");
              setError(null);
            }}
          >
            {useRecovery ? "Use the authenticator app" : "Use a recovery code instead"}
          </button>
        ) : (
          <span />
        )}
        <button
          type="button"
          className="rounded font-medium text-slate-500 hover:text-slate-800 dark:text-slate-400 dark:hover:text-white"
          onClick={() => {
            onStartOver(null);
          }}
        >
          Start over
        </button>
      </div>
    </form>
  );
}

/** Whether `next` is a server page, not one of this UI (the OAuth authorization endpoint, an app behind the gateway): it needs a full page load. */
function servedByServer(next: string): boolean {
  // /apps/<slug>/... is an app behind the gateway (the Apps page itself is exactly /apps).
  return (next.startsWith("/oauth/") && !next.startsWith("/oauth/consent")) || next.startsWith("/apps/");
}

/** Leave the UI for a server page (an app's sign-in with Nubes continues there). */
function FullPageLoad({ to }: { to: string }) {
  useEffect(() => {
    window.location.replace(to);
  }, [to]);
  return null;
}

export function LoginPage() {
  useDocumentTitle("Sign in");
  const { state, reload } = useAuth();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  // Back from an external provider: its refusal, or the account's own second step (the fragment never reaches a server).
  const [fragment] = useState(readFederationFragment);
  const next = safeNext(fragment.next ?? params.get("next"));
  const { data: options } = useAuthOptions();
  const { data: providers } = useProviderButtons();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const { run, busy, error, setError } = useTask();
  const [challenge, setChallenge] = useState<MfaChallenge | null>(() =>
    fragment.mfaToken === null ? null : { mfaToken: fragment.mfaToken, methods: ["totp", "recovery_code"] },
  );
  useEffect(() => {
    clearFederationFragment(fragment);
    if (fragment.error !== null) setError(fragment.error);
  }, [fragment, setError]);
  // Once the confirmation link went out again, its success message replaces the refusal.
  const [linkResent, setLinkResent] = useState(false);
  const [waitSeconds, startWait] = useCountdown();
  const passwordInput = useRef<HTMLInputElement>(null);
  const showPasskey = passkeysSupported() && options?.passkeys !== false;

  if (state.status === "signed-in" && !busy) return servedByServer(next) ? <FullPageLoad to={next} /> : <Navigate to={next} replace />;

  const finish = async (): Promise<void> => {
    await reload();
    if (servedByServer(next)) window.location.assign(next);
    else void navigate(next, { replace: true });
  };

  /** Pass a refusal on to the page, starting the countdown a 429 asks for. */
  const refused = (caught: unknown): never => {
    const apiError = toApiError(caught);
    if (apiError.status === 429) startWait(apiError.retryAfter ?? 60);
    throw apiError;
  };

  const submit = async (event: SubmitEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    setLinkResent(false);
    await run(async () => {
      try {
        await signIn(username.trim(), password);
        await finish();
      } catch (caught) {
        const needsCode = mfaChallenge(toApiError(caught));
        setPassword("");
        if (needsCode !== null) {
          setChallenge(needsCode);
          return;
        }
        passwordInput.current?.focus();
        refused(caught);
      }
    });
  };

  const signInPasskey = async (): Promise<void> => {
    await run(async () => {
      try {
        await signInWithPasskey();
        await finish();
      } catch (caught) {
        refused(caught);
      }
    });
  };

  const notice =
    state.status === "signed-out" && state.reason === "expired"
      ? "Your session has ended. Sign in again to continue."
      : state.status === "signed-out" && state.reason === "signed-out"
        ? "You are signed out."
        : null;

  if (challenge !== null) {
    return (
      <AuthLayout title="Two-factor sign-in" subtitle="Your password was right. One more step to prove it is you.">
        <CodeStep
          challenge={challenge}
          onSignedIn={finish}
          onStartOver={(message) => {
            setChallenge(null);
            setError(message === null ? null : toApiError(new Error(message)));
          }}
        />
      </AuthLayout>
    );
  }

  const unverified = error !== null && isEmailUnverified(error);
  const errorText = error === null || (unverified && linkResent) ? null : error.status === 429 ? "Too many sign-in attempts." : error.message;

  return (
    <AuthLayout
      title="Sign in to Nubes"
      subtitle="Your files, apps and workspaces, on your own servers."
      footer={
        <p className="mt-6 text-center text-sm text-slate-600 dark:text-slate-400">
          {options?.registration_enabled ? (
            <>
              New here?{" "}
              <Link to="/register" className={textLinkClass}>
                Create an account
              </Link>
            </>
          ) : (
            <span className="text-xs text-slate-500 dark:text-slate-400">Need an account? Ask an administrator of your organization.</span>
          )}
        </p>
      }
    >
      <div className={`${panelClass} space-y-5`}>
        {errorText !== null && (
          <Alert tone="danger" testId="login-error">
            {errorText}
            {waitSeconds > 0 && (
              <>
                {" "}
                Try again in <span className="font-semibold tabular-nums">{waitSeconds}</span> {waitSeconds === 1 ? "second" : "seconds"}.
              </>
            )}
          </Alert>
        )}
        {unverified && (
          <ResendVerification
            username={username.trim()}
            onSent={() => {
              setLinkResent(true);
            }}
          />
        )}
        {error === null && notice !== null && <Alert tone="info">{notice}</Alert>}
        <form
          onSubmit={(event) => {
            void submit(event);
          }}
          className="space-y-5"
        >
          <TextField
            label="Username or email"
            name="username"
            autoComplete="username"
            autoCapitalize="none"
            spellCheck={false}
            required
            autoFocus
            value={username}
            onChange={setUsername}
          />
          <Field
            label="Password"
            hint={
              options?.password_reset === false ? undefined : (
                <Link to="/forgot-password" className={textLinkClass}>
                  Forgot password?
                </Link>
              )
            }
          >
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
        {(showPasskey || (providers !== undefined && providers.length > 0)) && (
          <div className="flex items-center gap-3 text-xs text-slate-400 dark:text-slate-500" aria-hidden="true">
            <span className="h-px flex-1 bg-slate-200 dark:bg-slate-800" />
            or
            <span className="h-px flex-1 bg-slate-200 dark:bg-slate-800" />
          </div>
        )}
        {providers?.map((provider) => (
          <a
            key={provider.slug}
            href={providerStartUrl(provider.slug, next)}
            data-testid="provider-button"
            className={`${buttonClass.secondary} w-full py-2.5`}
            aria-disabled={busy || waitSeconds > 0}
          >
            {provider.label}
          </a>
        ))}
        {showPasskey && (
          <>
            <button
              type="button"
              className={`${buttonClass.secondary} w-full py-2.5`}
              disabled={busy || waitSeconds > 0}
              onClick={() => {
                void signInPasskey();
              }}
            >
              <KeyIcon className="size-4" />
              Continue with a passkey
            </button>
          </>
        )}
      </div>
    </AuthLayout>
  );
}

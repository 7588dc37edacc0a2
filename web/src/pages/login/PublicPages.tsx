/**
 * The pages a person reaches without a session: /register (when sign-up is on), /forgot-password, and the
 * two targets of mailed links, /reset-password and /verify-email, whose token is in the URL fragment.
 */
import { useEffect, useRef, useState, type ReactNode, type SubmitEvent } from "react";
import { Link, useLocation } from "react-router";

import { useAuthOptions } from "../../api/identityQueries";
import { toApiError, type ApiError } from "../../api/problem";
import { register, requestPasswordReset, resetPassword, tokenFromHash, verifyEmail } from "../../api/security";
import { buttonClass } from "../../components/Button";
import { Skeleton } from "../../components/Card";
import { Alert, Field, inputClass, TextField } from "../../components/Form";
import { useDocumentTitle } from "../../hooks/useDocumentTitle";
import { useAction } from "../../lib/useAction";
import { AuthLayout, panelClass, textLinkClass } from "./AuthLayout";

const PASSWORD_HINT = "At least 12 characters; a passphrase of a few words works well.";

function BackToSignIn({ children = "Back to sign in" }: { children?: ReactNode }) {
  return (
    <p className="mt-6 text-center text-sm">
      <Link to="/login" className={textLinkClass}>
        {children}
      </Link>
    </p>
  );
}

/** A form's errors: the messages that belong to a field go under it, anything else in a banner. */
function useFieldErrors(error: ApiError | null, fields: readonly string[]) {
  const of = (field: string): string[] => error?.fieldMessages(field) ?? [];
  const placed = fields.some((field) => of(field).length > 0);
  return { of, banner: error !== null && !placed ? error.message : null };
}

function PasswordFields({
  password,
  confirm,
  onPassword,
  onConfirm,
  errors,
  mismatch,
  label = "Password",
}: {
  password: string;
  confirm: string;
  onPassword: (value: string) => void;
  onConfirm: (value: string) => void;
  errors: string[];
  mismatch: boolean;
  label?: string;
}) {
  return (
    <>
      <Field label={label} hint={PASSWORD_HINT} errors={errors}>
        {(control) => (
          <input
            {...control}
            className={inputClass}
            type="password"
            name="new-password"
            autoComplete="new-password"
            required
            value={password}
            onChange={(event) => {
              onPassword(event.target.value);
            }}
          />
        )}
      </Field>
      <Field label={`Confirm ${label.toLowerCase()}`} errors={mismatch ? ["The two passwords differ."] : []}>
        {(control) => (
          <input
            {...control}
            className={inputClass}
            type="password"
            name="confirm-password"
            autoComplete="new-password"
            required
            value={confirm}
            onChange={(event) => {
              onConfirm(event.target.value);
            }}
          />
        )}
      </Field>
    </>
  );
}

// --- /register ----------------------------------------------------------------------------------

export function RegisterPage() {
  useDocumentTitle("Create an account");
  const { data: options, error: optionsError } = useAuthOptions();
  const [username, setUsername] = useState("");
  const [email, setEmail] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [mismatch, setMismatch] = useState(false);
  const [created, setCreated] = useState<string | null>(null);
  const { run, busy, error, setError } = useAction(register, (_, account) => {
    setCreated(account.email);
  });
  const errors = useFieldErrors(error, ["username", "email", "display_name", "password"]);

  const submit = async (event: SubmitEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    setError(null);
    if (password !== confirm) {
      setMismatch(true);
      return;
    }
    setMismatch(false);
    await run({ username: username.trim(), email: email.trim(), password, display_name: displayName.trim() });
  };

  if (created !== null && options?.email_verification_required === false) {
    return (
      <AuthLayout title="You're in" subtitle="Your account is created." footer={<BackToSignIn>Go to sign in</BackToSignIn>}>
        <div className={`${panelClass} space-y-3 text-sm text-slate-700 dark:text-slate-300`}>
          <Alert tone="success" testId="register-done">
            Your account is ready. Sign in with your username and password.
          </Alert>
        </div>
      </AuthLayout>
    );
  }

  if (created !== null) {
    return (
      <AuthLayout title="Check your inbox" subtitle="Your account is created." footer={<BackToSignIn>Go to sign in</BackToSignIn>}>
        <div className={`${panelClass} space-y-3 text-sm text-slate-700 dark:text-slate-300`}>
          <Alert tone="success" testId="register-done">
            We sent a confirmation link to <strong className="font-semibold">{created}</strong>.
          </Alert>
          <p>Open the link in that message to confirm your address, then sign in with your username and password.</p>
          <p className="text-slate-500 dark:text-slate-400">No message after a few minutes? Look in your spam folder; signing in offers to send the link again.</p>
        </div>
      </AuthLayout>
    );
  }

  if (options !== undefined && !options.registration_enabled) {
    return (
      <AuthLayout title="Create an account" subtitle="Sign-up is closed on this server." footer={<BackToSignIn />}>
        <div className={panelClass}>
          <Alert tone="info">Accounts here are created by an administrator. Ask one of your organization’s admins for an account.</Alert>
        </div>
      </AuthLayout>
    );
  }

  return (
    <AuthLayout
      title="Create an account"
      subtitle="Your own space for files, apps and workspaces."
      footer={
        <p className="mt-6 text-center text-sm text-slate-600 dark:text-slate-400">
          Already have an account?{" "}
          <Link to="/login" className={textLinkClass}>
            Sign in
          </Link>
        </p>
      }
    >
      <form
        className={`${panelClass} space-y-4`}
        onSubmit={(event) => {
          void submit(event);
        }}
      >
        {optionsError !== null && <Alert tone="danger">{optionsError.message}</Alert>}
        {errors.banner !== null && (
          <Alert tone="danger" testId="register-error">
            {errors.banner}
          </Alert>
        )}
        {options === undefined && optionsError === null && <Skeleton className="h-4 w-full" />}
        <TextField
          label="Username" hint="2–63 letters, digits, “.”, “_” or “-”." errors={errors.of("username")}
          name="username"
          autoComplete="username"
          autoCapitalize="none"
          spellCheck={false}
          required
          autoFocus
          value={username}
          onChange={setUsername}
        />
        <TextField
          label="Email" hint="We send a link there to confirm it." errors={errors.of("email")}
          type="email"
          name="email"
          autoComplete="email"
          required
          value={email}
          onChange={setEmail}
        />
        <TextField
          label="Display name" optional errors={errors.of("display_name")}
          name="name"
          autoComplete="name"
          value={displayName}
          onChange={setDisplayName}
        />
        <PasswordFields
          password={password}
          confirm={confirm}
          onPassword={setPassword}
          onConfirm={setConfirm}
          errors={errors.of("password")}
          mismatch={mismatch}
        />
        <button type="submit" className={`${buttonClass.primary} w-full py-2.5`} disabled={busy || options?.registration_enabled !== true}>
          {busy ? "Creating your account…" : "Create account"}
        </button>
      </form>
    </AuthLayout>
  );
}

// --- /forgot-password ---------------------------------------------------------------------------

export function ForgotPasswordPage() {
  useDocumentTitle("Forgot password");
  const [email, setEmail] = useState("");
  const [sent, setSent] = useState<string | null>(null);
  const { run, busy, error } = useAction(requestPasswordReset, (_, address) => {
    setSent(address);
  });
  const errors = useFieldErrors(error, ["email"]);

  const submit = async (event: SubmitEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    await run(email.trim());
  };

  return (
    <AuthLayout title="Forgot your password?" subtitle="We mail you a link to choose a new one." footer={<BackToSignIn />}>
      {sent !== null ? (
        <div className={`${panelClass} space-y-3 text-sm text-slate-700 dark:text-slate-300`}>
          <Alert tone="success" testId="reset-requested">
            If an account uses <strong className="font-semibold">{sent}</strong>, a reset link is on its way.
          </Alert>
          <p>Open the link in that message within the hour and choose a new password. Nothing changes until you do.</p>
          <p className="text-slate-500 dark:text-slate-400">
            No message? Check the address and your spam folder, or{" "}
            <button
              type="button"
              className={textLinkClass}
              onClick={() => {
                setSent(null);
              }}
            >
              try again
            </button>
            .
          </p>
        </div>
      ) : (
        <form
          className={`${panelClass} space-y-5`}
          onSubmit={(event) => {
            void submit(event);
          }}
        >
          {errors.banner !== null && <Alert tone="danger">{errors.banner}</Alert>}
          <TextField
            label="Email" hint="The address of your Nubes account." errors={errors.of("email")}
            type="email"
            name="email"
            autoComplete="email"
            required
            autoFocus
            value={email}
            onChange={setEmail}
          />
          <button type="submit" className={`${buttonClass.primary} w-full py-2.5`} disabled={busy}>
            {busy ? "Sending…" : "Send reset link"}
          </button>
        </form>
      )}
    </AuthLayout>
  );
}

/** The token of the mailed link, read once from `#token=…` and then wiped from the address bar. */
function useLinkToken(): string | null {
  const location = useLocation();
  const [token] = useState(() => tokenFromHash(location.hash));
  useEffect(() => {
    // Keep the secret out of the history and of anything that reads the URL later.
    if (window.location.hash !== "") window.history.replaceState(window.history.state, "", window.location.pathname + window.location.search);
  }, []);
  return token;
}

function MissingToken({ what }: { what: string }) {
  return (
    <div className={panelClass}>
      <Alert tone="danger">
        This link is incomplete: it has no token. Open the {what} link from your email again, or copy the whole address into the browser.
      </Alert>
    </div>
  );
}

// --- /reset-password#token=… ----------------------------------------------------------------------

export function ResetPasswordPage() {
  useDocumentTitle("Choose a new password");
  const token = useLinkToken();
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [mismatch, setMismatch] = useState(false);
  const [done, setDone] = useState(false);
  const { run, busy, error, setError } = useAction(resetPassword, () => {
    setDone(true);
  });
  const errors = useFieldErrors(error, ["new_password"]);

  const submit = async (event: SubmitEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    if (token === null) return;
    setError(null);
    if (password !== confirm) {
      setMismatch(true);
      return;
    }
    setMismatch(false);
    await run(token, password);
  };

  return (
    <AuthLayout
      title={done ? "Password changed" : "Choose a new password"}
      subtitle={done ? "You can sign in with it now." : "For your Nubes account."}
      footer={done ? undefined : <BackToSignIn />}
    >
      {token === null ? (
        <MissingToken what="reset" />
      ) : done ? (
        <div className={`${panelClass} space-y-4`}>
          <Alert tone="success" testId="reset-done">
            Your password is changed, and every device that was signed in has been signed out.
          </Alert>
          <Link to="/login" className={`${buttonClass.primary} w-full py-2.5`}>
            Sign in
          </Link>
        </div>
      ) : (
        <form
          className={`${panelClass} space-y-4`}
          onSubmit={(event) => {
            void submit(event);
          }}
        >
          {errors.banner !== null && (
            <Alert tone="danger" testId="reset-error">
              {errors.banner}{" "}
              <Link to="/forgot-password" className={textLinkClass}>
                Ask for a new link
              </Link>
            </Alert>
          )}
          <input type="text" name="username" autoComplete="username" hidden readOnly value="" />
          <PasswordFields
            label="New password"
            password={password}
            confirm={confirm}
            onPassword={setPassword}
            onConfirm={setConfirm}
            errors={errors.of("new_password")}
            mismatch={mismatch}
          />
          <button type="submit" className={`${buttonClass.primary} w-full py-2.5`} disabled={busy}>
            {busy ? "Saving…" : "Set new password"}
          </button>
        </form>
      )}
    </AuthLayout>
  );
}

// --- /verify-email#token=… ------------------------------------------------------------------------

type Verification = { status: "checking" } | { status: "done" } | { status: "failed"; error: ApiError };

export function VerifyEmailPage() {
  useDocumentTitle("Confirm your email");
  const token = useLinkToken();
  const [result, setResult] = useState<Verification>({ status: "checking" });
  const sent = useRef(false);

  useEffect(() => {
    // The token works once: StrictMode's second effect run must not spend it again.
    if (token === null || sent.current) return;
    sent.current = true;
    verifyEmail(token).then(
      () => {
        setResult({ status: "done" });
      },
      (error: unknown) => {
        setResult({ status: "failed", error: toApiError(error) });
      },
    );
  }, [token]);

  const title = result.status === "done" ? "Email confirmed" : result.status === "failed" ? "That link did not work" : "Confirming your email…";
  return (
    <AuthLayout title={token === null ? "Confirm your email" : title} subtitle="For your Nubes account.">
      {token === null ? (
        <MissingToken what="confirmation" />
      ) : (
        <div className={`${panelClass} space-y-4`} aria-live="polite">
          {result.status === "checking" && <Skeleton className="h-10 w-full" />}
          {result.status === "done" && (
            <Alert tone="success" testId="verify-done">
              Thanks, your email address is confirmed. You can sign in now.
            </Alert>
          )}
          {result.status === "failed" && (
            <Alert tone="danger" testId="verify-error">
              {result.error.message} Signing in offers to send a new link.
            </Alert>
          )}
          {result.status !== "checking" && (
            <Link to="/login" className={`${buttonClass.primary} w-full py-2.5`}>
              Go to sign in
            </Link>
          )}
        </div>
      )}
    </AuthLayout>
  );
}

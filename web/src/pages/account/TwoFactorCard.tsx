/**
 * Two-factor sign-in with an authenticator app: its status, setting it up (QR code or typed secret, then a
 * first code), the recovery codes shown once, new recovery codes, and turning it off with the password.
 */
import { useState, type SubmitEvent } from "react";

import { useMyTotp } from "../../api/identityQueries";
import { useInvalidate } from "../../api/queryClient";
import { identityKeys } from "../../api/queryKeys";
import { beginTotp, confirmTotp, disableTotp, regenerateRecoveryCodes, type TotpEnrollment } from "../../api/security";
import { useMe } from "../../auth/session";
import { Badge } from "../../components/Badge";
import { buttonClass } from "../../components/Button";
import { Card, Skeleton } from "../../components/Card";
import { Dialog } from "../../components/Dialog";
import { Alert, inputClass, TextField } from "../../components/Form";
import { DownloadIcon, ShieldIcon } from "../../components/icons";
import { useAction } from "../../lib/useAction";

/** A `.catch()` handler that empties a field (a refused code or password) and passes the failure on. */
function clearing(setField: (value: string) => void): (caught: unknown) => never {
  return (caught) => {
    setField("");
    throw caught;
  };
}

/** What the dialog shows: the set-up steps, the fresh codes, or a password prompt for a sensitive change. */
type Step =
  | { kind: "closed" }
  | { kind: "enroll"; enrollment: TotpEnrollment }
  | { kind: "codes"; codes: string[]; fresh: boolean }
  | { kind: "password"; action: "disable" | "regenerate" };

/** The recovery codes as a small text file, for the download link (a data: URL: no object URL to revoke). */
function textFileUrl(text: string): string {
  return `data:text/plain;charset=utf-8,${encodeURIComponent(text)}`;
}

function RecoveryCodes({ codes, fresh, onDone }: { codes: string[]; fresh: boolean; onDone: () => void }) {
  const { user, tenant } = useMe();
  const [copied, setCopied] = useState<"yes" | "no" | null>(null);
  const text = `Nubes recovery codes for ${user.username} (${tenant.slug})\nEach code signs you in once when you cannot use your authenticator app.\n\n${codes.join("\n")}\n`;
  const url = textFileUrl(text);
  const copy = (): void => {
    navigator.clipboard.writeText(codes.join("\n")).then(
      () => {
        setCopied("yes");
      },
      () => {
        setCopied("no");
      },
    );
  };
  return (
    <div className="space-y-4">
      <Alert tone={fresh ? "success" : "info"}>
        {fresh && <>Two-factor sign-in is on. </>}
        Save these recovery codes somewhere safe, such as a password manager. <strong className="font-semibold">You will not see them again.</strong>{" "}
        Each one signs you in once if you lose your authenticator app.
      </Alert>
      <ul aria-label="Recovery codes" className="grid grid-cols-2 gap-2 rounded-lg border border-slate-200 bg-slate-50 p-3 dark:border-slate-700 dark:bg-slate-950">
        {codes.map((code) => (
          <li key={code} data-testid="recovery-code" className="text-center font-mono text-sm tracking-wide text-slate-800 select-all dark:text-slate-200">
            {code}
          </li>
        ))}
      </ul>
      <div className="flex flex-wrap items-center gap-2">
        <button type="button" className={buttonClass.secondary} onClick={copy}>
          Copy
        </button>
        <a href={url} download="nubes-recovery-codes.txt" className={buttonClass.secondary}>
          <DownloadIcon className="size-4" />
          Download .txt
        </a>
        {copied !== null && (
          <span role="status" className="text-xs text-slate-500 dark:text-slate-400">
            {copied === "yes" ? "Copied to the clipboard." : "Could not copy: select the codes and copy them yourself."}
          </span>
        )}
      </div>
      <div className="flex justify-end pt-2">
        <button type="button" className={buttonClass.primary} onClick={onDone}>
          I have saved them
        </button>
      </div>
    </div>
  );
}

function Enrollment({ enrollment, onConfirmed, onCancel }: { enrollment: TotpEnrollment; onConfirmed: (codes: string[]) => void; onCancel: () => void }) {
  const [code, setCode] = useState("");
  // A refused code is cleared, ready for the next one.
  const { run, busy, error } = useAction((typed: string) => confirmTotp(typed).catch(clearing(setCode)), onConfirmed);

  const submit = async (event: SubmitEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    await run(code.replace(/\s/g, ""));
  };

  // The secret in groups of four reads and types more easily; apps ignore the spaces.
  const grouped = enrollment.secret.replace(/(.{4})/g, "$1 ").trim();
  const codeErrors = error === null ? [] : error.fieldMessages("code").length > 0 ? error.fieldMessages("code") : [error.message];
  return (
    <form
      className="space-y-5"
      onSubmit={(event) => {
        void submit(event);
      }}
    >
      <ol className="space-y-5 text-sm text-slate-700 dark:text-slate-300">
        <li>
          <p className="font-medium text-slate-900 dark:text-white">1. Scan this code with your authenticator app</p>
          <p className="mt-0.5 text-slate-500 dark:text-slate-400">Any TOTP app works: 2FAS, Aegis, Google Authenticator, 1Password, Bitwarden…</p>
          <div className="mt-3 flex flex-col items-center gap-3 sm:flex-row sm:items-start">
            <img
              src={enrollment.qr_svg_data_uri}
              alt="QR code to add Nubes to an authenticator app"
              className="size-40 shrink-0 rounded-lg border border-slate-200 bg-white p-2 dark:border-slate-700"
            />
            <div className="min-w-0 text-xs text-slate-500 dark:text-slate-400">
              <p>Cannot scan it? Type this key into the app instead (time-based, 6 digits):</p>
              <code data-testid="totp-secret" data-secret={enrollment.secret} className="mt-2 block rounded-md bg-slate-100 px-2 py-1.5 font-mono text-sm break-all text-slate-800 select-all dark:bg-slate-800 dark:text-slate-200">
                {grouped}
              </code>
            </div>
          </div>
        </li>
        <li>
          <p className="mb-2 font-medium text-slate-900 dark:text-white">2. Enter the code the app shows</p>
          <TextField
            label="6-digit code" errors={codeErrors}
            className={`${inputClass} max-w-40 text-center font-mono tracking-[0.3em]`}
            name="one-time-code"
            autoComplete="one-time-code"
            inputMode="numeric"
            pattern="[0-9 ]{6,7}"
            maxLength={7}
            required
            data-autofocus
            value={code}
            onChange={setCode}
          />
        </li>
      </ol>
      <div className="flex justify-end gap-3 pt-1">
        <button type="button" className={buttonClass.secondary} onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className={buttonClass.primary} disabled={busy}>
          {busy ? "Checking…" : "Turn on"}
        </button>
      </div>
    </form>
  );
}

function PasswordPrompt({
  action,
  onDone,
  onCancel,
}: {
  action: "disable" | "regenerate";
  onDone: (codes: string[] | null) => void;
  onCancel: () => void;
}) {
  const { user } = useMe();
  const [password, setPassword] = useState("");
  // A refused password is cleared, ready to be typed again.
  const { run, busy, error } = useAction(
    (typed: string) => (action === "disable" ? disableTotp(typed).then(() => null) : regenerateRecoveryCodes(typed)).catch(clearing(setPassword)),
    onDone,
  );

  const submit = async (event: SubmitEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    await run(password);
  };

  return (
    <form
      className="space-y-4"
      onSubmit={(event) => {
        void submit(event);
      }}
    >
      <p className="text-sm text-slate-600 dark:text-slate-300">
        {action === "disable"
          ? "Signing in will need only your password (or a passkey). Your recovery codes stop working."
          : "Your current recovery codes stop working, and you get ten new ones."}
      </p>
      <input type="text" name="username" autoComplete="username" value={user.username} readOnly hidden />
      <TextField
        label="Your password" errors={error === null ? [] : [error.message]}
        type="password"
        name="current-password"
        autoComplete="current-password"
        required
        data-autofocus
        value={password}
        onChange={setPassword}
      />
      <div className="flex justify-end gap-3 pt-1">
        <button type="button" className={buttonClass.secondary} onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className={action === "disable" ? buttonClass.danger : buttonClass.primary} disabled={busy}>
          {busy ? "Working…" : action === "disable" ? "Turn off" : "Get new codes"}
        </button>
      </div>
    </form>
  );
}

const dialogTitles: Record<Exclude<Step["kind"], "closed">, string> = {
  enroll: "Set up two-factor sign-in",
  codes: "Your recovery codes",
  password: "",
};

export function TwoFactorCard() {
  const { data: status, error, isFetching: loading } = useMyTotp();
  const invalidate = useInvalidate();
  const reload = (): void => void invalidate(identityKeys.totp);
  const [step, setStep] = useState<Step>({ kind: "closed" });
  const [notice, setNotice] = useState<string | null>(null);
  const begin = useAction(beginTotp, (enrollment) => {
    setStep({ kind: "enroll", enrollment });
  });
  const starting = begin.busy;
  const startError = begin.error?.message ?? null;

  const start = async (): Promise<void> => {
    setNotice(null);
    await begin.run();
  };

  const close = (): void => {
    setStep({ kind: "closed" });
  };

  const title =
    step.kind === "closed" ? "" : step.kind === "password" ? (step.action === "disable" ? "Turn off two-factor sign-in?" : "New recovery codes") : dialogTitles[step.kind];

  return (
    <Card
      title="Two-factor sign-in"
      action={
        status !== undefined && (
          <span data-testid="totp-status">
            <Badge tone={status.enabled ? "success" : "neutral"}>{status.enabled ? "On" : "Off"}</Badge>
          </span>
        )
      }
    >
      {error !== null && <Alert tone="danger">{error.message}</Alert>}
      {status === undefined && loading && <Skeleton className="h-12 w-full" />}
      {notice !== null && (
        <div className="mb-4">
          <Alert tone="success">{notice}</Alert>
        </div>
      )}
      {startError !== null && (
        <div className="mb-4">
          <Alert tone="danger">{startError}</Alert>
        </div>
      )}
      {status !== undefined && (
        <div className="flex items-start gap-4">
          <span className="inline-flex size-10 shrink-0 items-center justify-center rounded-lg bg-slate-100 text-slate-500 dark:bg-slate-800 dark:text-slate-400">
            <ShieldIcon className="size-5" />
          </span>
          <div className="min-w-0 flex-1 text-sm">
            {status.enabled ? (
              <>
                <p className="text-slate-700 dark:text-slate-300">After your password, Nubes asks for a code from your authenticator app.</p>
                <p className="mt-1 text-xs text-slate-500 dark:text-slate-400" data-testid="recovery-codes-left">
                  {status.recovery_codes_left === 0
                    ? "No recovery codes left: get new ones now, or you may lock yourself out."
                    : `${status.recovery_codes_left} recovery ${status.recovery_codes_left === 1 ? "code" : "codes"} left.`}
                </p>
                <div className="mt-3 flex flex-wrap gap-2">
                  <button
                    type="button"
                    className={buttonClass.small}
                    onClick={() => {
                      setNotice(null);
                      setStep({ kind: "password", action: "regenerate" });
                    }}
                  >
                    New recovery codes
                  </button>
                  <button
                    type="button"
                    className={buttonClass.smallDanger}
                    onClick={() => {
                      setNotice(null);
                      setStep({ kind: "password", action: "disable" });
                    }}
                  >
                    Turn off
                  </button>
                </div>
              </>
            ) : (
              <>
                <p className="text-slate-700 dark:text-slate-300">
                  Protect your account with a second step: after your password, enter a code from an authenticator app on your phone.
                </p>
                <button
                  type="button"
                  className={`${buttonClass.primary} mt-3`}
                  disabled={starting}
                  onClick={() => {
                    void start();
                  }}
                >
                  {starting ? "Starting…" : "Set up two-factor sign-in"}
                </button>
              </>
            )}
          </div>
        </div>
      )}
      <Dialog open={step.kind !== "closed"} title={title} onClose={close}>
        {step.kind === "enroll" && (
          <Enrollment
            enrollment={step.enrollment}
            onConfirmed={(codes) => {
              setStep({ kind: "codes", codes, fresh: true });
              reload();
            }}
            onCancel={close}
          />
        )}
        {step.kind === "codes" && <RecoveryCodes codes={step.codes} fresh={step.fresh} onDone={close} />}
        {step.kind === "password" && (
          <PasswordPrompt
            action={step.action}
            onCancel={close}
            onDone={(codes) => {
              reload();
              if (codes === null) {
                close();
                setNotice("Two-factor sign-in is off. You can turn it on again at any time.");
              } else {
                setStep({ kind: "codes", codes, fresh: false });
              }
            }}
          />
        )}
      </Dialog>
    </Card>
  );
}

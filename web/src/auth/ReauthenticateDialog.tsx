/**
 * "Confirm it's you": changing a password, passkeys, two-factor sign-in, tokens or sessions needs a recent
 * proof of identity (sudo mode). When the server asks for one, this dialog takes the password (or a
 * passkey), and the API client then retries the change that asked.
 */
import { useEffect, useRef, useState, type SubmitEvent } from "react";

import { onReauthenticationRequired } from "../api/client";
import { confirmWithPasskey, confirmWithPassword, passkeysSupported } from "../api/security";
import { buttonClass } from "../components/Button";
import { Dialog } from "../components/Dialog";
import { Alert, TextField } from "../components/Form";
import { useTask } from "../lib/useAction";
import { useAuth } from "./session";

export function ReauthenticateDialog() {
  const { state } = useAuth();
  // Every change that asked meanwhile waits on the same confirmation.
  const waiting = useRef<((confirmed: boolean) => void)[]>([]);
  const [methods, setMethods] = useState<string[] | null>(null);
  const [password, setPassword] = useState("");
  const { run: confirmWith, busy, error, setError } = useTask();

  useEffect(
    () =>
      onReauthenticationRequired(
        (offered) =>
          new Promise<boolean>((resolve) => {
            waiting.current.push(resolve);
            setMethods(offered);
          }),
      ),
    [],
  );

  const finish = (confirmed: boolean): void => {
    for (const resolve of waiting.current.splice(0)) resolve(confirmed);
    setMethods(null);
    setPassword("");
    setError(null);
  };

  const run = async (confirm: () => Promise<void>): Promise<void> => {
    await confirmWith(async () => {
      await confirm();
      finish(true);
    });
  };

  const submit = (event: SubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    void run(() => confirmWithPassword(password));
  };

  const username = state.status === "signed-in" ? state.me.user.username : "";
  const offersPasskey = methods?.includes("passkey") === true && passkeysSupported();

  return (
    <Dialog
      open={methods !== null}
      title="Confirm it's you"
      description="This changes the security of your account, so enter your password again. You won't be asked again for a few minutes."
      onClose={() => {
        finish(false);
      }}
      size="sm"
    >
      <form className="space-y-4" onSubmit={submit} data-testid="reauthenticate-dialog">
        <input type="text" name="username" autoComplete="username" value={username} readOnly hidden />
        {error !== null && <Alert tone="danger">{error.message}</Alert>}
        <TextField
          label="Password"
          data-autofocus
          type="password"
          name="current-password"
          autoComplete="current-password"
          required
          value={password}
          onChange={setPassword}
        />
        <div className="flex flex-wrap items-center justify-end gap-3">
          {offersPasskey && (
            <button
              type="button"
              className={`${buttonClass.secondary} mr-auto`}
              disabled={busy}
              onClick={() => {
                void run(confirmWithPasskey);
              }}
            >
              Use a passkey
            </button>
          )}
          <button
            type="button"
            className={buttonClass.secondary}
            onClick={() => {
              finish(false);
            }}
          >
            Cancel
          </button>
          <button type="submit" className={buttonClass.primary} disabled={busy}>
            {busy ? "Checking…" : "Confirm"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

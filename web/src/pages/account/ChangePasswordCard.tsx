/** Change your own password: the current one, the new one twice; the server's policy reasons under the field. */
import { useState, type SubmitEvent } from "react";

import { changeMyPassword } from "../../api/identity";
import { useMe } from "../../auth/session";
import { buttonClass } from "../../components/Button";
import { Card } from "../../components/Card";
import { Alert, TextField } from "../../components/Form";
import { useAction } from "../../lib/useAction";

/** `onChanged` runs after a change (it ends every other session, so the sessions list should reload). */
export function ChangePasswordCard({ onChanged }: { onChanged: () => void }) {
  const { user } = useMe();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [confirm, setConfirm] = useState("");
  const [mismatch, setMismatch] = useState(false);
  const [done, setDone] = useState(false);
  const { run, busy, error, setError } = useAction(changeMyPassword, () => {
    setCurrent("");
    setNext("");
    setConfirm("");
    setDone(true);
    onChanged();
  });

  const submit = async (event: SubmitEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    setDone(false);
    setError(null);
    if (next !== confirm) {
      setMismatch(true);
      return;
    }
    setMismatch(false);
    await run(current, next);
  };

  const currentErrors = error?.status === 403 ? [error.message] : [];
  const policyErrors = error?.status === 422 ? [...error.fieldMessages("new_password"), ...error.fieldMessages("password")] : [];
  const otherError = error !== null && currentErrors.length === 0 && policyErrors.length === 0 ? error.message : null;

  return (
    <Card title="Change password">
      <form
        className="space-y-4"
        onSubmit={(event) => {
          void submit(event);
        }}
      >
        <input type="text" name="username" autoComplete="username" value={user.username} readOnly hidden />
        {done && <Alert tone="success">Password changed. Every other session of yours was signed out.</Alert>}
        {otherError !== null && <Alert tone="danger">{otherError}</Alert>}
        <TextField
          label="Current password" errors={currentErrors}
          type="password"
          name="current-password"
          autoComplete="current-password"
          required
          value={current}
          onChange={setCurrent}
        />
        <div className="grid gap-4 sm:grid-cols-2">
          <TextField
            label="New password" hint="At least 12 characters; a passphrase of a few words works well." errors={policyErrors}
            type="password"
            name="new-password"
            autoComplete="new-password"
            required
            value={next}
            onChange={setNext}
          />
          <TextField
            label="Confirm new password" errors={mismatch ? ["The two new passwords differ."] : []}
            type="password"
            name="confirm-password"
            autoComplete="new-password"
            required
            value={confirm}
            onChange={setConfirm}
          />
        </div>
        <div className="flex items-center justify-between gap-4 pt-1">
          <p className="text-xs text-slate-500 dark:text-slate-400">Your other devices will be signed out.</p>
          <button type="submit" className={buttonClass.primary} disabled={busy}>
            {busy ? "Changing…" : "Change password"}
          </button>
        </div>
      </form>
    </Card>
  );
}

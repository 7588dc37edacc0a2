/** Passkeys: sign in with this device's screen lock or a security key instead of a password. List, add, rename, remove. */
import { useState, type SubmitEvent } from "react";

import { useMyPasskeys } from "../../api/identityQueries";
import { useInvalidate } from "../../api/queryClient";
import { identityKeys } from "../../api/queryKeys";
import { addPasskey, passkeysSupported, removePasskey, renamePasskey, type Passkey } from "../../api/security";
import { buttonClass } from "../../components/Button";
import { Card, Skeleton } from "../../components/Card";
import { ConfirmDialog, Dialog } from "../../components/Dialog";
import { Alert, TextField } from "../../components/Form";
import { KeyIcon, PlusIcon } from "../../components/icons";
import { describeTimestamp } from "../../lib/format";
import { describeUserAgent } from "../../lib/userAgent";
import { useConfirm, useTask } from "../../lib/useAction";

function When({ value, empty }: { value: string | null; empty: string }) {
  const { text, title } = describeTimestamp(value);
  return value === null ? <span>{empty}</span> : <span title={title}>{text}</span>;
}

function PasskeyRow({ passkey, onRename, onRemove }: { passkey: Passkey; onRename: (passkey: Passkey) => void; onRemove: (passkey: Passkey) => void }) {
  return (
    <li data-testid="passkey-row" data-name={passkey.name} className="flex items-center gap-4 py-3.5">
      <span className="inline-flex size-10 shrink-0 items-center justify-center rounded-lg bg-slate-100 text-slate-500 dark:bg-slate-800 dark:text-slate-400">
        <KeyIcon className="size-5" />
      </span>
      <div className="min-w-0 flex-1">
        <p className="truncate text-sm font-medium text-slate-900 dark:text-white">{passkey.name}</p>
        <p className="mt-0.5 text-xs text-slate-500 dark:text-slate-400">
          Added <When value={passkey.created_at} empty="" />
          <span aria-hidden="true"> · </span>
          Last used <When value={passkey.last_used_at} empty="never" />
        </p>
      </div>
      <div className="flex shrink-0 gap-2">
        <button
          type="button"
          aria-label={`Rename ${passkey.name}`}
          className={buttonClass.small}
          onClick={() => {
            onRename(passkey);
          }}
        >
          Rename
        </button>
        <button
          type="button"
          aria-label={`Remove ${passkey.name}`}
          className={buttonClass.smallDanger}
          onClick={() => {
            onRemove(passkey);
          }}
        >
          Remove
        </button>
      </div>
    </li>
  );
}

/** Name the passkey, then let the browser create it (it asks for the screen lock or a security key). */
function NameForm({
  initial,
  submitLabel,
  busyLabel,
  hint,
  onSubmit,
  onCancel,
}: {
  initial: string;
  submitLabel: string;
  busyLabel: string;
  hint: string;
  onSubmit: (name: string) => Promise<void>;
  onCancel: () => void;
}) {
  const [name, setName] = useState(initial);
  const { run, busy, error } = useTask();

  const submit = async (event: SubmitEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    await run(async () => {
      await onSubmit(name.trim());
    });
  };

  const nameErrors = error?.fieldMessages("name") ?? [];
  return (
    <form
      className="space-y-4"
      onSubmit={(event) => {
        void submit(event);
      }}
    >
      {error !== null && nameErrors.length === 0 && <Alert tone="danger">{error.message}</Alert>}
      <TextField
        label="Name" hint={hint} errors={nameErrors}
        name="passkey-name"
        autoComplete="off"
        required
        maxLength={100}
        data-autofocus
        value={name}
        onChange={setName}
      />
      <div className="flex justify-end gap-3 pt-1">
        <button type="button" className={buttonClass.secondary} onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className={buttonClass.primary} disabled={busy}>
          {busy ? busyLabel : submitLabel}
        </button>
      </div>
    </form>
  );
}

export function PasskeysCard() {
  const { data: passkeys, error, isFetching: loading } = useMyPasskeys();
  const invalidate = useInvalidate();
  const reload = (): void => void invalidate(identityKeys.passkeys);
  const [adding, setAdding] = useState(false);
  const [renaming, setRenaming] = useState<Passkey | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const remove = useConfirm((passkey: Passkey) => removePasskey(passkey.id), (_, passkey) => {
    setNotice(`${passkey.name} was removed. It no longer signs you in.`);
    reload();
  });
  const supported = passkeysSupported();

  return (
    <Card
      title={`Passkeys${passkeys ? ` (${passkeys.length})` : ""}`}
      action={
        supported && (
          <button
            type="button"
            className={buttonClass.small}
            onClick={() => {
              setNotice(null);
              setAdding(true);
            }}
          >
            <PlusIcon className="size-3.5" />
            Add a passkey
          </button>
        )
      }
    >
      <p className="text-sm text-slate-600 dark:text-slate-400">
        Sign in with your fingerprint, face, screen lock or a security key instead of your password. A passkey stays on your device; Nubes keeps only its public half.
      </p>
      {!supported && (
        <div className="mt-4">
          <Alert tone="info">This browser cannot create passkeys. Use a recent Chrome, Edge, Firefox or Safari, over https or on localhost.</Alert>
        </div>
      )}
      {notice !== null && (
        <div className="mt-4">
          <Alert tone="success">{notice}</Alert>
        </div>
      )}
      {error !== null && (
        <div className="mt-4">
          <Alert tone="danger">{error.message}</Alert>
        </div>
      )}
      {passkeys === undefined && loading && (
        <div className="mt-4" aria-busy="true">
          <Skeleton className="h-12 w-full" />
        </div>
      )}
      {passkeys?.length === 0 && <p className="mt-4 text-sm text-slate-500 dark:text-slate-400">You have no passkeys yet.</p>}
      {passkeys !== undefined && passkeys.length > 0 && (
        <ul className="mt-2 divide-y divide-slate-100 dark:divide-slate-800" aria-label="Passkeys">
          {passkeys.map((passkey) => (
            <PasskeyRow
              key={passkey.id}
              passkey={passkey}
              onRename={(chosen) => {
                setNotice(null);
                setRenaming(chosen);
              }}
              onRemove={(chosen) => {
                setNotice(null);
                remove.ask(chosen);
              }}
            />
          ))}
        </ul>
      )}
      <Dialog
        open={adding}
        title="Add a passkey"
        description="Name it after the device or key that holds it. Your browser then asks you to confirm with your screen lock or security key."
        onClose={() => {
          setAdding(false);
        }}
      >
        <NameForm
          initial={describeUserAgent(navigator.userAgent)}
          submitLabel="Create passkey"
          busyLabel="Waiting for your device…"
          hint="For example “Work laptop” or “YubiKey”."
          onCancel={() => {
            setAdding(false);
          }}
          onSubmit={async (name) => {
            const created = await addPasskey(name);
            setAdding(false);
            setNotice(`${created.name} is ready. Next time, choose “Continue with a passkey” on the sign-in page.`);
            reload();
          }}
        />
      </Dialog>
      <Dialog
        open={renaming !== null}
        title="Rename passkey"
        size="sm"
        onClose={() => {
          setRenaming(null);
        }}
      >
        {renaming !== null && (
          <NameForm
            initial={renaming.name}
            submitLabel="Save"
            busyLabel="Saving…"
            hint="Only you see this name."
            onCancel={() => {
              setRenaming(null);
            }}
            onSubmit={async (name) => {
              await renamePasskey(renaming.id, name);
              setRenaming(null);
              reload();
            }}
          />
        )}
      </Dialog>
      <ConfirmDialog title={`Remove ${remove.target?.name ?? ""}?`} confirmLabel="Remove" {...remove.dialog}>
        <p>This passkey stops signing you in at once. Remove it from the device too, in its password or passkey settings.</p>
      </ConfirmDialog>
    </Card>
  );
}

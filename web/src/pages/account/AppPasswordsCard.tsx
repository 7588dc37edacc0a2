/**
 * Devices and app passwords: one password per sync client or mounted drive (WebDAV, HTTP Basic), made here and
 * shown once with the address and username to paste, listed with when and from where it was last used, revoked at once.
 */
import { useState, type SubmitEvent } from "react";

import { asPermissionCodes, createMyAppPassword, revokeMyAppPassword, type AppPassword, type AppPasswordCreated } from "../../api/access";
import { useMyAppPasswords } from "../../api/identityQueries";
import { useInvalidate } from "../../api/queryClient";
import { identityKeys } from "../../api/queryKeys";
import { useMe } from "../../auth/session";
import { buttonClass } from "../../components/Button";
import { Card, Skeleton } from "../../components/Card";
import { ConfirmDialog, Dialog } from "../../components/Dialog";
import { Alert, TextField } from "../../components/Form";
import { DevicesIcon, PlusIcon } from "../../components/icons";
import { useConfirm, useTask } from "../../lib/useAction";
import { CopyField, CredentialRow, ScopePicker, When } from "./credentialParts";

/** What a new app password may do unless you pick otherwise: read and write your files. */
const DEFAULT_SCOPES = ["files.read", "files.write"];

/** The WebDAV address of the user's files on this server (the one a new app password's answer gives, too). */
function webdavAddress(username: string): string {
  return `${window.location.origin}/dav/files/${encodeURIComponent(username)}/`;
}

function AppPasswordRow({ appPassword, onRevoke }: { appPassword: AppPassword; onRevoke: (appPassword: AppPassword) => void }) {
  return (
    <CredentialRow
      icon={DevicesIcon}
      name={appPassword.name}
      prefix={appPassword.prefix}
      scopes={appPassword.scopes}
      kind="app-password"
      onRevoke={() => {
        onRevoke(appPassword);
      }}
    >
      Created <When value={appPassword.created_at} empty="" />
      <span aria-hidden="true"> · </span>
      Last used <When value={appPassword.last_used_at} empty="never" />
      {appPassword.last_used_ip !== null && appPassword.last_used_ip !== "" && (
        <>
          {" "}
          from <span className="font-mono">{appPassword.last_used_ip}</span>
        </>
      )}
    </CredentialRow>
  );
}

function NewAppPasswordForm({ onCreated, onCancel }: { onCreated: (created: AppPasswordCreated) => void; onCancel: () => void }) {
  const me = useMe();
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<string[]>(() => DEFAULT_SCOPES.filter((code) => me.permissions.includes(code)));
  const { run, busy, error } = useTask();

  const submit = async (event: SubmitEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    await run(async () => {
      onCreated(await createMyAppPassword({ name: name.trim(), scopes: asPermissionCodes(scopes) }));
    });
  };

  const errorsOf = (field: string): string[] => error?.fieldMessages(field) ?? [];
  const placed = ["name", "scopes"].some((field) => errorsOf(field).length > 0);
  // Files first: they are what a sync client needs.
  const codes = [...me.permissions].sort((a, b) => Number(!a.startsWith("files.")) - Number(!b.startsWith("files.")) || a.localeCompare(b));

  return (
    <form
      className="space-y-4"
      onSubmit={(event) => {
        void submit(event);
      }}
    >
      {error !== null && !placed && <Alert tone="danger">{error.message}</Alert>}
      <TextField
        label="Device"
        hint="Which device or client will use it, e.g. “work laptop (Nextcloud client)”."
        errors={errorsOf("name")}
        name="app-password-name"
        autoComplete="off"
        required
        autoFocus
        value={name}
        onChange={setName}
      />
      <ScopePicker
        legend="What it may do"
        hint="Reading and writing your files is what sync clients need; it never gets more than you can do."
        codes={codes}
        selected={scopes}
        onChange={setScopes}
        errors={errorsOf("scopes")}
      />
      <div className="flex justify-end gap-3 pt-2">
        <button type="button" className={buttonClass.secondary} onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className={buttonClass.primary} disabled={busy}>
          {busy ? "Creating…" : "Create app password"}
        </button>
      </div>
    </form>
  );
}

/** The password, once, with what else the client asks for. */
function CreatedAppPassword({ created, onDone }: { created: AppPasswordCreated; onDone: () => void }) {
  return (
    <div className="space-y-4">
      <Alert tone="info">
        Paste these into the client on <strong className="font-semibold">{created.name}</strong> now. <strong className="font-semibold">You will not see the password again</strong>: Nubes keeps only a hash of it.
      </Alert>
      <CopyField label="Server address (WebDAV)" value={created.webdav_url} testId="new-app-password-url" />
      <CopyField label="Username" value={created.username} testId="new-app-password-username" />
      <CopyField label="App password" value={created.password} testId="new-app-password-value" secret />
      <div className="flex justify-end pt-2">
        <button type="button" className={buttonClass.primary} onClick={onDone}>
          Done
        </button>
      </div>
    </div>
  );
}

export function AppPasswordsCard() {
  const me = useMe();
  const { data: appPasswords, error, isFetching: loading } = useMyAppPasswords();
  const invalidate = useInvalidate();
  const reload = (): void => void invalidate(identityKeys.appPasswords);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<AppPasswordCreated | null>(null);
  const revoke = useConfirm((appPassword: AppPassword) => revokeMyAppPassword(appPassword.id), reload);

  const closeDialog = (): void => {
    setCreating(false);
    setCreated(null);
  };

  return (
    <Card
      title={`Devices and app passwords${appPasswords ? ` (${appPasswords.length})` : ""}`}
      action={
        <button
          type="button"
          className={buttonClass.small}
          onClick={() => {
            setCreated(null);
            setCreating(true);
          }}
        >
          <PlusIcon className="size-3.5" />
          New app password
        </button>
      }
    >
      <p className="text-sm text-slate-600 dark:text-slate-400">
        Sync clients and mounted drives (the Nextcloud client, rclone, davfs2, your file manager) sign in with your username and an app password: one per device, so you can sign one out without the others. Your account password works there only while you have neither two-factor sign-in nor a passkey.
      </p>
      <p className="mt-2 text-xs text-slate-500 dark:text-slate-400">
        WebDAV address: <code className="font-mono text-slate-700 dark:text-slate-300" data-testid="webdav-address">{webdavAddress(me.user.username)}</code>
      </p>
      {error !== null && (
        <div className="mt-4">
          <Alert tone="danger">{error.message}</Alert>
        </div>
      )}
      {appPasswords === undefined && loading && (
        <div className="mt-4 space-y-3" aria-busy="true">
          <Skeleton className="h-12 w-full" />
        </div>
      )}
      {appPasswords?.length === 0 && <p className="mt-4 text-sm text-slate-500 dark:text-slate-400">You have no app passwords.</p>}
      {appPasswords !== undefined && appPasswords.length > 0 && (
        <ul className="mt-2 divide-y divide-slate-100 dark:divide-slate-800" aria-label="App passwords">
          {appPasswords.map((appPassword) => (
            <AppPasswordRow key={appPassword.id} appPassword={appPassword} onRevoke={revoke.ask} />
          ))}
        </ul>
      )}
      <Dialog
        open={creating}
        title={created === null ? "New app password" : "App password created"}
        description={created === null ? "Name the device and pick what its client may do." : undefined}
        onClose={closeDialog}
      >
        {created === null ? (
          <NewAppPasswordForm
            onCreated={(appPassword) => {
              setCreated(appPassword);
              reload();
            }}
            onCancel={closeDialog}
          />
        ) : (
          <CreatedAppPassword created={created} onDone={closeDialog} />
        )}
      </Dialog>
      <ConfirmDialog title={`Revoke ${revoke.target?.name ?? ""}?`} confirmLabel="Revoke" {...revoke.dialog}>
        <p>The client on this device is signed out at once and must be given a new app password. This cannot be undone.</p>
      </ConfirmDialog>
    </Card>
  );
}

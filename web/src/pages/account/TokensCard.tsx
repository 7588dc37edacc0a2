/** Personal access tokens: list, revoke, and create one (its secret is shown once, right after creation). */
import { useState, type SubmitEvent } from "react";

import { asPermissionCodes, createMyToken, revokeMyToken, type AccessToken, type AccessTokenCreated } from "../../api/access";
import { useMyTokens } from "../../api/identityQueries";
import { useInvalidate } from "../../api/queryClient";
import { identityKeys } from "../../api/queryKeys";
import { useMe } from "../../auth/session";
import { buttonClass } from "../../components/Button";
import { Card, Skeleton } from "../../components/Card";
import { ConfirmDialog, Dialog } from "../../components/Dialog";
import { Alert, Field, inputClass, TextField } from "../../components/Form";
import { KeyIcon, PlusIcon } from "../../components/icons";
import { useConfirm, useTask } from "../../lib/useAction";
import { CopyField, CredentialRow, ScopePicker, When } from "./credentialParts";

const EXPIRY_CHOICES = [
  { value: "30", label: "30 days" },
  { value: "90", label: "90 days" },
  { value: "365", label: "1 year" },
  { value: "never", label: "Never" },
] as const;

function TokenRow({ token, onRevoke }: { token: AccessToken; onRevoke: (token: AccessToken) => void }) {
  return (
    <CredentialRow
      icon={KeyIcon}
      name={token.name}
      prefix={token.prefix}
      scopes={token.scopes}
      kind="token"
      onRevoke={() => {
        onRevoke(token);
      }}
    >
      Expires <When value={token.expires_at} empty="never" />
      <span aria-hidden="true"> · </span>
      Last used <When value={token.last_used_at} empty="never" />
    </CredentialRow>
  );
}

function NewTokenForm({ onCreated, onCancel }: { onCreated: (token: AccessTokenCreated) => void; onCancel: () => void }) {
  const me = useMe();
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<string[]>([]);
  const [expiry, setExpiry] = useState("90");
  const { run, busy, error } = useTask();

  const submit = async (event: SubmitEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    await run(async () => {
      onCreated(await createMyToken({ name: name.trim(), scopes: asPermissionCodes(scopes), expires_in_days: expiry === "never" ? null : Number(expiry) }));
    });
  };

  const errorsOf = (field: string): string[] => error?.fieldMessages(field) ?? [];
  const placed = ["name", "scopes", "expires_in_days"].some((field) => errorsOf(field).length > 0);

  return (
    <form
      className="space-y-4"
      onSubmit={(event) => {
        void submit(event);
      }}
    >
      {error !== null && !placed && <Alert tone="danger">{error.message}</Alert>}
      <TextField
        label="Name" hint="What the token is for, e.g. “backup script”." errors={errorsOf("name")}
        name="token-name"
        autoComplete="off"
        required
        autoFocus
        value={name}
        onChange={setName}
      />
      <ScopePicker
        legend="Scopes"
        hint="The token can do only what you pick here, and never more than you can."
        codes={me.permissions}
        selected={scopes}
        onChange={setScopes}
        errors={errorsOf("scopes")}
      />
      <Field label="Expires after" errors={errorsOf("expires_in_days")}>
        {(control) => (
          <select
            {...control}
            className={inputClass}
            value={expiry}
            onChange={(event) => {
              setExpiry(event.target.value);
            }}
          >
            {EXPIRY_CHOICES.map((choice) => (
              <option key={choice.value} value={choice.value}>
                {choice.label}
              </option>
            ))}
          </select>
        )}
      </Field>
      <div className="flex justify-end gap-3 pt-2">
        <button type="button" className={buttonClass.secondary} onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className={buttonClass.primary} disabled={busy}>
          {busy ? "Creating…" : "Create token"}
        </button>
      </div>
    </form>
  );
}

/** The secret, once: a read-only field to copy from. */
function CreatedToken({ created, onDone }: { created: AccessTokenCreated; onDone: () => void }) {
  return (
    <div className="space-y-4">
      <Alert tone="info">
        Copy this token now. <strong className="font-semibold">You will not see it again</strong>: Nubes keeps only a hash of it.
      </Alert>
      <CopyField label="Your new token" value={created.token} testId="new-token-value" secret />
      <div className="flex justify-end pt-2">
        <button type="button" className={buttonClass.primary} onClick={onDone}>
          Done
        </button>
      </div>
    </div>
  );
}

export function TokensCard() {
  const { data: tokens, error, isFetching: loading } = useMyTokens();
  const invalidate = useInvalidate();
  const reload = (): void => void invalidate(identityKeys.tokens);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<AccessTokenCreated | null>(null);
  const revoke = useConfirm((token: AccessToken) => revokeMyToken(token.id), reload);

  const closeDialog = (): void => {
    setCreating(false);
    setCreated(null);
  };

  return (
    <Card
      title={`Access tokens${tokens ? ` (${tokens.length})` : ""}`}
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
          New token
        </button>
      }
    >
      <p className="text-sm text-slate-600 dark:text-slate-400">Tokens let scripts and tools call the Nubes API as you, limited to the scopes you give them.</p>
      {error !== null && (
        <div className="mt-4">
          <Alert tone="danger">{error.message}</Alert>
        </div>
      )}
      {tokens === undefined && loading && (
        <div className="mt-4 space-y-3" aria-busy="true">
          <Skeleton className="h-12 w-full" />
        </div>
      )}
      {tokens?.length === 0 && <p className="mt-4 text-sm text-slate-500 dark:text-slate-400">You have no access tokens.</p>}
      {tokens !== undefined && tokens.length > 0 && (
        <ul className="mt-2 divide-y divide-slate-100 dark:divide-slate-800" aria-label="Access tokens">
          {tokens.map((token) => (
            <TokenRow
              key={token.id}
              token={token}
              onRevoke={revoke.ask}
            />
          ))}
        </ul>
      )}
      <Dialog
        open={creating}
        title={created === null ? "New access token" : "Token created"}
        description={created === null ? "Name it, pick what it may do and when it stops working." : undefined}
        onClose={closeDialog}
      >
        {created === null ? (
          <NewTokenForm
            onCreated={(token) => {
              setCreated(token);
              reload();
            }}
            onCancel={closeDialog}
          />
        ) : (
          <CreatedToken created={created} onDone={closeDialog} />
        )}
      </Dialog>
      <ConfirmDialog title={`Revoke ${revoke.target?.name ?? ""}?`} confirmLabel="Revoke" {...revoke.dialog}>
        <p>Anything using this token stops working at once. This cannot be undone.</p>
      </ConfirmDialog>
    </Card>
  );
}

/** Personal access tokens: list, revoke, and create one (its secret is shown once, right after creation). */
import { useRef, useState, type SubmitEvent } from "react";

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
import { describeTimestamp } from "../../lib/format";
import { useConfirm, useTask } from "../../lib/useAction";

const EXPIRY_CHOICES = [
  { value: "30", label: "30 days" },
  { value: "90", label: "90 days" },
  { value: "365", label: "1 year" },
  { value: "never", label: "Never" },
] as const;

const chipClass = "rounded-md bg-slate-100 px-1.5 py-0.5 font-mono text-xs text-slate-700 dark:bg-slate-800 dark:text-slate-300";

function When({ value, empty }: { value: string | null; empty: string }) {
  const { text, title } = describeTimestamp(value);
  return value === null ? <span>{empty}</span> : <span title={title}>{text}</span>;
}

function TokenRow({ token, onRevoke }: { token: AccessToken; onRevoke: (token: AccessToken) => void }) {
  return (
    <li data-testid="token-row" data-name={token.name} className="flex items-start gap-4 py-3.5">
      <span className="inline-flex size-10 shrink-0 items-center justify-center rounded-lg bg-slate-100 text-slate-500 dark:bg-slate-800 dark:text-slate-400">
        <KeyIcon className="size-5" />
      </span>
      <div className="min-w-0 flex-1">
        <p className="flex flex-wrap items-center gap-2 text-sm font-medium text-slate-900 dark:text-white">
          <span>{token.name}</span>
          <code className="font-mono text-xs font-normal text-slate-500 dark:text-slate-400" data-testid="token-prefix">
            {token.prefix}…
          </code>
        </p>
        <ul className="mt-1.5 flex flex-wrap gap-1" aria-label={`Scopes of ${token.name}`}>
          {token.scopes.length === 0 && <li className="text-xs text-slate-400 dark:text-slate-500">No scopes</li>}
          {token.scopes.map((scope) => (
            <li key={scope} className={chipClass}>
              {scope}
            </li>
          ))}
        </ul>
        <p className="mt-1.5 text-xs text-slate-500 dark:text-slate-400">
          Expires <When value={token.expires_at} empty="never" />
          <span aria-hidden="true"> · </span>
          Last used <When value={token.last_used_at} empty="never" />
        </p>
      </div>
      <button
        type="button"
        aria-label={`Revoke ${token.name}`}
        className={buttonClass.smallDanger}
        onClick={() => {
          onRevoke(token);
        }}
      >
        Revoke
      </button>
    </li>
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
      <fieldset>
        <legend className="mb-1.5 text-sm font-medium text-slate-800 dark:text-slate-200">Scopes</legend>
        <p className="mb-2 text-xs text-slate-500 dark:text-slate-400">The token can do only what you pick here, and never more than you can.</p>
        <div className="grid max-h-56 gap-1.5 overflow-y-auto sm:grid-cols-2">
          {me.permissions.map((code) => (
            <label key={code} className="flex cursor-pointer items-center gap-2 rounded-md px-2 py-1 hover:bg-slate-50 dark:hover:bg-slate-800/60">
              <input
                type="checkbox"
                className="size-4 shrink-0 accent-sky-600"
                checked={scopes.includes(code)}
                onChange={(event) => {
                  const { checked } = event.target;
                  setScopes((current) => (checked ? [...current, code] : current.filter((scope) => scope !== code)));
                }}
              />
              <span className="font-mono text-xs text-slate-800 dark:text-slate-200">{code}</span>
            </label>
          ))}
        </div>
        {errorsOf("scopes").length > 0 && <p className="mt-1.5 text-xs font-medium text-rose-700 dark:text-rose-300">{errorsOf("scopes").join(" ")}</p>}
      </fieldset>
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
  const field = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<"yes" | "no" | null>(null);
  const copy = (): void => {
    field.current?.select();
    navigator.clipboard.writeText(created.token).then(
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
      <Alert tone="info">
        Copy this token now. <strong className="font-semibold">You will not see it again</strong>: Nubes keeps only a hash of it.
      </Alert>
      <Field label="Your new token" hint={copied === "yes" ? "Copied to the clipboard." : copied === "no" ? "Could not copy: select the text and copy it yourself." : undefined}>
        {(control) => (
          <div className="flex gap-2">
            <input
              {...control}
              ref={field}
              readOnly
              data-testid="new-token-value"
              className={`${inputClass} font-mono`}
              value={created.token}
              onFocus={(event) => {
                event.target.select();
              }}
            />
            <button type="button" className={buttonClass.secondary} onClick={copy}>
              Copy
            </button>
          </div>
        )}
      </Field>
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

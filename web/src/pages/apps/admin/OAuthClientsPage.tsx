/**
 * /admin/oauth-clients (apps.manage): the apps that sign this organization's people in with Nubes (OAuth2 / OpenID
 * Connect). Register one (its secret is shown once, with copy), edit its redirect URIs and scopes, rotate the secret,
 * delete it; the discovery URL to paste into an app is on top.
 */
import { useState } from "react";

import {
  createOAuthClient,
  deleteOAuthClient,
  discoveryUrl,
  oauthKeys,
  rotateOAuthClientSecret,
  updateOAuthClient,
  useOAuthClients,
  type OAuthClient,
  type OAuthClientCreated,
} from "../../../api/oauth";
import { useInvalidate } from "../../../api/queryClient";
import { AddButton } from "../../../components/AddButton";
import { Badge } from "../../../components/Badge";
import { buttonClass } from "../../../components/Button";
import { DataTable, tdClass } from "../../../components/DataTable";
import { ConfirmDialog, Dialog } from "../../../components/Dialog";
import { Alert, Field, inputClass, PageMessages, TextField } from "../../../components/Form";
import { FormDialog } from "../../../components/FormDialog";
import { PageHeader } from "../../../components/PageHeader";
import { useDocumentTitle } from "../../../hooks/useDocumentTitle";
import { useConfirm, useTask } from "../../../lib/useAction";
import { CopyField } from "../../account/credentialParts";

type GrantType = "authorization_code" | "refresh_token" | "client_credentials";

interface Draft {
  name: string;
  confidential: boolean;
  redirect_uris: string;
  post_logout_redirect_uris: string;
  scopes: string;
  grant_types: GrantType[];
  first_party: boolean;
}

const EMPTY: Draft = {
  name: "",
  confidential: true,
  redirect_uris: "",
  post_logout_redirect_uris: "",
  scopes: "openid profile email",
  grant_types: ["authorization_code", "refresh_token"],
  first_party: false,
};

const GRANTS: { value: GrantType; label: string }[] = [
  { value: "authorization_code", label: "Sign users in (authorization code + PKCE)" },
  { value: "refresh_token", label: "Refresh tokens (stay signed in)" },
  { value: "client_credentials", label: "Client credentials (the app as itself; confidential only)" },
];

const lines = (text: string): string[] =>
  text
    .split(/\s+/)
    .map((line) => line.trim())
    .filter(Boolean);

function draftOf(client: OAuthClient): Draft {
  return {
    name: client.name,
    confidential: client.confidential,
    redirect_uris: client.redirect_uris.join("\n"),
    post_logout_redirect_uris: client.post_logout_redirect_uris.join("\n"),
    scopes: client.scopes.join(" "),
    grant_types: client.grant_types.filter((grant): grant is GrantType => GRANTS.some((known) => known.value === grant)),
    first_party: client.first_party,
  };
}

function ClientDialog({ editing, onSaved, onClose }: { editing: OAuthClient | null; onSaved: (saved: OAuthClient | OAuthClientCreated) => void; onClose: () => void }) {
  const [draft, setDraft] = useState<Draft>(editing === null ? EMPTY : draftOf(editing));
  const save = useTask();
  const change = (patch: Partial<Draft>): void => {
    setDraft((current) => ({ ...current, ...patch }));
  };
  const errorsOf = (field: string): string[] => save.error?.fieldMessages(field) ?? [];

  const submit = (): void => {
    void save.run(async () => {
      const body = {
        name: draft.name.trim(),
        redirect_uris: lines(draft.redirect_uris),
        post_logout_redirect_uris: lines(draft.post_logout_redirect_uris),
        scopes: lines(draft.scopes),
        grant_types: draft.grant_types,
        first_party: draft.first_party,
      };
      onSaved(editing === null ? await createOAuthClient({ ...body, confidential: draft.confidential }) : await updateOAuthClient(editing.id, body));
    });
  };

  return (
    <FormDialog
      title={editing === null ? "New OAuth client" : `Edit ${editing.name}`}
      description="Redirect URIs are matched exactly: https://, or http:// on localhost and 127.0.0.1 only."
      label={editing === null ? "New OAuth client" : "Edit OAuth client"}
      busy={save.busy}
      error={save.error}
      placedFields={["name", "redirect_uris", "post_logout_redirect_uris", "scopes"]}
      submitLabel={editing === null ? "Register client" : "Save"}
      onSubmit={submit}
      onClose={onClose}
    >
      <TextField label="Name" hint="Shown to people on the consent screen." name="client-name" required value={draft.name} errors={errorsOf("name")} onChange={(name) => { change({ name }); }} />
      {editing === null && (
        <Field label="Kind">
          {(control) => (
            <select
              {...control}
              className={inputClass}
              value={draft.confidential ? "confidential" : "public"}
              onChange={(event) => {
                change({ confidential: event.target.value === "confidential" });
              }}
            >
              <option value="confidential">Confidential: a server-side app that keeps a secret</option>
              <option value="public">Public: a browser or mobile app (no secret, PKCE required)</option>
            </select>
          )}
        </Field>
      )}
      <Field label="Redirect URIs" hint="One per line." errors={errorsOf("redirect_uris")}>
        {(control) => (
          <textarea {...control} name="client-redirect-uris" rows={3} className={`${inputClass} font-mono text-xs`} value={draft.redirect_uris} onChange={(event) => { change({ redirect_uris: event.target.value }); }} />
        )}
      </Field>
      <Field label="After sign-out, back to" hint="Post-logout redirect URIs, one per line." optional errors={errorsOf("post_logout_redirect_uris")}>
        {(control) => (
          <textarea {...control} rows={2} className={`${inputClass} font-mono text-xs`} value={draft.post_logout_redirect_uris} onChange={(event) => { change({ post_logout_redirect_uris: event.target.value }); }} />
        )}
      </Field>
      <TextField
        label="Scopes it may ask for"
        hint="Space-separated: openid profile email offline_access, files:read files:write…, data:write:<collection>."
        name="client-scopes"
        className={`${inputClass} font-mono text-xs`}
        value={draft.scopes}
        errors={errorsOf("scopes")}
        onChange={(scopes) => {
          change({ scopes });
        }}
      />
      <fieldset className="space-y-2">
        <legend className="mb-1 text-sm font-medium text-slate-800 dark:text-slate-200">Grants</legend>
        {GRANTS.map((grant) => (
          <label key={grant.value} className="flex items-center gap-2 text-sm text-slate-700 dark:text-slate-300">
            <input
              type="checkbox"
              className="size-4 accent-sky-600"
              checked={draft.grant_types.includes(grant.value)}
              onChange={(event) => {
                change({ grant_types: event.target.checked ? [...draft.grant_types, grant.value] : draft.grant_types.filter((kept) => kept !== grant.value) });
              }}
            />
            {grant.label}
          </label>
        ))}
      </fieldset>
      <label className="flex items-start gap-2 text-sm text-slate-700 dark:text-slate-300">
        <input type="checkbox" className="mt-0.5 size-4 accent-sky-600" checked={draft.first_party} onChange={(event) => { change({ first_party: event.target.checked }); }} />
        <span>
          First-party app <span className="block text-xs text-slate-500 dark:text-slate-400">Trusted by this organization: people are not asked for consent.</span>
        </span>
      </label>
    </FormDialog>
  );
}

/** A client's credentials right after it was made (or its secret rotated): the secret is shown this once. */
function SecretDialog({ created, onClose }: { created: OAuthClientCreated | null; onClose: () => void }) {
  return (
    <Dialog open={created !== null} title={`Credentials of ${created?.name ?? ""}`} onClose={onClose}>
      {created !== null && (
        <div className="space-y-4">
          <Alert tone="info">
            Paste these into the app now. {created.client_secret !== null && created.client_secret !== undefined && <strong className="font-semibold">You will not see the secret again.</strong>}
          </Alert>
          <CopyField label="Discovery URL" value={discoveryUrl()} testId="oauth-discovery-url" />
          <CopyField label="Client ID" value={created.client_id} testId="oauth-client-id" />
          {created.client_secret !== null && created.client_secret !== undefined && <CopyField label="Client secret" value={created.client_secret} testId="oauth-client-secret" secret />}
          <div className="flex justify-end">
            <button type="button" className={buttonClass.primary} onClick={onClose}>
              Done
            </button>
          </div>
        </div>
      )}
    </Dialog>
  );
}

export function OAuthClientsPage() {
  useDocumentTitle("OAuth clients");
  const { data: clients, error, isFetching: loading } = useOAuthClients();
  const invalidate = useInvalidate();
  const reload = (): void => void invalidate(oauthKeys.clients);
  const [editing, setEditing] = useState<OAuthClient | "new" | null>(null);
  const [created, setCreated] = useState<OAuthClientCreated | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const remove = useConfirm(deleteOAuthClient, (_done, client) => {
    setNotice(`${client.name} was deleted; every token it held stopped working.`);
    reload();
  });
  const rotate = useConfirm(rotateOAuthClientSecret, (rotated) => {
    setCreated(rotated);
    reload();
  });

  return (
    <>
      <PageHeader
        title="OAuth clients"
        description="Apps that sign people in with Nubes (OpenID Connect) or act for them with the scopes they allow."
        actions={
          <AddButton
            label="New client"
            onClick={() => {
              setNotice(null);
              setEditing("new");
            }}
          />
        }
      />
      <div className="mb-4 max-w-2xl">
        <CopyField label="Discovery URL (paste it into the app's OpenID Connect settings)" value={discoveryUrl()} testId="oauth-discovery" />
      </div>
      <PageMessages notice={notice} error={error?.message ?? null} />
      <DataTable
        columns={["Client", "Kind", "Redirect URIs", { header: "Actions", srOnly: true }]}
        rows={clients}
        loading={loading}
        empty="No OAuth clients yet. Register one to let an app sign people in with Nubes."
        renderRow={(client) => (
          <tr key={client.id} data-testid="oauth-client-row" className="hover:bg-slate-50/80 dark:hover:bg-slate-800/40">
            <td className={tdClass}>
              <p className="font-medium text-slate-900 dark:text-white">{client.name}</p>
              <p className="font-mono text-xs text-slate-500 dark:text-slate-400">{client.client_id}</p>
              <p className="mt-0.5 max-w-sm truncate text-xs text-slate-500 dark:text-slate-400" title={client.scopes.join(" ")}>
                Scopes: <span className="font-mono">{client.scopes.join(" ")}</span>
              </p>
            </td>
            <td className={`${tdClass} space-x-1`}>
              {client.confidential ? <Badge>Confidential</Badge> : <Badge tone="brand">Public</Badge>}
              {client.first_party && <Badge tone="success">First-party</Badge>}
            </td>
            <td className={`${tdClass} font-mono text-xs text-slate-600 dark:text-slate-300`}>
              {client.redirect_uris.map((uri) => (
                <p key={uri} className="max-w-xs truncate" title={uri}>
                  {uri}
                </p>
              ))}
            </td>
            <td className={`${tdClass} text-right whitespace-nowrap`}>
              <span className="inline-flex gap-2">
                <button type="button" aria-label={`Edit ${client.name}`} className={buttonClass.small} onClick={() => { setNotice(null); setEditing(client); }}>
                  Edit
                </button>
                {client.confidential && (
                  <button type="button" aria-label={`Rotate the secret of ${client.name}`} className={buttonClass.small} onClick={() => { rotate.ask(client.id); }}>
                    Rotate secret
                  </button>
                )}
                <button type="button" aria-label={`Delete ${client.name}`} className={buttonClass.smallDanger} onClick={() => { remove.ask(client); }}>
                  Delete
                </button>
              </span>
            </td>
          </tr>
        )}
      />
      {editing !== null && (
        <ClientDialog
          key={editing === "new" ? "new" : editing.id}
          editing={editing === "new" ? null : editing}
          onSaved={(saved) => {
            setEditing(null);
            if ("client_secret" in saved && editing === "new") setCreated(saved);
            else setNotice(`${saved.name} is saved.`);
            reload();
          }}
          onClose={() => {
            setEditing(null);
          }}
        />
      )}
      <SecretDialog
        created={created}
        onClose={() => {
          setCreated(null);
        }}
      />
      <ConfirmDialog title="Rotate the secret?" confirmLabel="Rotate" {...rotate.dialog}>
        <p>The current secret stops working at once; the app needs the new one before it can sign anyone in again.</p>
      </ConfirmDialog>
      <ConfirmDialog title={`Delete ${remove.target?.name ?? ""}?`} confirmLabel="Delete" {...remove.dialog}>
        <p>Everyone signed in to this app through Nubes is signed out of it, and every token it holds stops working.</p>
      </ConfirmDialog>
    </>
  );
}

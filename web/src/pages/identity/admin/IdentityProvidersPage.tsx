/** /admin/sign-in-providers (super-admins): external identity providers people sign in with — OpenID Connect or a partner's tickets; add, edit, test discovery, delete. */
import { useState } from "react";

import {
  createIdentityProvider,
  deleteIdentityProvider,
  federationKeys,
  testDiscovery,
  updateIdentityProvider,
  useIdentityProviders,
  type Discovery,
  type IdentityProvider,
  type IdentityProviderCreate,
  type IdentityProviderUpdate,
} from "../../../api/federation";
import { BUILTIN_ROLES } from "../../../api/identity";
import { useTenants } from "../../../api/identityQueries";
import { useInvalidate } from "../../../api/queryClient";
import { AddButton } from "../../../components/AddButton";
import { Badge } from "../../../components/Badge";
import { buttonClass } from "../../../components/Button";
import { DataTable, tdClass } from "../../../components/DataTable";
import { ConfirmDialog } from "../../../components/Dialog";
import { Alert, Field, inputClass, PageMessages, TextField } from "../../../components/Form";
import { FormDialog } from "../../../components/FormDialog";
import { PageHeader } from "../../../components/PageHeader";
import { useDocumentTitle } from "../../../hooks/useDocumentTitle";
import { useConfirm, useTask } from "../../../lib/useAction";

type Draft = Required<Omit<IdentityProviderCreate, "allowed_tenant_ids">> & { allowed_tenant_ids: string[] };

const EMPTY: Draft = {
  slug: "",
  name: "",
  kind: "oidc",
  issuer: "",
  ticket_url: "",
  client_id: "",
  client_secret: "",
  scopes: "openid profile email",
  username_claim: "preferred_username",
  email_claim: "email",
  name_claim: "name",
  groups_claim: "groups",
  tenant_claim: "",
  allowed_tenant_ids: [],
  jit_provisioning: false,
  jit_role: "member",
  group_sync: false,
  enabled: true,
  button_label: "",
};

function draftOf(provider: IdentityProvider): Draft {
  const draft: Draft = { ...EMPTY };
  for (const key of Object.keys(EMPTY) as (keyof Draft)[]) {
    if (key in provider) Object.assign(draft, { [key]: provider[key as keyof IdentityProvider] });
  }
  return { ...draft, kind: provider.kind === "ticket" ? "ticket" : "oidc", client_secret: "" };
}

function Toggle({ label, description, checked, onChange }: { label: string; description: string; checked: boolean; onChange: (checked: boolean) => void }) {
  return (
    <label className="flex cursor-pointer items-start gap-3">
      <input
        type="checkbox"
        role="switch"
        className="mt-0.5 size-4 shrink-0 accent-sky-600"
        checked={checked}
        onChange={(event) => {
          onChange(event.target.checked);
        }}
      />
      <span>
        <span className="block text-sm font-medium text-slate-900 dark:text-white">{label}</span>
        <span className="block text-xs text-slate-500 dark:text-slate-400">{description}</span>
      </span>
    </label>
  );
}

/** "Test discovery": the endpoints the issuer publishes, or why they could not be read. */
function DiscoveryResult({ found }: { found: Discovery }) {
  if (!found.ok) return <Alert tone="danger">Discovery failed: {found.error}</Alert>;
  return (
    <div data-testid="discovery-result" className="rounded-lg border border-emerald-200 bg-emerald-50 p-3 text-xs text-emerald-900 dark:border-emerald-900 dark:bg-emerald-950/40 dark:text-emerald-200">
      <p className="mb-1 font-medium">Discovery works. The provider publishes:</p>
      <dl className="grid grid-cols-[auto_1fr] gap-x-3 gap-y-0.5 font-mono break-all">
        <dt>authorize</dt>
        <dd>{found.authorization_endpoint}</dd>
        <dt>token</dt>
        <dd>{found.token_endpoint}</dd>
        <dt>userinfo</dt>
        <dd>{found.userinfo_endpoint || "—"}</dd>
        <dt>jwks</dt>
        <dd>{found.jwks_uri}</dd>
      </dl>
    </div>
  );
}

function ProviderDialog({ editing, onSaved, onClose }: { editing: IdentityProvider | null; onSaved: (provider: IdentityProvider) => void; onClose: () => void }) {
  const [draft, setDraft] = useState<Draft>(editing === null ? EMPTY : draftOf(editing));
  const [found, setFound] = useState<Discovery | null>(null);
  const { data: tenants } = useTenants();
  const save = useTask();
  const probe = useTask();
  const change = (patch: Partial<Draft>): void => {
    setDraft((current) => ({ ...current, ...patch }));
  };
  const errorsOf = (field: string): string[] => save.error?.fieldMessages(field) ?? [];

  const submit = (): void => {
    void save.run(async () => {
      const changes: IdentityProviderUpdate = { ...draft };
      // The slug and kind are fixed once made; an empty secret field keeps the stored secret.
      delete (changes as Partial<Draft>).slug;
      delete (changes as Partial<Draft>).kind;
      if (draft.client_secret === "") delete changes.client_secret;
      const saved = editing === null ? await createIdentityProvider(draft) : await updateIdentityProvider(editing.id, changes);
      onSaved(saved);
    });
  };

  const oidc = draft.kind === "oidc";
  return (
    <FormDialog
      title={editing === null ? "New sign-in provider" : `Edit ${editing.name}`}
      description={
        editing === null
          ? "Register Nubes at the provider first; its redirect URI is shown in the list once this is saved."
          : `Redirect URI to register at the provider: ${editing.redirect_uri}`
      }
      label={editing === null ? "New sign-in provider" : "Edit sign-in provider"}
      busy={save.busy}
      error={save.error}
      placedFields={["name", "slug", "issuer", "ticket_url", "client_id"]}
      submitLabel={editing === null ? "Add provider" : "Save"}
      onSubmit={submit}
      onClose={onClose}
    >
      <div className="grid gap-4 sm:grid-cols-2">
        <TextField label="Name" name="provider-name" required value={draft.name} errors={errorsOf("name")} onChange={(name) => { change({ name }); }} />
        <TextField
          label="Slug"
          name="provider-slug"
          className={`${inputClass} font-mono`}
          required
          disabled={editing !== null}
          value={draft.slug}
          errors={errorsOf("slug")}
          onChange={(slug) => {
            change({ slug });
          }}
        />
      </div>
      <Field label="Kind">
        {(control) => (
          <select
            {...control}
            className={inputClass}
            disabled={editing !== null}
            value={draft.kind}
            onChange={(event) => {
              change({ kind: event.target.value === "ticket" ? "ticket" : "oidc" });
            }}
          >
            <option value="oidc">OpenID Connect</option>
            <option value="ticket">Partner app ticket (InventoryPro style)</option>
          </select>
        )}
      </Field>
      {oidc ? (
        <div className="space-y-2">
          <TextField
            label="Issuer URL"
            name="provider-issuer"
            hint="Nubes reads <issuer>/.well-known/openid-configuration."
            placeholder="https://id.example.com/realms/main"
            value={draft.issuer}
            errors={errorsOf("issuer")}
            onChange={(issuer) => {
              change({ issuer });
              setFound(null);
            }}
          />
          <button
            type="button"
            className={buttonClass.small}
            disabled={probe.busy || draft.issuer === ""}
            onClick={() => {
              void probe.run(async () => {
                setFound(await testDiscovery(draft.issuer));
              });
            }}
          >
            {probe.busy ? "Testing…" : "Test discovery"}
          </button>
          {probe.error !== null && <Alert tone="danger">{probe.error.message}</Alert>}
          {found !== null && <DiscoveryResult found={found} />}
        </div>
      ) : (
        <TextField
          label="Ticket exchange URL"
          name="provider-ticket-url"
          hint="Nubes posts {ticket} here with the client id and secret (HTTP Basic) and expects the person's claims back."
          value={draft.ticket_url}
          errors={errorsOf("ticket_url")}
          onChange={(ticket_url) => {
            change({ ticket_url });
          }}
        />
      )}
      <div className="grid gap-4 sm:grid-cols-2">
        <TextField label="Client ID" name="provider-client-id" required value={draft.client_id} errors={errorsOf("client_id")} onChange={(client_id) => { change({ client_id }); }} />
        <TextField
          label="Client secret"
          name="provider-client-secret"
          type="password"
          autoComplete="new-password"
          placeholder={editing?.has_client_secret ? "•••••••• (kept)" : ""}
          hint={editing?.has_client_secret ? "Stored encrypted, never shown. Type a new one to replace it." : "Stored encrypted, never shown again."}
          value={draft.client_secret}
          onChange={(client_secret) => {
            change({ client_secret });
          }}
        />
      </div>
      {oidc && <TextField label="Scopes" name="provider-scopes" value={draft.scopes} onChange={(scopes) => { change({ scopes }); }} />}
      <fieldset className="space-y-2">
        <legend className="mb-1 text-sm font-medium text-slate-800 dark:text-slate-200">Claim mapping</legend>
        <div className="grid gap-3 sm:grid-cols-2">
          <TextField label="Username claim" className={`${inputClass} font-mono`} value={draft.username_claim} onChange={(username_claim) => { change({ username_claim }); }} />
          <TextField label="Email claim" className={`${inputClass} font-mono`} value={draft.email_claim} onChange={(email_claim) => { change({ email_claim }); }} />
          <TextField label="Name claim" className={`${inputClass} font-mono`} value={draft.name_claim} onChange={(name_claim) => { change({ name_claim }); }} />
          <TextField label="Groups claim" className={`${inputClass} font-mono`} value={draft.groups_claim} onChange={(groups_claim) => { change({ groups_claim }); }} />
          <TextField
            label="Tenant claim"
            optional
            hint="Names the tenant (slug) when several are allowed."
            className={`${inputClass} font-mono`}
            value={draft.tenant_claim}
            onChange={(tenant_claim) => {
              change({ tenant_claim });
            }}
          />
        </div>
      </fieldset>
      <fieldset>
        <legend className="mb-1 text-sm font-medium text-slate-800 dark:text-slate-200">Allowed tenants</legend>
        <p className="mb-2 text-xs text-slate-500 dark:text-slate-400">Only users of these tenants sign in through this provider.</p>
        <div className="grid max-h-36 gap-1.5 overflow-y-auto sm:grid-cols-2" data-testid="allowed-tenants">
          {tenants?.map((tenant) => (
            <label key={tenant.id} className="flex items-center gap-2 text-sm">
              <input
                type="checkbox"
                className="size-4 accent-sky-600"
                checked={draft.allowed_tenant_ids.includes(tenant.id)}
                onChange={(event) => {
                  change({
                    allowed_tenant_ids: event.target.checked
                      ? [...draft.allowed_tenant_ids, tenant.id]
                      : draft.allowed_tenant_ids.filter((id) => id !== tenant.id),
                  });
                }}
              />
              {tenant.name} <span className="font-mono text-xs text-slate-500">{tenant.slug}</span>
            </label>
          ))}
        </div>
      </fieldset>
      <div className="space-y-3">
        <Toggle
          label="Create accounts on first sign-in"
          description="Someone the provider vouches for and who has no linked account gets one (never matched by email)."
          checked={draft.jit_provisioning}
          onChange={(jit_provisioning) => {
            change({ jit_provisioning });
          }}
        />
        {draft.jit_provisioning && (
          <Field label="Role of new accounts">
            {(control) => (
              <select {...control} className={inputClass} value={draft.jit_role} onChange={(event) => { change({ jit_role: event.target.value }); }}>
                {BUILTIN_ROLES.map((role) => (
                  <option key={role.name} value={role.name}>
                    {role.name} — {role.description}
                  </option>
                ))}
              </select>
            )}
          </Field>
        )}
        <Toggle
          label="Sync groups from the groups claim"
          description="Puts users in the tenant's existing groups the claim names (and out of those it stops naming). Groups are never created."
          checked={draft.group_sync}
          onChange={(group_sync) => {
            change({ group_sync });
          }}
        />
        <Toggle
          label="Enabled"
          description="Shown on the sign-in page and usable."
          checked={draft.enabled}
          onChange={(enabled) => {
            change({ enabled });
          }}
        />
      </div>
      <TextField
        label="Button label"
        optional
        placeholder={`Sign in with ${draft.name || "…"}`}
        value={draft.button_label}
        onChange={(button_label) => {
          change({ button_label });
        }}
      />
    </FormDialog>
  );
}

export function IdentityProvidersPage() {
  useDocumentTitle("Sign-in providers");
  const { data: providers, error, isFetching: loading } = useIdentityProviders();
  const { data: tenants } = useTenants();
  const invalidate = useInvalidate();
  const reload = (): void => void invalidate(federationKeys.providers);
  const [editing, setEditing] = useState<IdentityProvider | "new" | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const remove = useConfirm(deleteIdentityProvider, (_done, provider) => {
    setNotice(`${provider.name} was removed; its users sign in their other ways.`);
    reload();
  });
  const tenantName = (id: string): string => tenants?.find((tenant) => tenant.id === id)?.slug ?? id.slice(0, 8);

  return (
    <>
      <PageHeader
        title="Sign-in providers"
        description="External identity providers people of the allowed tenants sign in with: OpenID Connect (Keycloak, authentik, another Nubes…) or a partner app's tickets."
        actions={
          <AddButton
            label="New provider"
            onClick={() => {
              setNotice(null);
              setEditing("new");
            }}
          />
        }
      />
      <PageMessages notice={notice} error={error?.message ?? null} />
      <DataTable
        columns={["Provider", "Kind", "Tenants", "Options", "Status", { header: "Actions", srOnly: true }]}
        rows={providers}
        loading={loading}
        empty="No sign-in providers yet. Add one to show its button on the sign-in page."
        renderRow={(provider) => (
          <tr key={provider.id} data-testid="provider-row" data-slug={provider.slug} className="hover:bg-slate-50/80 dark:hover:bg-slate-800/40">
            <td className={tdClass}>
              <p className="font-medium text-slate-900 dark:text-white">{provider.name}</p>
              <p className="font-mono text-xs text-slate-500 dark:text-slate-400" title="Redirect URI to register at the provider">
                {provider.kind === "oidc" ? provider.redirect_uri : provider.ticket_url}
              </p>
            </td>
            <td className={tdClass}>{provider.kind === "oidc" ? "OpenID Connect" : "Partner ticket"}</td>
            <td className={`${tdClass} text-xs text-slate-600 dark:text-slate-300`}>
              {provider.allowed_tenant_ids.length === 0 ? <Badge tone="warning">None</Badge> : provider.allowed_tenant_ids.map(tenantName).join(", ")}
            </td>
            <td className={`${tdClass} space-x-1`}>
              {provider.jit_provisioning && <Badge tone="brand">Creates accounts</Badge>}
              {provider.group_sync && <Badge tone="brand">Group sync</Badge>}
            </td>
            <td className={tdClass}>{provider.enabled ? <Badge tone="success">Enabled</Badge> : <Badge>Off</Badge>}</td>
            <td className={`${tdClass} text-right whitespace-nowrap`}>
              <span className="inline-flex gap-2">
                <button
                  type="button"
                  aria-label={`Edit ${provider.slug}`}
                  className={buttonClass.small}
                  onClick={() => {
                    setNotice(null);
                    setEditing(provider);
                  }}
                >
                  Edit
                </button>
                <button
                  type="button"
                  aria-label={`Delete ${provider.slug}`}
                  className={buttonClass.smallDanger}
                  onClick={() => {
                    remove.ask(provider);
                  }}
                >
                  Delete
                </button>
              </span>
            </td>
          </tr>
        )}
      />
      {editing !== null && (
        <ProviderDialog
          key={editing === "new" ? "new" : editing.id}
          editing={editing === "new" ? null : editing}
          onSaved={(saved) => {
            setEditing(null);
            setNotice(`${saved.name} is saved. Register ${saved.redirect_uri} at the provider as the redirect URI.`);
            reload();
          }}
          onClose={() => {
            setEditing(null);
          }}
        />
      )}
      <ConfirmDialog title={`Delete ${remove.target?.name ?? ""}?`} confirmLabel="Delete" {...remove.dialog}>
        <p>Every account link to this provider goes too. Users who have no password or passkey will not be able to sign in until an admin helps them.</p>
      </ConfirmDialog>
    </>
  );
}

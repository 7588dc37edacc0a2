/** /admin/registration (super-admins): whether people may create their own account, where they land, and whether they confirm their email first. */
import { useQueryClient } from "@tanstack/react-query";
import { useState, type SubmitEvent } from "react";

import { BUILTIN_ROLES } from "../../../api/identity";
import { useRegistrationSettings, useTenants } from "../../../api/identityQueries";
import { identityKeys } from "../../../api/queryKeys";
import { updateRegistrationSettings, type RegistrationSettings } from "../../../api/security";
import { buttonClass } from "../../../components/Button";
import { Alert, Field, inputClass } from "../../../components/Form";
import { PageHeader } from "../../../components/PageHeader";
import { SettingsCard } from "../../../components/SettingsCard";
import { useDocumentTitle } from "../../../hooks/useDocumentTitle";
import { useTask } from "../../../lib/useAction";

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

function RegistrationForm({ saved, onSaved }: { saved: RegistrationSettings; onSaved: (settings: RegistrationSettings) => void }) {
  const { data: tenants } = useTenants();
  const [draft, setDraft] = useState<RegistrationSettings>(saved);
  const { run, busy, error, setError } = useTask();
  const [done, setDone] = useState(false);

  const change = (changes: Partial<RegistrationSettings>): void => {
    setDone(false);
    setDraft((current) => ({ ...current, ...changes }));
  };

  const submit = async (event: SubmitEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    setDone(false);
    await run(async () => {
      onSaved(await updateRegistrationSettings({ ...draft, tenant_slug: draft.tenant_slug.trim(), role: draft.role.trim() }));
      setDone(true);
    });
  };

  const errorsOf = (field: string): string[] => error?.fieldMessages(field) ?? [];
  const placed = ["tenant_slug", "role"].some((field) => errorsOf(field).length > 0);
  const knownTenant = tenants?.some((tenant) => tenant.slug === draft.tenant_slug) ?? true;
  const unchanged = JSON.stringify(draft) === JSON.stringify(saved);

  return (
    <form
      className="space-y-5"
      onSubmit={(event) => {
        void submit(event);
      }}
    >
      {done && <Alert tone="success">Saved. {saved.enabled ? "The sign-in page now offers “Create an account”." : "Only admins create accounts now."}</Alert>}
      {error !== null && !placed && <Alert tone="danger">{error.message}</Alert>}
      <Toggle
        label="Let people create their own account"
        description="The sign-in page offers “Create an account”. Off: only admins create accounts."
        checked={draft.enabled}
        onChange={(enabled) => {
          change({ enabled });
        }}
      />
      <div className="grid gap-4 sm:grid-cols-2">
        <Field
          label="Tenant new accounts join"
          errors={errorsOf("tenant_slug")}
          hint={knownTenant ? undefined : "No tenant has this slug: sign-up will fail until it exists."}
        >
          {(control) =>
            tenants === undefined ? (
              <input
                {...control}
                className={`${inputClass} font-mono`}
                value={draft.tenant_slug}
                required
                onChange={(event) => {
                  change({ tenant_slug: event.target.value });
                }}
              />
            ) : (
              <select
                {...control}
                className={inputClass}
                value={draft.tenant_slug}
                onChange={(event) => {
                  change({ tenant_slug: event.target.value });
                }}
              >
                {!knownTenant && <option value={draft.tenant_slug}>{draft.tenant_slug} (missing)</option>}
                {tenants.map((tenant) => (
                  <option key={tenant.id} value={tenant.slug}>
                    {tenant.name} ({tenant.slug})
                  </option>
                ))}
              </select>
            )
          }
        </Field>
        <Field label="Their role there" hint="A built-in role, or the name of one of that tenant’s own roles." errors={errorsOf("role")}>
          {(control) => (
            <>
              <input
                {...control}
                className={`${inputClass} font-mono`}
                list="registration-roles"
                autoComplete="off"
                required
                value={draft.role}
                onChange={(event) => {
                  change({ role: event.target.value });
                }}
              />
              <datalist id="registration-roles">
                {BUILTIN_ROLES.map((role) => (
                  <option key={role.name} value={role.name}>
                    {role.description}
                  </option>
                ))}
              </datalist>
            </>
          )}
        </Field>
      </div>
      <Toggle
        label="Require a confirmed email address"
        description="New accounts sign in only after opening the link mailed to them. Recommended: it keeps out accounts made with someone else’s address."
        checked={draft.require_email_verification}
        onChange={(require_email_verification) => {
          change({ require_email_verification });
        }}
      />
      <div className="flex justify-end gap-3 border-t border-slate-100 pt-4 dark:border-slate-800">
        <button
          type="button"
          className={buttonClass.secondary}
          disabled={unchanged || busy}
          onClick={() => {
            setDraft(saved);
            setError(null);
          }}
        >
          Reset
        </button>
        <button type="submit" className={buttonClass.primary} disabled={unchanged || busy}>
          {busy ? "Saving…" : "Save"}
        </button>
      </div>
    </form>
  );
}

export function RegistrationPage() {
  useDocumentTitle("Registration");
  const client = useQueryClient();
  return (
    <>
      <PageHeader title="Registration" description="Whether people may sign up on their own on this server, and where their accounts land." />
      <SettingsCard title="Self-registration" settings={useRegistrationSettings()}>
        {(current) => (
          <RegistrationForm
            saved={current}
            onSaved={(saved) => {
              client.setQueryData(identityKeys.registration, saved);
              // The sign-in and sign-up pages show whether registration is open.
              void client.invalidateQueries({ queryKey: identityKeys.authOptions });
            }}
          />
        )}
      </SettingsCard>
    </>
  );
}

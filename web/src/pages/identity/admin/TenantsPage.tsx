/** /admin/tenants (super-admins): every tenant with its status and users; create, suspend or reactivate, delete. */
import { useState, type SubmitEvent } from "react";

import { createTenant, deleteTenant, updateTenant, type Tenant } from "../../../api/access";
import { useTenants } from "../../../api/identityQueries";
import { useInvalidate } from "../../../api/queryClient";
import { identityKeys } from "../../../api/queryKeys";
import { useMe } from "../../../auth/session";
import { AddButton } from "../../../components/AddButton";
import { Badge } from "../../../components/Badge";
import { buttonClass } from "../../../components/Button";
import { DataTable, tdClass } from "../../../components/DataTable";
import { ConfirmDialog, Dialog } from "../../../components/Dialog";
import { Alert, Field, inputClass, PageMessages, TextField } from "../../../components/Form";
import { PageHeader } from "../../../components/PageHeader";
import { useDocumentTitle } from "../../../hooks/useDocumentTitle";
import { describeTimestamp } from "../../../lib/format";
import { useAction, useConfirm, useTask } from "../../../lib/useAction";


/** A slug suggested from the name: lowercase, words joined by dashes. */
function slugify(name: string): string {
  return name
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

function NewTenantForm({ onCreated, onCancel }: { onCreated: (tenant: Tenant) => void; onCancel: () => void }) {
  const [name, setName] = useState("");
  const [slug, setSlug] = useState("");
  const [slugEdited, setSlugEdited] = useState(false);
  const { run, busy, error } = useTask();

  const submit = async (event: SubmitEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    await run(async () => {
      onCreated(await createTenant({ name: name.trim(), slug: slug.trim() }));
    });
  };

  const errorsOf = (field: string): string[] => error?.fieldMessages(field) ?? [];
  const placed = ["name", "slug"].some((field) => errorsOf(field).length > 0);

  return (
    <form
      className="space-y-4"
      onSubmit={(event) => {
        void submit(event);
      }}
    >
      {error !== null && !placed && <Alert tone="danger">{error.message}</Alert>}
      <Field label="Name" errors={errorsOf("name")}>
        {(control) => (
          <input
            {...control}
            className={inputClass}
            name="tenant-name"
            autoComplete="off"
            required
            autoFocus
            value={name}
            onChange={(event) => {
              setName(event.target.value);
              if (!slugEdited) setSlug(slugify(event.target.value));
            }}
          />
        )}
      </Field>
      <Field label="Slug" hint="A short, unique, lowercase id for URLs and sign-in; it cannot change later." errors={errorsOf("slug")}>
        {(control) => (
          <input
            {...control}
            className={`${inputClass} font-mono`}
            name="tenant-slug"
            autoComplete="off"
            autoCapitalize="none"
            spellCheck={false}
            required
            value={slug}
            onChange={(event) => {
              setSlugEdited(true);
              setSlug(event.target.value);
            }}
          />
        )}
      </Field>
      <div className="flex justify-end gap-3 pt-2">
        <button type="button" className={buttonClass.secondary} onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className={buttonClass.primary} disabled={busy}>
          {busy ? "Creating…" : "Create tenant"}
        </button>
      </div>
    </form>
  );
}

/** Deleting a tenant takes all its data: the super-admin types its slug to confirm. */
function DeleteTenantForm({ tenant, onDeleted, onCancel }: { tenant: Tenant; onDeleted: () => void; onCancel: () => void }) {
  const [typed, setTyped] = useState("");
  const { run, busy, error } = useAction(deleteTenant, onDeleted);

  const submit = async (event: SubmitEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    await run(tenant.id, typed.trim());
  };

  return (
    <form
      className="space-y-4"
      onSubmit={(event) => {
        void submit(event);
      }}
    >
      <p className="text-sm text-slate-600 dark:text-slate-300">
        Every user, file and record of <strong className="font-medium text-slate-900 dark:text-white">{tenant.name}</strong> is deleted for good.
      </p>
      {error !== null && <Alert tone="danger">{error.message}</Alert>}
      <TextField
        label={`Type ${tenant.slug} to confirm`}
        className={`${inputClass} font-mono`}
        autoComplete="off"
        autoCapitalize="none"
        spellCheck={false}
        autoFocus
        value={typed}
        onChange={setTyped}
      />
      <div className="flex justify-end gap-3 pt-2">
        <button type="button" className={buttonClass.secondary} onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className={buttonClass.danger} disabled={busy || typed.trim() !== tenant.slug}>
          {busy ? "Deleting…" : "Delete tenant"}
        </button>
      </div>
    </form>
  );
}

export function TenantsPage() {
  useDocumentTitle("Tenants");
  const me = useMe();
  const { data: tenants, error, isFetching: loading } = useTenants();
  const invalidate = useInvalidate();
  const reload = (): void => void invalidate(identityKeys.tenants);
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<Tenant | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  /** What PATCH answered, by tenant id: shown over the list, so a list read racing the change cannot show the old status. */
  const [updated, setUpdated] = useState<Record<string, Tenant>>({});
  const toggle = useConfirm(
    (tenant: Tenant) => updateTenant(tenant.id, { status: tenant.status === "active" ? "suspended" : "active" }),
    (changed) => {
      setUpdated((current) => ({ ...current, [changed.id]: changed }));
      setNotice(changed.status === "suspended" ? `${changed.name} is suspended.` : `${changed.name} is active again.`);
      reload();
    },
  );
  const toggling = toggle.target;
  const suspending = toggling?.status === "active";

  return (
    <>
      <PageHeader
        title="Tenants"
        description="Every tenant on this Nubes server. Only super-admins see this page."
        actions={
          <AddButton
            label="New tenant"
            onClick={() => {
              setNotice(null);
              setCreating(true);
            }}
          />
        }
      />

      <PageMessages notice={notice} error={error?.message ?? null} />

      <DataTable
        columns={["Tenant", "Status", "Users", "Created", { header: "Actions", srOnly: true }]}
        rows={tenants}
        loading={loading}
        skeletonRows={2}
        renderRow={(listed) => {
          const tenant = updated[listed.id] ?? listed;
          const own = tenant.id === me.tenant.id;
          const created = describeTimestamp(tenant.created_at);
          return (
            <tr key={tenant.id} data-testid="tenant-row" data-slug={tenant.slug} className="hover:bg-slate-50/80 dark:hover:bg-slate-800/40">
              <td className={tdClass}>
                <p className="font-medium text-slate-900 dark:text-white">
                  {tenant.name}
                  {own && <span className="ml-2 text-xs font-normal text-slate-500 dark:text-slate-400">(yours)</span>}
                </p>
                <p className="font-mono text-xs text-slate-500 dark:text-slate-400">{tenant.slug}</p>
              </td>
              <td className={tdClass} data-testid="tenant-status">
                {tenant.status === "active" ? <Badge tone="success">Active</Badge> : <Badge tone="danger">Suspended</Badge>}
              </td>
              <td className={`${tdClass} text-slate-600 tabular-nums dark:text-slate-300`}>{tenant.users}</td>
              <td className={`${tdClass} text-slate-600 dark:text-slate-300`}>
                <span title={created.title}>{created.text}</span>
              </td>
              <td className={`${tdClass} text-right whitespace-nowrap`}>
                {!own && (
                  <span className="inline-flex gap-2">
                    <button
                      type="button"
                      aria-label={`${tenant.status === "active" ? "Suspend" : "Reactivate"} ${tenant.slug}`}
                      className={tenant.status === "active" ? buttonClass.smallDanger : buttonClass.small}
                      onClick={() => {
                        toggle.ask(tenant);
                      }}
                    >
                      {tenant.status === "active" ? "Suspend" : "Reactivate"}
                    </button>
                    <button
                      type="button"
                      aria-label={`Delete ${tenant.slug}`}
                      className={buttonClass.smallDanger}
                      onClick={() => {
                        setDeleting(tenant);
                      }}
                    >
                      Delete
                    </button>
                  </span>
                )}
              </td>
            </tr>
          );
        }}
      />

      <Dialog
        open={creating}
        title="New tenant"
        description="It starts with the built-in roles and no users; add its first owner from the API."
        onClose={() => {
          setCreating(false);
        }}
      >
        <NewTenantForm
          onCreated={(tenant) => {
            setCreating(false);
            setNotice(`The tenant ${tenant.name} (${tenant.slug}) was created.`);
            reload();
          }}
          onCancel={() => {
            setCreating(false);
          }}
        />
      </Dialog>

      <ConfirmDialog
        title={`${suspending ? "Suspend" : "Reactivate"} ${toggling?.name ?? ""}?`}
        confirmLabel={suspending ? "Suspend" : "Reactivate"}
        tone={suspending ? "danger" : "primary"}
        {...toggle.dialog}
      >
        {suspending ? <p>No one in this tenant can sign in or use the API until it is reactivated. Its data stays.</p> : <p>Its users can sign in again.</p>}
      </ConfirmDialog>

      <Dialog
        open={deleting !== null}
        title={`Delete ${deleting?.name ?? ""}?`}
        size="sm"
        onClose={() => {
          setDeleting(null);
        }}
      >
        {deleting !== null && (
          <DeleteTenantForm
            key={deleting.id}
            tenant={deleting}
            onDeleted={() => {
              setNotice(`The tenant ${deleting.name} was deleted.`);
              setDeleting(null);
              reload();
            }}
            onCancel={() => {
              setDeleting(null);
            }}
          />
        )}
      </Dialog>
    </>
  );
}

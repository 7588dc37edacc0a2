/** /admin/roles: the tenant's roles; built-ins are read-only, custom roles can be created, edited and deleted. */
import { useState, type SubmitEvent } from "react";

import { asPermissionCodes, createRole, deleteRole, updateRole, type Permission, type Role } from "../../../api/access";
import { usePermissions, useRoles } from "../../../api/identityQueries";
import { useInvalidate } from "../../../api/queryClient";
import { identityKeys } from "../../../api/queryKeys";
import { AddButton } from "../../../components/AddButton";
import { Badge } from "../../../components/Badge";
import { buttonClass } from "../../../components/Button";
import { DataTable, tdClass } from "../../../components/DataTable";
import { ConfirmDialog, Dialog } from "../../../components/Dialog";
import { Alert, Field, inputClass, PageMessages, TextField } from "../../../components/Form";
import { PageHeader } from "../../../components/PageHeader";
import { useDocumentTitle } from "../../../hooks/useDocumentTitle";
import { useConfirm, useTask } from "../../../lib/useAction";


/** The catalog grouped by the part of the code before the first dot ("admin", "files"…), in catalog order. */
function groupByPrefix(catalog: readonly Permission[]): [string, Permission[]][] {
  const groups = new Map<string, Permission[]>();
  for (const permission of catalog) {
    const prefix = permission.code.split(".")[0] ?? permission.code;
    const group = groups.get(prefix) ?? [];
    group.push(permission);
    groups.set(prefix, group);
  }
  return [...groups.entries()];
}

function PermissionPicker({ catalog, selected, onChange }: { catalog: readonly Permission[]; selected: readonly string[]; onChange: (codes: string[]) => void }) {
  return (
    <div className="max-h-72 space-y-3 overflow-y-auto rounded-lg border border-slate-200 p-3 dark:border-slate-700">
      {groupByPrefix(catalog).map(([prefix, permissions]) => (
        <fieldset key={prefix}>
          <legend className="mb-1 text-xs font-semibold tracking-wide text-slate-500 uppercase dark:text-slate-400">{prefix}</legend>
          <div className="space-y-1">
            {permissions.map((permission) => (
              <label key={permission.code} className="flex cursor-pointer items-start gap-2 rounded-md px-2 py-1 hover:bg-slate-50 dark:hover:bg-slate-800/60">
                <input
                  type="checkbox"
                  aria-label={permission.code}
                  className="mt-0.5 size-4 shrink-0 accent-sky-600"
                  checked={selected.includes(permission.code)}
                  onChange={(event) => {
                    const { checked } = event.target;
                    onChange(checked ? [...selected, permission.code] : selected.filter((code) => code !== permission.code));
                  }}
                />
                <span>
                  <span className="block font-mono text-xs text-slate-800 dark:text-slate-200">{permission.code}</span>
                  <span className="block text-xs text-slate-500 dark:text-slate-400">{permission.description}</span>
                </span>
              </label>
            ))}
          </div>
        </fieldset>
      ))}
    </div>
  );
}

const FIELDS = ["name", "description", "parent", "permissions"] as const;

/** Create a role (`role` null) or edit a custom one; a role's name cannot change once made. */
function RoleForm({
  role,
  roles,
  catalog,
  onSaved,
  onCancel,
}: {
  role: Role | null;
  roles: readonly Role[];
  catalog: readonly Permission[];
  onSaved: (role: Role) => void;
  onCancel: () => void;
}) {
  const [name, setName] = useState(role?.name ?? "");
  const [description, setDescription] = useState(role?.description ?? "");
  const [parent, setParent] = useState(roles.find((candidate) => candidate.id === role?.parent_id)?.name ?? "");
  const [permissions, setPermissions] = useState<string[]>(role?.permissions ?? []);
  const { run, busy, error } = useTask();

  const submit = async (event: SubmitEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    await run(async () => {
      const fields = { description: description.trim(), parent: parent || null, permissions: asPermissionCodes(permissions) };
      onSaved(role === null ? await createRole({ name: name.trim().toLowerCase(), ...fields }) : await updateRole(role.id, fields));
    });
  };

  const errorsOf = (field: (typeof FIELDS)[number]): string[] => error?.fieldMessages(field) ?? [];
  const placed = FIELDS.some((field) => errorsOf(field).length > 0);

  return (
    <form
      className="space-y-4"
      onSubmit={(event) => {
        void submit(event);
      }}
    >
      {error !== null && !placed && <Alert tone="danger">{error.message}</Alert>}
      <TextField
        label="Name" hint={role === null ? "Lowercase letters, digits, dot, dash and underscore; it cannot change later." : "A role keeps its name."} errors={errorsOf("name")}
        name="role-name"
        autoComplete="off"
        autoCapitalize="none"
        spellCheck={false}
        required
        autoFocus={role === null}
        readOnly={role !== null}
        value={name}
        onChange={setName}
      />
      <TextField
        label="Description" optional errors={errorsOf("description")}
        name="role-description"
        autoComplete="off"
        value={description}
        onChange={setDescription}
      />
      <Field label="Inherit from" hint="The role also gets every permission of the role it inherits from." errors={errorsOf("parent")}>
        {(control) => (
          <select
            {...control}
            className={inputClass}
            value={parent}
            onChange={(event) => {
              setParent(event.target.value);
            }}
          >
            <option value="">Nothing</option>
            {roles
              .filter((candidate) => candidate.id !== role?.id)
              .map((candidate) => (
                <option key={candidate.id} value={candidate.name}>
                  {candidate.name}
                </option>
              ))}
          </select>
        )}
      </Field>
      <div>
        <p className="mb-1.5 text-sm font-medium text-slate-800 dark:text-slate-200">
          Permissions <span className="text-xs font-normal text-slate-500 dark:text-slate-400">({permissions.length} chosen)</span>
        </p>
        <PermissionPicker catalog={catalog} selected={permissions} onChange={setPermissions} />
        {errorsOf("permissions").length > 0 && <p className="mt-1.5 text-xs font-medium text-rose-700 dark:text-rose-300">{errorsOf("permissions").join(" ")}</p>}
      </div>
      <div className="flex justify-end gap-3 pt-2">
        <button type="button" className={buttonClass.secondary} onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className={buttonClass.primary} disabled={busy}>
          {busy ? "Saving…" : role === null ? "Create role" : "Save role"}
        </button>
      </div>
    </form>
  );
}

function RoleRow({ role, parentName, onEdit, onDelete }: { role: Role; parentName: string | null; onEdit: (role: Role) => void; onDelete: (role: Role) => void }) {
  return (
    <tr data-testid="role-row" data-name={role.name} className="hover:bg-slate-50/80 dark:hover:bg-slate-800/40">
      <td className={tdClass}>
        <p className="flex flex-wrap items-center gap-2 font-medium text-slate-900 dark:text-white">
          {role.name}
          {role.builtin && <Badge>Built-in</Badge>}
        </p>
        {role.description && <p className="text-xs text-slate-500 dark:text-slate-400">{role.description}</p>}
      </td>
      <td className={`${tdClass} text-slate-600 dark:text-slate-300`}>{parentName ?? <span className="text-slate-400 dark:text-slate-500">—</span>}</td>
      <td className={`${tdClass} text-slate-600 tabular-nums dark:text-slate-300`} data-testid="role-permission-count" title={role.effective_permissions.join(", ")}>
        {role.effective_permissions.length}
      </td>
      <td className={`${tdClass} text-right whitespace-nowrap`}>
        {role.builtin ? (
          <span className="text-xs text-slate-400 dark:text-slate-500">Read-only</span>
        ) : (
          <span className="inline-flex gap-2">
            <button
              type="button"
              aria-label={`Edit ${role.name}`}
              className={buttonClass.small}
              onClick={() => {
                onEdit(role);
              }}
            >
              Edit
            </button>
            <button
              type="button"
              aria-label={`Delete ${role.name}`}
              className={buttonClass.smallDanger}
              onClick={() => {
                onDelete(role);
              }}
            >
              Delete
            </button>
          </span>
        )}
      </td>
    </tr>
  );
}

export function RolesPage() {
  useDocumentTitle("Roles");
  const rolesQuery = useRoles();
  const catalogQuery = usePermissions();
  const data = rolesQuery.data === undefined || catalogQuery.data === undefined ? undefined : { roles: rolesQuery.data, catalog: catalogQuery.data };
  const error = rolesQuery.error ?? catalogQuery.error;
  const loading = rolesQuery.isFetching || catalogQuery.isFetching;
  const invalidate = useInvalidate();
  // Groups and users show role names too.
  const reload = (): void => void invalidate(identityKeys.roles, identityKeys.groups, identityKeys.users);
  /** undefined: no dialog; null: a new role; a role: editing it. */
  const [editing, setEditing] = useState<Role | null | undefined>(undefined);
  const [notice, setNotice] = useState<string | null>(null);
  const remove = useConfirm((role: Role) => deleteRole(role.id), (_, role) => {
    setNotice(`The role ${role.name} was deleted.`);
    reload();
  });

  const roles = data?.roles ?? [];
  const nameOf = (id: string | null): string | null => (id === null ? null : (roles.find((role) => role.id === id)?.name ?? null));

  return (
    <>
      <PageHeader
        title="Roles"
        description="What each role may do. Built-in roles are fixed; make your own, optionally inheriting from another."
        actions={
          <AddButton
            label="New role"
            disabled={data === undefined}
            onClick={() => {
              setNotice(null);
              setEditing(null);
            }}
          />
        }
      />

      <PageMessages notice={notice} error={error?.message ?? null} />

      <DataTable
        columns={["Role", "Inherits", "Permissions", { header: "Actions", srOnly: true }]}
        rows={data === undefined ? undefined : roles}
        loading={loading}
        skeletonRows={3}
        renderRow={(role) => (
          <RoleRow
            key={role.id}
            role={role}
            parentName={nameOf(role.parent_id)}
            onEdit={(chosen) => {
              setNotice(null);
              setEditing(chosen);
            }}
            onDelete={remove.ask}
          />
        )}
      />

      <Dialog
        open={editing !== undefined}
        title={editing ? `Edit ${editing.name}` : "New role"}
        description={editing ? undefined : "Pick its permissions, or inherit them from another role, or both."}
        onClose={() => {
          setEditing(undefined);
        }}
      >
        {editing !== undefined && data !== undefined && (
          <RoleForm
            key={editing?.id ?? "new"}
            role={editing}
            roles={data.roles}
            catalog={data.catalog}
            onSaved={(role) => {
              setNotice(editing === null ? `The role ${role.name} was created.` : `The role ${role.name} was saved.`);
              setEditing(undefined);
              reload();
            }}
            onCancel={() => {
              setEditing(undefined);
            }}
          />
        )}
      </Dialog>

      <ConfirmDialog title={`Delete ${remove.target?.name ?? ""}?`} confirmLabel="Delete" {...remove.dialog}>
        <p>Users and groups holding this role lose its permissions at once.</p>
      </ConfirmDialog>
    </>
  );
}

/** /admin/users: the tenant's users, searchable and paged; create one, edit one (name, email, roles), deactivate or reactivate one. */
import { useState, type SubmitEvent } from "react";

import { sameRoleNames, type Role } from "../../../api/access";
import { useRoles, useUserPage } from "../../../api/identityQueries";
import { BUILTIN_ROLES, updateUser, type AdminUser, type User, type UserUpdate } from "../../../api/identity";
import { useInvalidate } from "../../../api/queryClient";
import { identityKeys } from "../../../api/queryKeys";
import { can, displayName, useMe } from "../../../auth/session";
import { Avatar } from "../../../components/Avatar";
import { AddButton } from "../../../components/AddButton";
import { Badge } from "../../../components/Badge";
import { buttonClass } from "../../../components/Button";
import { DataTable, tdClass } from "../../../components/DataTable";
import { ConfirmDialog, Dialog } from "../../../components/Dialog";
import { Alert, Field, inputClass, TextField } from "../../../components/Form";
import { SearchIcon } from "../../../components/icons";
import { PageHeader } from "../../../components/PageHeader";
import { Pagination } from "../../../components/Pagination";
import { useDebounced } from "../../../hooks/useDebounced";
import { useDocumentTitle } from "../../../hooks/useDocumentTitle";
import { useAction, useConfirm } from "../../../lib/useAction";
import { describeTimestamp } from "../../../lib/format";
import { RoleChecklist } from "./RoleChecklist";
import { NewUserDialog } from "./NewUserDialog";

const PAGE_SIZE = 20;


function Timestamp({ value, empty }: { value: string | null; empty: string }) {
  const { text, title } = describeTimestamp(value);
  return value === null ? <span className="text-slate-400 dark:text-slate-500">{empty}</span> : <span title={title}>{text}</span>;
}

/** The roles an admin can pick from: the tenant's, or the built-in ones when they may not list roles. */
type RoleChoice = Pick<Role, "name" | "description">;

/** Whether the user has an email they have not confirmed yet (mail to it may not reach them). */
function emailUnconfirmed(user: AdminUser): boolean {
  return user.email !== null && !user.email_verified_at;
}

const EDIT_FIELDS = ["display_name", "email", "roles"] as const;

/** Change a user's display name, email and directly assigned roles; sends only what changed. */
function EditUserForm({ user, roles, onSaved, onCancel }: { user: AdminUser; roles: readonly RoleChoice[]; onSaved: (user: User) => void; onCancel: () => void }) {
  const [name, setName] = useState(user.display_name);
  const [email, setEmail] = useState(user.email ?? "");
  const [chosen, setChosen] = useState<string[]>(user.roles ?? []);
  const { run, busy, error, setError } = useAction(updateUser, onSaved);
  const [emailError, setEmailError] = useState<string | null>(null);
  // A role the user holds is listed even if the tenant's list could not be loaded.
  const choices = [...roles, ...chosen.filter((held) => !roles.some((role) => role.name === held)).map((held) => ({ name: held, description: "" }))];

  const submit = async (event: SubmitEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    setError(null);
    setEmailError(null);
    if (user.email !== null && email.trim() === "") {
      setEmailError("An email address can be changed but not removed.");
      return;
    }
    // Only what changed: the server checks every role sent against what the admin may grant.
    const changes: UserUpdate = {};
    if (name.trim() !== user.display_name) changes.display_name = name.trim();
    if (email.trim() !== "" && email.trim().toLowerCase() !== user.email) changes.email = email.trim();
    if (!sameRoleNames(chosen, user.roles ?? [])) changes.roles = chosen;
    if (Object.keys(changes).length === 0) {
      onCancel();
      return;
    }
    await run(user.id, changes);
  };

  const errorsOf = (field: (typeof EDIT_FIELDS)[number]): string[] => error?.fieldMessages(field) ?? [];
  const placed = EDIT_FIELDS.some((field) => errorsOf(field).length > 0);

  return (
    <form
      className="space-y-4"
      onSubmit={(event) => {
        void submit(event);
      }}
    >
      {error !== null && !placed && (
        <div data-testid="edit-user-error">
          <Alert tone="danger">{error.message}</Alert>
        </div>
      )}
      <TextField
        label="Display name" optional errors={errorsOf("display_name")}
        name="display-name"
        autoComplete="off"
        data-autofocus
        value={name}
        onChange={setName}
      />
      <Field
        label="Email"
        optional={user.email === null}
        hint={
          user.pending_email
            ? `Pending confirmation: ${user.pending_email}. The address changes when the link mailed there is opened; saving the current address cancels the change.`
            : emailUnconfirmed(user) && email.trim().toLowerCase() === user.email
              ? "Not confirmed yet: they have not opened the link mailed to this address."
              : "A new address takes effect only once the link mailed to it is opened; the current address is told of the change."
        }
        errors={[...errorsOf("email"), ...(emailError === null ? [] : [emailError])]}
      >
        {(control) => (
          <input
            {...control}
            className={inputClass}
            type="email"
            name="email"
            autoComplete="off"
            value={email}
            onChange={(event) => {
              setEmail(event.target.value);
            }}
          />
        )}
      </Field>
      <RoleChecklist
        roles={choices}
        selected={chosen}
        onChange={setChosen}
        hint="Roles given to this user directly; roles from their groups come on top."
        errors={errorsOf("roles")}
      />
      <div className="flex justify-end gap-3 pt-2">
        <button type="button" className={buttonClass.secondary} onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className={buttonClass.primary} disabled={busy}>
          {busy ? "Saving…" : "Save user"}
        </button>
      </div>
    </form>
  );
}

function UserRow({
  user,
  isSelf,
  onEdit,
  onToggle,
}: {
  user: AdminUser;
  isSelf: boolean;
  onEdit: (user: AdminUser) => void;
  onToggle: (user: AdminUser) => void;
}) {
  const name = displayName(user);
  return (
    <tr data-testid="user-row" data-username={user.username} className="hover:bg-slate-50/80 dark:hover:bg-slate-800/40">
      <td className={tdClass}>
        <div className="flex items-center gap-3">
          <Avatar name={name} size="sm" />
          <div className="min-w-0">
            <p className="truncate font-medium text-slate-900 dark:text-white">
              {name}
              {isSelf && <span className="ml-2 text-xs font-normal text-slate-500 dark:text-slate-400">(you)</span>}
            </p>
            <p className="truncate text-xs text-slate-500 dark:text-slate-400">@{user.username}</p>
          </div>
        </div>
      </td>
      <td className={`${tdClass} text-slate-600 dark:text-slate-300`}>
        {user.email === null ? (
          <span className="text-slate-400 dark:text-slate-500">—</span>
        ) : (
          <span className="flex flex-wrap items-center gap-1.5">
            {user.email}
            {emailUnconfirmed(user) && (
              <span data-testid="email-unconfirmed" title="They have not opened the confirmation link mailed to this address yet.">
                <Badge tone="warning">Unconfirmed</Badge>
              </span>
            )}
          </span>
        )}
        {user.pending_email && (
          <p data-testid="email-pending" className="mt-1 text-xs text-amber-700 dark:text-amber-400" title="The address changes when the link mailed to it is opened.">
            Pending confirmation: {user.pending_email}
          </p>
        )}
      </td>
      <td className={tdClass}>
        {(user.roles ?? []).length === 0 ? (
          <span className="text-slate-400 dark:text-slate-500">—</span>
        ) : (
          <ul className="flex flex-wrap gap-1.5" aria-label={`Roles of ${user.username}`} data-testid="user-roles">
            {(user.roles ?? []).map((role) => (
              <li key={role}>
                <Badge tone="brand">{role}</Badge>
              </li>
            ))}
          </ul>
        )}
      </td>
      <td className={tdClass}>
        <span className="flex flex-wrap gap-1.5">
          {user.is_active ? <Badge tone="success">Active</Badge> : <Badge tone="danger">Deactivated</Badge>}
          {user.is_superadmin && <Badge tone="warning">Super-admin</Badge>}
        </span>
      </td>
      <td className={`${tdClass} text-slate-600 dark:text-slate-300`}>
        <Timestamp value={user.last_login_at} empty="Never" />
      </td>
      <td className={`${tdClass} text-slate-600 dark:text-slate-300`}>
        <Timestamp value={user.created_at} empty="—" />
      </td>
      <td className={`${tdClass} text-right whitespace-nowrap`}>
        <span className="inline-flex gap-2">
          <button
            type="button"
            aria-label={`Edit ${user.username}`}
            className={buttonClass.small}
            onClick={() => {
              onEdit(user);
            }}
          >
            Edit
          </button>
          {isSelf ? null : user.is_active ? (
            <button
              type="button"
              className={buttonClass.smallDanger}
              onClick={() => {
                onToggle(user);
              }}
            >
              Deactivate
            </button>
          ) : (
            <button
              type="button"
              className={buttonClass.small}
              onClick={() => {
                onToggle(user);
              }}
            >
              Reactivate
            </button>
          )}
        </span>
      </td>
    </tr>
  );
}

export function UsersPage() {
  useDocumentTitle("Users");
  const me = useMe();
  const [search, setSearch] = useState("");
  const [offset, setOffset] = useState(0);
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<AdminUser | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const query = useDebounced(search.trim(), 250);

  const { data: page, error, isFetching: loading } = useUserPage({ ...(query ? { q: query } : {}), limit: PAGE_SIZE, offset });
  const invalidate = useInvalidate();
  const reload = (): void => void invalidate(identityKeys.users);
  // Listing roles takes admin.roles; without it (or if it fails) the built-in roles are offered.
  const mayListRoles = can(me, "admin.roles");
  const { data: tenantRoles } = useRoles(mayListRoles);
  const roleChoices: readonly RoleChoice[] = (mayListRoles ? tenantRoles : undefined) ?? BUILTIN_ROLES;
  const toggle = useConfirm(
    (user: AdminUser) => updateUser(user.id, { is_active: !user.is_active }),
    (updated) => {
      setNotice(updated.is_active ? `${updated.username} can sign in again.` : `${updated.username} is deactivated and was signed out everywhere.`);
      reload();
    },
  );
  const toggling = toggle.target;

  const deactivating = toggling?.is_active ?? false;

  return (
    <>
      <PageHeader
        title="Users"
        description={`Everyone who can sign in to ${me.tenant.name}.`}
        actions={
          <AddButton
            label="New user"
            onClick={() => {
              setNotice(null);
              setCreating(true);
            }}
          />
        }
      />

      {notice !== null && (
        <div className="mb-4">
          <Alert tone="success">{notice}</Alert>
        </div>
      )}

      <div className="overflow-hidden rounded-xl border border-slate-200 bg-white shadow-sm dark:border-slate-800 dark:bg-slate-900">
        <div className="flex flex-wrap items-center gap-3 border-b border-slate-200 p-4 dark:border-slate-800">
          <label className="relative w-full max-w-sm">
            <span className="sr-only">Search users</span>
            <SearchIcon className="pointer-events-none absolute top-1/2 left-3 size-4 -translate-y-1/2 text-slate-400" />
            <input
              type="search"
              className={`${inputClass} pl-9`}
              placeholder="Search by username, email or name"
              value={search}
              onChange={(event) => {
                setSearch(event.target.value);
                setOffset(0);
              }}
            />
          </label>
          {loading && page !== undefined && <span className="text-xs text-slate-500 dark:text-slate-400">Loading…</span>}
        </div>

        {error !== null && (
          <div className="p-4">
            <Alert tone="danger">{error.message}</Alert>
          </div>
        )}

        <DataTable
          columns={["User", "Email", "Roles", "Status", "Last sign-in", "Created", { header: "Actions", srOnly: true }]}
          rows={page?.items}
          loading={loading}
          skeletonRows={3}
          empty={query ? `No user matches “${query}”.` : "No users yet."}
          frame={false}
          renderRow={(user) => (
            <UserRow
              key={user.id}
              user={user}
              isSelf={user.id === me.user.id}
              onEdit={(chosen) => {
                setNotice(null);
                setEditing(chosen);
              }}
              onToggle={toggle.ask}
            />
          )}
        />
        {page !== undefined && <Pagination offset={offset} limit={PAGE_SIZE} total={page.total} shown={page.items.length} onChange={setOffset} />}
      </div>

      <NewUserDialog
        open={creating}
        onClose={() => {
          setCreating(false);
        }}
        onCreated={(user) => {
          setCreating(false);
          setNotice(`${user.username} was created and can sign in now.`);
          reload();
        }}
      />

      <Dialog
        open={editing !== null}
        title={editing === null ? "Edit user" : `Edit ${editing.username}`}
        onClose={() => {
          setEditing(null);
        }}
      >
        {editing !== null && (
          <EditUserForm
            key={editing.id}
            user={editing}
            roles={roleChoices}
            onSaved={(user) => {
              const asked = user.pending_email && user.pending_email !== editing.pending_email;
              setEditing(null);
              setNotice(asked ? `${user.username} was saved. A confirmation link went to ${user.pending_email}; the address changes when it is opened.` : `${user.username} was saved.`);
              reload();
            }}
            onCancel={() => {
              setEditing(null);
            }}
          />
        )}
      </Dialog>

      <ConfirmDialog
        title={deactivating ? `Deactivate ${toggling?.username ?? ""}?` : `Reactivate ${toggling?.username ?? ""}?`}
        confirmLabel={deactivating ? "Deactivate" : "Reactivate"}
        tone={deactivating ? "danger" : "primary"}
        {...toggle.dialog}
      >
        {deactivating ? (
          <p>They are signed out of every device at once and cannot sign in until someone reactivates them. Their data stays.</p>
        ) : (
          <p>They will be able to sign in again with their password.</p>
        )}
      </ConfirmDialog>
    </>
  );
}

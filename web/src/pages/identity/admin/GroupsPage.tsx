/** /admin/groups: groups of users that share roles; create one, rename it or change its roles, see and change its members, delete it. */
import { useCallback, useEffect, useState, type SubmitEvent } from "react";

import {
  addGroupMember,
  createGroup,
  deleteGroup,
  listGroupMembers,
  listGroups,
  listRoles,
  removeGroupMember,
  sameRoleNames,
  updateGroup,
  type Group,
  type GroupMember,
  type GroupUpdate,
  type Role,
} from "../../../api/access";
import { listUsers } from "../../../api/identity";
import { toApiError, type ApiError } from "../../../api/problem";
import { displayName } from "../../../auth/session";
import { Avatar } from "../../../components/Avatar";
import { Badge } from "../../../components/Badge";
import { buttonClass } from "../../../components/Button";
import { Skeleton } from "../../../components/Card";
import { DataTable, tdClass } from "../../../components/DataTable";
import { ConfirmDialog, Dialog } from "../../../components/Dialog";
import { Alert, Field, inputClass } from "../../../components/Form";
import { PlusIcon, SearchIcon } from "../../../components/icons";
import { PageHeader } from "../../../components/PageHeader";
import { useDocumentTitle } from "../../../hooks/useDocumentTitle";
import { useResource } from "../../../hooks/useResource";


const FIELDS = ["name", "description", "roles"] as const;

/** A checkbox per role of the tenant, for what a user or a group holds; each box is labelled with the role's name. */
export function RoleChecklist({
  roles,
  selected,
  onChange,
  hint,
  errors = [],
}: {
  roles: readonly Pick<Role, "name" | "description">[];
  selected: readonly string[];
  onChange: (names: string[]) => void;
  hint: string;
  errors?: readonly string[];
}) {
  return (
    <fieldset>
      <legend className="mb-1.5 text-sm font-medium text-slate-800 dark:text-slate-200">
        Roles <span className="text-xs font-normal text-slate-500 dark:text-slate-400">({selected.length} chosen)</span>
      </legend>
      <p className="mb-2 text-xs text-slate-500 dark:text-slate-400">{hint}</p>
      <div className="grid max-h-56 gap-1.5 overflow-y-auto rounded-lg border border-slate-200 p-2 sm:grid-cols-2 dark:border-slate-700">
        {roles.map((role) => (
          <label
            key={role.name}
            title={role.description || undefined}
            className="flex cursor-pointer items-start gap-2 rounded-md px-2 py-1 hover:bg-slate-50 dark:hover:bg-slate-800/60"
          >
            <input
              type="checkbox"
              aria-label={role.name}
              className="mt-0.5 size-4 shrink-0 accent-sky-600"
              checked={selected.includes(role.name)}
              onChange={(event) => {
                const { checked } = event.target;
                onChange(checked ? [...selected, role.name] : selected.filter((name) => name !== role.name));
              }}
            />
            <span className="min-w-0">
              <span className="block truncate text-sm text-slate-800 dark:text-slate-200">{role.name}</span>
              {role.description && <span className="block truncate text-xs text-slate-500 dark:text-slate-400">{role.description}</span>}
            </span>
          </label>
        ))}
      </div>
      {errors.length > 0 && <p className="mt-1.5 text-xs font-medium text-rose-700 dark:text-rose-300">{errors.join(" ")}</p>}
    </fieldset>
  );
}

/** Create a group (`group` null) or change one: its name, description and roles. */
function GroupForm({ group, roles, onSaved, onCancel }: { group: Group | null; roles: readonly Role[]; onSaved: (group: Group) => void; onCancel: () => void }) {
  const [name, setName] = useState(group?.name ?? "");
  const [description, setDescription] = useState(group?.description ?? "");
  const [chosen, setChosen] = useState<string[]>(group?.roles.map((role) => role.name) ?? []);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  const save = (): Promise<Group> => {
    if (group === null) return createGroup({ name: name.trim(), description: description.trim(), roles: chosen });
    // Only what changed: the server checks every role sent against what the admin may grant.
    const changes: GroupUpdate = {};
    if (name.trim() !== group.name) changes.name = name.trim();
    if (description.trim() !== group.description) changes.description = description.trim();
    if (!sameRoleNames(chosen, group.roles.map((role) => role.name))) changes.roles = chosen;
    return Object.keys(changes).length === 0 ? Promise.resolve(group) : updateGroup(group.id, changes);
  };

  const submit = async (event: SubmitEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSaved(await save());
    } catch (caught) {
      setError(toApiError(caught));
    } finally {
      setBusy(false);
    }
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
      <Field label="Name" errors={errorsOf("name")}>
        {(control) => (
          <input
            {...control}
            className={inputClass}
            name="group-name"
            autoComplete="off"
            required
            data-autofocus
            value={name}
            onChange={(event) => {
              setName(event.target.value);
            }}
          />
        )}
      </Field>
      <Field label="Description" optional errors={errorsOf("description")}>
        {(control) => (
          <input
            {...control}
            className={inputClass}
            name="group-description"
            autoComplete="off"
            value={description}
            onChange={(event) => {
              setDescription(event.target.value);
            }}
          />
        )}
      </Field>
      <RoleChecklist roles={roles} selected={chosen} onChange={setChosen} hint="Every member gets the permissions of these roles." errors={errorsOf("roles")} />
      <div className="flex justify-end gap-3 pt-2">
        <button type="button" className={buttonClass.secondary} onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className={buttonClass.primary} disabled={busy}>
          {busy ? "Saving…" : group === null ? "Create group" : "Save group"}
        </button>
      </div>
    </form>
  );
}

/** The members of one group: remove any, and add people found by searching the tenant's users. */
function MembersPanel({ group, onCount }: { group: Group; onCount: (count: number) => void }) {
  const loadMembers = useCallback((signal: AbortSignal) => listGroupMembers(group.id, signal), [group.id]);
  const { data: loaded, error, loading } = useResource(loadMembers);
  /** The list after this panel's own changes (a fresh read could race the change it follows). */
  const [changed, setChanged] = useState<GroupMember[] | null>(null);
  const members = changed ?? loaded;
  const [search, setSearch] = useState("");
  const [query, setQuery] = useState("");
  const [actionError, setActionError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const timer = window.setTimeout(() => {
      setQuery(search.trim());
    }, 250);
    return () => {
      window.clearTimeout(timer);
    };
  }, [search]);

  const loadCandidates = useCallback(
    (signal: AbortSignal) => (query ? listUsers({ q: query, limit: 8, offset: 0 }, signal) : Promise.resolve(null)),
    [query],
  );
  const { data: candidates } = useResource(loadCandidates);

  const change = async (action: () => Promise<void>, next: GroupMember[]): Promise<void> => {
    setBusy(true);
    setActionError(null);
    try {
      await action();
      setChanged(next);
      onCount(next.length);
    } catch (caught) {
      setActionError(toApiError(caught).message);
    } finally {
      setBusy(false);
    }
  };

  const memberIds = new Set((members ?? []).map((member) => member.id));
  const addable = (candidates?.items ?? []).filter((user) => !memberIds.has(user.id));

  return (
    <div className="space-y-5">
      {(error ?? actionError) !== null && <Alert tone="danger">{error?.message ?? actionError}</Alert>}
      <section>
        <h3 className="text-sm font-medium text-slate-800 dark:text-slate-200">Members{members ? ` (${members.length})` : ""}</h3>
        {members === undefined && loading && <Skeleton className="mt-2 h-10 w-full" />}
        {members?.length === 0 && <p className="mt-2 text-sm text-slate-500 dark:text-slate-400">No members yet.</p>}
        {members !== undefined && members.length > 0 && (
          <ul className="mt-2 max-h-56 divide-y divide-slate-100 overflow-y-auto dark:divide-slate-800" aria-label="Members">
            {members.map((member) => (
              <li key={member.id} data-testid="member-row" data-username={member.username} className="flex items-center gap-3 py-2">
                <Avatar name={displayName(member)} size="sm" />
                <span className="min-w-0 flex-1">
                  <span className="block truncate text-sm font-medium text-slate-900 dark:text-white">{displayName(member)}</span>
                  <span className="block truncate text-xs text-slate-500 dark:text-slate-400">@{member.username}</span>
                </span>
                <button
                  type="button"
                  aria-label={`Remove ${member.username}`}
                  className={buttonClass.smallDanger}
                  disabled={busy}
                  onClick={() => {
                    void change(
                      () => removeGroupMember(group.id, member.id),
                      members.filter((other) => other.id !== member.id),
                    );
                  }}
                >
                  Remove
                </button>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section>
        <h3 className="text-sm font-medium text-slate-800 dark:text-slate-200">Add a member</h3>
        <label className="relative mt-2 block">
          <span className="sr-only">Search users to add</span>
          <SearchIcon className="pointer-events-none absolute top-1/2 left-3 size-4 -translate-y-1/2 text-slate-400" />
          <input
            type="search"
            className={`${inputClass} pl-9`}
            placeholder="Search by username, email or name"
            value={search}
            onChange={(event) => {
              setSearch(event.target.value);
            }}
          />
        </label>
        {query !== "" && candidates !== undefined && addable.length === 0 && (
          <p className="mt-2 text-sm text-slate-500 dark:text-slate-400">No one else matches “{query}”.</p>
        )}
        {addable.length > 0 && (
          <ul className="mt-2 divide-y divide-slate-100 dark:divide-slate-800" aria-label="Users to add">
            {addable.map((user) => (
              <li key={user.id} className="flex items-center gap-3 py-2">
                <Avatar name={displayName(user)} size="sm" />
                <span className="min-w-0 flex-1">
                  <span className="block truncate text-sm font-medium text-slate-900 dark:text-white">{displayName(user)}</span>
                  <span className="block truncate text-xs text-slate-500 dark:text-slate-400">@{user.username}</span>
                </span>
                <button
                  type="button"
                  aria-label={`Add ${user.username}`}
                  className={buttonClass.small}
                  disabled={busy}
                  onClick={() => {
                    void change(
                      () => addGroupMember(group.id, user.id),
                      [...(members ?? []), user],
                    );
                  }}
                >
                  Add
                </button>
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}

export function GroupsPage() {
  useDocumentTitle("Groups");
  const load = useCallback(async (signal: AbortSignal) => {
    const [groups, roles] = await Promise.all([listGroups(signal), listRoles(signal)]);
    return { groups, roles };
  }, []);
  const { data, error, loading, reload } = useResource(load);
  /** undefined: no dialog; null: a new group; a group: editing it. */
  const [editing, setEditing] = useState<Group | null | undefined>(undefined);
  const [openId, setOpenId] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<Group | null>(null);
  const [busy, setBusy] = useState(false);
  const [deleteError, setDeleteError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  /** Member counts after changes made in the members panel, by group id (shown over the loaded counts). */
  const [counts, setCounts] = useState<Record<string, number>>({});

  const groups = data?.groups ?? [];
  const open = groups.find((group) => group.id === openId) ?? null;

  const confirmDelete = async (): Promise<void> => {
    if (deleting === null) return;
    setBusy(true);
    setDeleteError(null);
    try {
      await deleteGroup(deleting.id);
      setNotice(`The group ${deleting.name} was deleted.`);
      setDeleting(null);
      reload();
    } catch (caught) {
      setDeleteError(toApiError(caught).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <PageHeader
        title="Groups"
        description="People who share roles: give a group roles once, and everyone in it gets them."
        actions={
          <button
            type="button"
            className={buttonClass.primary}
            disabled={data === undefined}
            onClick={() => {
              setNotice(null);
              setEditing(null);
            }}
          >
            <PlusIcon className="size-4" />
            New group
          </button>
        }
      />

      {notice !== null && (
        <div className="mb-4">
          <Alert tone="success">{notice}</Alert>
        </div>
      )}
      {error !== null && (
        <div className="mb-4">
          <Alert tone="danger">{error.message}</Alert>
        </div>
      )}

      <DataTable
        columns={["Group", "Roles", "Members", { header: "Actions", srOnly: true }]}
        rows={data === undefined ? undefined : groups}
        loading={loading}
        skeletonRows={2}
        empty={"No groups yet."}
        renderRow={(group) => (
          <tr key={group.id} data-testid="group-row" data-name={group.name} className="hover:bg-slate-50/80 dark:hover:bg-slate-800/40">
            <td className={tdClass}>
              <p className="font-medium text-slate-900 dark:text-white">{group.name}</p>
              {group.description && <p className="text-xs text-slate-500 dark:text-slate-400">{group.description}</p>}
            </td>
            <td className={tdClass}>
              <span className="flex flex-wrap gap-1.5">
                {group.roles.length === 0 && <span className="text-slate-400 dark:text-slate-500">—</span>}
                {group.roles.map((role) => (
                  <Badge key={role.id} tone="brand">
                    {role.name}
                  </Badge>
                ))}
              </span>
            </td>
            <td className={`${tdClass} text-slate-600 tabular-nums dark:text-slate-300`} data-testid="group-member-count">
              {counts[group.id] ?? group.members}
            </td>
            <td className={`${tdClass} text-right whitespace-nowrap`}>
              <span className="inline-flex gap-2">
                <button
                  type="button"
                  aria-label={`Edit ${group.name}`}
                  className={buttonClass.small}
                  onClick={() => {
                    setNotice(null);
                    setEditing(group);
                  }}
                >
                  Edit
                </button>
                <button
                  type="button"
                  aria-label={`Members of ${group.name}`}
                  className={buttonClass.small}
                  onClick={() => {
                    setOpenId(group.id);
                  }}
                >
                  Members
                </button>
                <button
                  type="button"
                  aria-label={`Delete ${group.name}`}
                  className={buttonClass.smallDanger}
                  onClick={() => {
                    setDeleteError(null);
                    setDeleting(group);
                  }}
                >
                  Delete
                </button>
              </span>
            </td>
          </tr>
        )}
      />

      <Dialog
        open={editing !== undefined}
        title={editing ? `Edit ${editing.name}` : "New group"}
        description={editing ? "Rename it, describe it, or change the roles its members get." : "Name it and pick the roles its members get."}
        onClose={() => {
          setEditing(undefined);
        }}
      >
        {editing !== undefined && (
          <GroupForm
            key={editing?.id ?? "new"}
            group={editing}
            roles={data?.roles ?? []}
            onSaved={(group) => {
              setNotice(editing === null ? `The group ${group.name} was created.` : `The group ${group.name} was saved.`);
              setEditing(undefined);
              reload();
            }}
            onCancel={() => {
              setEditing(undefined);
            }}
          />
        )}
      </Dialog>

      <Dialog
        open={open !== null}
        title={open === null ? "Members" : `Members of ${open.name}`}
        onClose={() => {
          setOpenId(null);
        }}
      >
        {open !== null && (
          <MembersPanel
            key={open.id}
            group={open}
            onCount={(count) => {
              setCounts((current) => ({ ...current, [open.id]: count }));
            }}
          />
        )}
      </Dialog>

      <ConfirmDialog
        open={deleting !== null}
        title={`Delete ${deleting?.name ?? ""}?`}
        confirmLabel="Delete"
        busy={busy}
        error={deleteError}
        onConfirm={() => {
          void confirmDelete();
        }}
        onCancel={() => {
          setDeleting(null);
        }}
      >
        <p>Its members lose the roles they had through this group. The users themselves stay.</p>
      </ConfirmDialog>
    </>
  );
}

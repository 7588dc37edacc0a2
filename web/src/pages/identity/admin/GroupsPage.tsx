/** /admin/groups: groups of users that share roles; create one, rename it or change its roles, see and change its members, delete it. */
import { useState } from "react";

import { deleteGroup, type Group } from "../../../api/access";
import { useGroups, useRoles } from "../../../api/identityQueries";
import { useInvalidate } from "../../../api/queryClient";
import { identityKeys } from "../../../api/queryKeys";
import { AddButton } from "../../../components/AddButton";
import { Badge } from "../../../components/Badge";
import { buttonClass } from "../../../components/Button";
import { DataTable, tdClass } from "../../../components/DataTable";
import { ConfirmDialog, Dialog } from "../../../components/Dialog";
import { PageMessages } from "../../../components/Form";
import { PageHeader } from "../../../components/PageHeader";
import { useDocumentTitle } from "../../../hooks/useDocumentTitle";
import { useConfirm } from "../../../lib/useAction";
import { GroupForm } from "./GroupForm";
import { MembersPanel } from "./MembersPanel";

export function GroupsPage() {
  useDocumentTitle("Groups");
  const groupsQuery = useGroups();
  const rolesQuery = useRoles();
  const data = groupsQuery.data === undefined || rolesQuery.data === undefined ? undefined : { groups: groupsQuery.data, roles: rolesQuery.data };
  const error = groupsQuery.error ?? rolesQuery.error;
  const loading = groupsQuery.isFetching || rolesQuery.isFetching;
  const invalidate = useInvalidate();
  const reload = (): void => void invalidate(identityKeys.groups);
  /** undefined: no dialog; null: a new group; a group: editing it. */
  const [editing, setEditing] = useState<Group | null | undefined>(undefined);
  const [openId, setOpenId] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const remove = useConfirm((group: Group) => deleteGroup(group.id), (_, group) => {
    setNotice(`The group ${group.name} was deleted.`);
    reload();
  });
  /** Member counts after changes made in the members panel, by group id (shown over the loaded counts). */
  const [counts, setCounts] = useState<Record<string, number>>({});

  const groups = data?.groups ?? [];
  const open = groups.find((group) => group.id === openId) ?? null;

  return (
    <>
      <PageHeader
        title="Groups"
        description="People who share roles: give a group roles once, and everyone in it gets them."
        actions={
          <AddButton
            label="New group"
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
                    remove.ask(group);
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

      <ConfirmDialog title={`Delete ${remove.target?.name ?? ""}?`} confirmLabel="Delete" {...remove.dialog}>
        <p>Its members lose the roles they had through this group. The users themselves stay.</p>
      </ConfirmDialog>
    </>
  );
}

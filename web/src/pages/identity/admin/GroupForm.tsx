/** The create/edit form of a group: its name, description and roles. */
import { useState, type SubmitEvent } from "react";

import { createGroup, sameRoleNames, updateGroup, type Group, type GroupUpdate, type Role } from "../../../api/access";
import { buttonClass } from "../../../components/Button";
import { Alert, TextField } from "../../../components/Form";
import { RoleChecklist } from "./RoleChecklist";
import { useTask } from "../../../lib/useAction";

const FIELDS = ["name", "description", "roles"] as const;

/** Create a group (`group` null) or change one: its name, description and roles. */
export function GroupForm({ group, roles, onSaved, onCancel }: { group: Group | null; roles: readonly Role[]; onSaved: (group: Group) => void; onCancel: () => void }) {
  const [name, setName] = useState(group?.name ?? "");
  const [description, setDescription] = useState(group?.description ?? "");
  const [chosen, setChosen] = useState<string[]>(group?.roles.map((role) => role.name) ?? []);
  const { run, busy, error } = useTask();

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
    await run(async () => {
      onSaved(await save());
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
        label="Name" errors={errorsOf("name")}
        name="group-name"
        autoComplete="off"
        required
        data-autofocus
        value={name}
        onChange={setName}
      />
      <TextField
        label="Description" optional errors={errorsOf("description")}
        name="group-description"
        autoComplete="off"
        value={description}
        onChange={setDescription}
      />
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

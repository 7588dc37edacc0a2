/** The "New user" dialog: username, email, display name, a first password and built-in roles. */
import { useState, type SubmitEvent } from "react";

import { BUILTIN_ROLES, createUser, type User } from "../../../api/identity";
import { buttonClass } from "../../../components/Button";
import { Dialog } from "../../../components/Dialog";
import { Alert, Field, inputClass, TextField } from "../../../components/Form";
import { useTask } from "../../../lib/useAction";

const FIELDS = ["username", "email", "display_name", "password", "roles"] as const;

function NewUserForm({ onCreated, onCancel }: { onCreated: (user: User) => void; onCancel: () => void }) {
  const [username, setUsername] = useState("");
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [roles, setRoles] = useState<string[]>(["member"]);
  const { run, busy, error } = useTask();

  const submit = async (event: SubmitEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    await run(async () => {
      const user = await createUser({
        username: username.trim().toLowerCase(),
        email: email.trim() || null,
        display_name: name.trim(),
        password,
        roles,
      });
      onCreated(user);
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
        label="Username" hint="Lowercase letters, digits, dot, dash and underscore." errors={errorsOf("username")}
        name="username"
        autoComplete="off"
        autoCapitalize="none"
        spellCheck={false}
        required
        autoFocus
        value={username}
        onChange={setUsername}
      />
      <div className="grid gap-4 sm:grid-cols-2">
        <TextField
          label="Email" optional errors={errorsOf("email")}
          type="email"
          name="email"
          autoComplete="off"
          value={email}
          onChange={setEmail}
        />
        <TextField
          label="Display name" optional errors={errorsOf("display_name")}
          name="display-name"
          autoComplete="off"
          value={name}
          onChange={setName}
        />
      </div>
      <Field
        label="Password"
        hint="At least 12 characters, not a common password, not containing the username. Share it with them safely."
        errors={errorsOf("password")}
      >
        {(control) => (
          <input
            {...control}
            className={inputClass}
            type="password"
            name="new-password"
            autoComplete="new-password"
            required
            value={password}
            onChange={(event) => {
              setPassword(event.target.value);
            }}
          />
        )}
      </Field>
      <fieldset>
        <legend className="mb-1.5 text-sm font-medium text-slate-800 dark:text-slate-200">Roles</legend>
        <div className="grid gap-2 sm:grid-cols-2">
          {BUILTIN_ROLES.map((role) => (
            <label
              key={role.name}
              className="flex cursor-pointer gap-3 rounded-lg border border-slate-200 p-3 hover:bg-slate-50 has-checked:border-sky-400 has-checked:bg-sky-50/60 dark:border-slate-700 dark:hover:bg-slate-800/60 dark:has-checked:border-sky-600 dark:has-checked:bg-sky-950/40"
            >
              <input
                type="checkbox"
                name="roles"
                value={role.name}
                className="mt-0.5 size-4 shrink-0 accent-sky-600"
                checked={roles.includes(role.name)}
                onChange={(event) => {
                  const { checked } = event.target;
                  setRoles((current) => (checked ? [...current, role.name] : current.filter((r) => r !== role.name)));
                }}
              />
              <span>
                <span className="block text-sm font-medium text-slate-900 capitalize dark:text-white">{role.name}</span>
                <span className="block text-xs text-slate-500 dark:text-slate-400">{role.description}</span>
              </span>
            </label>
          ))}
        </div>
        {errorsOf("roles").length > 0 && <p className="mt-1.5 text-xs font-medium text-rose-700 dark:text-rose-300">{errorsOf("roles").join(" ")}</p>}
      </fieldset>
      <div className="flex justify-end gap-3 pt-2">
        <button type="button" className={buttonClass.secondary} onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className={buttonClass.primary} disabled={busy}>
          {busy ? "Creating…" : "Create user"}
        </button>
      </div>
    </form>
  );
}

export function NewUserDialog({ open, onClose, onCreated }: { open: boolean; onClose: () => void; onCreated: (user: User) => void }) {
  return (
    <Dialog open={open} title="New user" description="They can sign in right away with this username (or email) and password." onClose={onClose}>
      <NewUserForm onCreated={onCreated} onCancel={onClose} />
    </Dialog>
  );
}

/** A checkbox per role of the tenant, for what a user or a group holds (users and groups admin pages). */
import type { Role } from "../../../api/access";

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

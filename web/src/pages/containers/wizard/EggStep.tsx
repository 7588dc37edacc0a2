/** Step 1: pick the egg, the eggs grouped by category. */
import type { Egg } from "../../../api/containers";
import { Alert } from "../../../components/Form";
import type { ApiError } from "../../../api/problem";

/** Eggs of one category (id "" for the uncategorized ones). */
export interface EggGroup {
  id: string;
  name: string;
  items: Egg[];
}

export function EggStep({ eggs, grouped, eggId, onPick }: { eggs: { data: Egg[] | undefined; error: ApiError | null }; grouped: EggGroup[]; eggId: string | null; onPick: (egg: Egg) => void }) {
  return (
        <div className="space-y-5">
          {eggs.error !== null && <Alert tone="danger">{eggs.error.message}</Alert>}
          {eggs.data?.length === 0 && <Alert tone="info">No eggs yet: a platform administrator imports Pterodactyl eggs under Admin → Eggs.</Alert>}
          {grouped.map(({ id: category, name: categoryName, items }) => (
            <fieldset key={category || "none"}>
              {(grouped.length > 1 || category !== "") && <legend className="mb-2 text-xs font-semibold tracking-wide text-slate-500 uppercase">{categoryName}</legend>}
              <div className="grid gap-3 sm:grid-cols-2">
                {items.map((item) => (
                  <label
                    key={item.id}
                    className={`cursor-pointer rounded-xl border p-4 transition-colors ${
                      item.id === eggId ? "border-sky-500 bg-sky-50 ring-2 ring-sky-500/30 dark:bg-sky-950/50" : "border-slate-200 hover:border-slate-300 dark:border-slate-700"
                    }`}
                  >
                    <input
                      type="radio"
                      name="egg"
                      className="sr-only"
                      checked={item.id === eggId}
                      onChange={() => {
                        onPick(item);
                      }}
                    />
                    <span className="block font-medium text-slate-900 dark:text-white">{item.name}</span>
                    <span className="mt-1 block text-sm text-slate-600 dark:text-slate-400">{item.description || "No description."}</span>
                    <span className="mt-2 block text-xs text-slate-500">
                      {item.variables.filter((variable) => variable.user_editable).length} variables · {item.images.length} image(s) · by {item.author}
                    </span>
                  </label>
                ))}
              </div>
            </fieldset>
          ))}
        </div>
  );
}

/** One egg variable as a form field, its input kind taken from the variable's rules. */
import type { EggVariable } from "../../../api/containers";
import { Field, inputClass } from "../../../components/Form";
import { inputKind, parseRules } from "../../../lib/eggRules";

export function VariableInput({ variable, value, onChange, errors }: { variable: EggVariable; value: string; onChange: (value: string) => void; errors: string[] }) {
  const kind = inputKind(parseRules(variable.rules));
  const hint = (
    <>
      {variable.description} <code className="font-mono">{variable.env_variable}</code> · <code className="font-mono">{variable.rules || "no rules"}</code>
    </>
  );
  if (kind.kind === "boolean") {
    return (
      <Field label={variable.name} hint={hint} errors={errors}>
        {(control) => (
          <select {...control} className={inputClass} value={value} onChange={(e) => { onChange(e.target.value); }}>
            <option value="1">true (1)</option>
            <option value="0">false (0)</option>
          </select>
        )}
      </Field>
    );
  }
  if (kind.kind === "choice") {
    return (
      <Field label={variable.name} hint={hint} errors={errors}>
        {(control) => (
          <select {...control} className={inputClass} value={value} onChange={(e) => { onChange(e.target.value); }}>
            {!kind.options.includes(value) && <option value={value}>{value === "" ? "(none)" : value}</option>}
            {kind.options.map((option) => (
              <option key={option} value={option}>
                {option}
              </option>
            ))}
          </select>
        )}
      </Field>
    );
  }
  return (
    <Field label={variable.name} hint={hint} errors={errors}>
      {(control) => (
        <input
          {...control}
          className={inputClass}
          inputMode={kind.kind === "number" ? "numeric" : undefined}
          value={value}
          onChange={(e) => { onChange(e.target.value); }}
        />
      )}
    </Field>
  );
}

/** Form pieces: a labelled field with hint and errors, the shared input look, and a message banner. */
import { useId, type InputHTMLAttributes, type ReactNode } from "react";

export const inputClass =
  "block w-full rounded-lg border border-slate-300 bg-white px-3 py-2 text-sm text-slate-900 shadow-xs placeholder:text-slate-400 focus:border-sky-500 focus:ring-2 focus:ring-sky-500/30 focus:outline-none aria-invalid:border-rose-400 dark:border-slate-700 dark:bg-slate-950 dark:text-white dark:placeholder:text-slate-500";

/**
 * A label, the control (rendered by `children` with the ids it must use), a hint and any error messages.
 * Errors are announced: the control gets `aria-invalid` and `aria-describedby` through the render props.
 */
export function Field({
  label,
  hint,
  errors = [],
  optional = false,
  children,
}: {
  label: string;
  hint?: ReactNode;
  errors?: readonly string[];
  optional?: boolean;
  children: (control: { id: string; "aria-describedby"?: string; "aria-invalid"?: true }) => ReactNode;
}) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-errors`;
  const describedBy = [hint !== undefined ? hintId : null, errors.length > 0 ? errorId : null].filter(Boolean).join(" ");
  return (
    <div>
      <label htmlFor={id} className="mb-1.5 flex items-baseline justify-between text-sm font-medium text-slate-800 dark:text-slate-200">
        {label}
        {optional && <span className="text-xs font-normal text-slate-500 dark:text-slate-400">Optional</span>}
      </label>
      {children({ id, ...(describedBy ? { "aria-describedby": describedBy } : {}), ...(errors.length > 0 ? { "aria-invalid": true } : {}) })}
      {hint !== undefined && (
        <p id={hintId} className="mt-1.5 text-xs text-slate-500 dark:text-slate-400">
          {hint}
        </p>
      )}
      {errors.length > 0 && (
        <ul id={errorId} className="mt-1.5 space-y-0.5 text-xs font-medium text-rose-700 dark:text-rose-300">
          {errors.map((message) => (
            <li key={message} className="flex gap-1.5">
              <span aria-hidden="true">•</span>
              {message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** A `Field` holding one input: `onChange` gets the new value; any other input attribute (type, name, autoComplete, className…) passes through. */
export function TextField({
  label,
  hint,
  errors,
  optional,
  value,
  onChange,
  ...input
}: {
  label: string;
  hint?: ReactNode;
  errors?: readonly string[];
  optional?: boolean;
  value: string;
  onChange: (value: string) => void;
} & Omit<InputHTMLAttributes<HTMLInputElement>, "value" | "onChange" | "id">) {
  return (
    <Field label={label} hint={hint} errors={errors} optional={optional}>
      {(control) => (
        <input
          {...control}
          className={inputClass}
          {...input}
          value={value}
          onChange={(event) => {
            onChange(event.target.value);
          }}
        />
      )}
    </Field>
  );
}

export type AlertTone = "danger" | "success" | "info";

const alertTones: Record<AlertTone, string> = {
  danger: "border-rose-200 bg-rose-50 text-rose-800 dark:border-rose-900 dark:bg-rose-950/60 dark:text-rose-200",
  success: "border-emerald-200 bg-emerald-50 text-emerald-800 dark:border-emerald-900 dark:bg-emerald-950/60 dark:text-emerald-200",
  info: "border-sky-200 bg-sky-50 text-sky-800 dark:border-sky-900 dark:bg-sky-950/60 dark:text-sky-200",
};

/** A message banner; errors are announced at once (`role="alert"`), the rest politely. */
/** A page's last success notice and its last error, each above the content when there is one. */
export function PageMessages({ notice, error }: { notice: string | null; error: string | null }) {
  return (
    <>
      {notice !== null && (
        <div className="mb-4">
          <Alert tone="success">{notice}</Alert>
        </div>
      )}
      {error !== null && (
        <div className="mb-4">
          <Alert tone="danger">{error}</Alert>
        </div>
      )}
    </>
  );
}

export function Alert({ tone, children, testId }: { tone: AlertTone; children: ReactNode; testId?: string }) {
  return (
    <div
      role={tone === "danger" ? "alert" : "status"}
      data-testid={testId}
      className={`rounded-lg border px-3.5 py-2.5 text-sm ${alertTones[tone]}`}
    >
      {children}
    </div>
  );
}

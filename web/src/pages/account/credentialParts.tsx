/**
 * The pieces the account page's credential cards share (access tokens, app passwords): a credential's row with its
 * scopes and Revoke button, the scope picker of a new one, and a read-only value to copy once.
 */
import { useRef, useState, type ReactNode } from "react";

import { buttonClass } from "../../components/Button";
import { Field, inputClass } from "../../components/Form";
import type { IconComponent } from "../../components/icons";
import { describeTimestamp } from "../../lib/format";

const chipClass = "rounded-md bg-slate-100 px-1.5 py-0.5 font-mono text-xs text-slate-700 dark:bg-slate-800 dark:text-slate-300";

/** A moment in words ("3 hours ago", its exact time on hover), or `empty` when there is none. */
export function When({ value, empty }: { value: string | null; empty: string }) {
  const { text, title } = describeTimestamp(value);
  return value === null ? <span>{empty}</span> : <span title={title}>{text}</span>;
}

/** One credential in a card's list: its icon, name, prefix and scopes, a line of details, and Revoke. */
export function CredentialRow({
  icon: Icon,
  name,
  prefix,
  scopes,
  kind,
  onRevoke,
  children,
}: {
  icon: IconComponent;
  name: string;
  prefix: string;
  scopes: readonly string[];
  /** Names the test ids: the row is `${kind}-row`, its prefix `${kind}-prefix`, its details `${kind}-use`. */
  kind: string;
  onRevoke: () => void;
  /** The details line (expiry, last use). */
  children: ReactNode;
}) {
  return (
    <li data-testid={`${kind}-row`} data-name={name} className="flex items-start gap-4 py-3.5">
      <span className="inline-flex size-10 shrink-0 items-center justify-center rounded-lg bg-slate-100 text-slate-500 dark:bg-slate-800 dark:text-slate-400">
        <Icon className="size-5" />
      </span>
      <div className="min-w-0 flex-1">
        <p className="flex flex-wrap items-center gap-2 text-sm font-medium text-slate-900 dark:text-white">
          <span>{name}</span>
          <code className="font-mono text-xs font-normal text-slate-500 dark:text-slate-400" data-testid={`${kind}-prefix`}>
            {prefix}…
          </code>
        </p>
        <ul className="mt-1.5 flex flex-wrap gap-1" aria-label={`Scopes of ${name}`}>
          {scopes.length === 0 && <li className="text-xs text-slate-400 dark:text-slate-500">No scopes</li>}
          {scopes.map((scope) => (
            <li key={scope} className={chipClass}>
              {scope}
            </li>
          ))}
        </ul>
        <p className="mt-1.5 text-xs text-slate-500 dark:text-slate-400" data-testid={`${kind}-use`}>
          {children}
        </p>
      </div>
      <button type="button" aria-label={`Revoke ${name}`} className={buttonClass.smallDanger} onClick={onRevoke}>
        Revoke
      </button>
    </li>
  );
}

/** The checkboxes of a new credential's scopes: `codes` in the order given, `selected` ticked. */
export function ScopePicker({
  legend,
  hint,
  codes,
  selected,
  onChange,
  errors,
}: {
  legend: string;
  hint: string;
  codes: readonly string[];
  selected: readonly string[];
  onChange: (scopes: string[]) => void;
  errors: readonly string[];
}) {
  return (
    <fieldset>
      <legend className="mb-1.5 text-sm font-medium text-slate-800 dark:text-slate-200">{legend}</legend>
      <p className="mb-2 text-xs text-slate-500 dark:text-slate-400">{hint}</p>
      <div className="grid max-h-56 gap-1.5 overflow-y-auto sm:grid-cols-2">
        {codes.map((code) => (
          <label key={code} className="flex cursor-pointer items-center gap-2 rounded-md px-2 py-1 hover:bg-slate-50 dark:hover:bg-slate-800/60">
            <input
              type="checkbox"
              className="size-4 shrink-0 accent-sky-600"
              checked={selected.includes(code)}
              onChange={(event) => {
                onChange(event.target.checked ? [...selected, code] : selected.filter((scope) => scope !== code));
              }}
            />
            <span className="font-mono text-xs text-slate-800 dark:text-slate-200">{code}</span>
          </label>
        ))}
      </div>
      {errors.length > 0 && <p className="mt-1.5 text-xs font-medium text-rose-700 dark:text-rose-300">{errors.join(" ")}</p>}
    </fieldset>
  );
}

/** A read-only value with a Copy button (a secret shown once, an address to paste). */
export function CopyField({ label, value, testId, secret = false }: { label: string; value: string; testId: string; secret?: boolean }) {
  const field = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<"yes" | "no" | null>(null);
  const copy = (): void => {
    field.current?.select();
    navigator.clipboard.writeText(value).then(
      () => {
        setCopied("yes");
      },
      () => {
        setCopied("no");
      },
    );
  };
  return (
    <Field label={label} hint={copied === "yes" ? "Copied to the clipboard." : copied === "no" ? "Could not copy: select the text and copy it yourself." : undefined}>
      {(control) => (
        <div className="flex gap-2">
          <input
            {...control}
            ref={field}
            readOnly
            data-testid={testId}
            className={`${inputClass} font-mono ${secret ? "font-semibold" : ""}`}
            value={value}
            onFocus={(event) => {
              event.target.select();
            }}
          />
          <button type="button" aria-label={`Copy ${label.toLowerCase()}`} className={buttonClass.secondary} onClick={copy}>
            Copy
          </button>
        </div>
      )}
    </Field>
  );
}

/**
 * A vocabulary's matching rule, as its create and edit forms show it: when a document's text matches, Nubes
 * suggests the type, correspondent or tag. How (any word, all words, a phrase, a regex, a fuzzy phrase), the
 * words and whether case counts.
 */
import type { ApiError } from "../../../api/problem";
import type { Matching, MatchingRule } from "../../../api/documents";
import { Field, inputClass } from "../../../components/Form";
import { MATCHING_LABELS } from "../vocabulary";

const MATCHINGS = Object.keys(MATCHING_LABELS) as Matching[];

export function MatchingFields({ rule, error, onChange }: { rule: MatchingRule; error: ApiError | null; onChange: (rule: MatchingRule) => void }) {
  const off = rule.matching === "none";
  return (
    <fieldset className="grid items-start gap-2 sm:grid-cols-[auto_minmax(0,1fr)]">
      <Field label="Suggest it when the text…" errors={error?.fieldMessages("matching") ?? []}>
        {(control) => (
          <select {...control} className={inputClass} value={rule.matching} onChange={(event) => { onChange({ ...rule, matching: event.target.value as Matching }); }}>
            {MATCHINGS.map((matching) => (
              <option key={matching} value={matching}>
                {MATCHING_LABELS[matching]}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Match" errors={error?.fieldMessages("match") ?? []}>
        {(control) => (
          <input
            {...control}
            className={inputClass}
            value={rule.match}
            maxLength={256}
            disabled={off}
            required={!off}
            placeholder={rule.matching === "regex" ? "invoice\\s+\\d+" : rule.matching === "any" || rule.matching === "all" ? "invoice bill" : ""}
            onChange={(event) => { onChange({ ...rule, match: event.target.value }); }}
          />
        )}
      </Field>
      <label className="flex items-center gap-2 text-sm text-slate-700 sm:col-span-2 dark:text-slate-300">
        <input
          type="checkbox"
          className="size-4 accent-sky-600"
          checked={rule.case_sensitive}
          disabled={off}
          onChange={(event) => { onChange({ ...rule, case_sensitive: event.target.checked }); }}
        />
        Case-sensitive
      </label>
    </fieldset>
  );
}

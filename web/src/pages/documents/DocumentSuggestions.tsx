/**
 * The open suggestions of a document, at the top of its Details tab: what Nubes proposes (a type, a correspondent,
 * a tag, a category, a date), what proposed it (a matching rule, or the organization's classifier), how sure it is
 * (a bar and a percent) and why (the words that drove it), with Accept and Reject.
 */
import { decideSuggestion, type Document, type Suggestion } from "../../api/documents";
import { useSuggestions } from "../../api/documentsQueries";
import { useInvalidate } from "../../api/queryClient";
import { documentsKeys } from "../../api/queryKeys";
import { Badge } from "../../components/Badge";
import { buttonClass } from "../../components/Button";
import { Alert } from "../../components/Form";
import { useAction } from "../../lib/useAction";

const SOURCE_LABELS: Record<Suggestion["source"], string> = { rule: "Rule", classifier: "Classifier", llm: "AI" };
const FIELD_LABELS: Record<Suggestion["field"], string> = { type: "type", correspondent: "correspondent", tag: "tag", category: "category", date: "date" };

/** Why, in words: the words that drove it and what weighed them, e.g. matched “invoice” (rule any: invoice bill). */
function reasonOf(suggestion: Suggestion): string {
  const reason = suggestion.reason;
  const words = reason.words.map((word) => `“${word}”`).join(", ");
  if ("rule" in reason) {
    const rule = reason.rule === "" ? "" : ` (rule ${reason.rule})`;
    return words === "" ? `rule ${reason.rule}` : `matched ${words}${rule}`;
  }
  if ("explanation" in reason) return [reason.explanation, words === "" ? "" : `words ${words}`, `AI model ${reason.model}`].filter((part) => part !== "").join(" · ");
  if (reason.model === "dates") return `the text says ${words}`;
  return words === "" ? "learnt from confirmed documents" : `words ${words}, learnt from confirmed documents`;
}

/** The date a date suggestion proposes, as the reader's locale writes it. */
function nameOf(suggestion: Suggestion): string {
  if (suggestion.field !== "date" || suggestion.value == null) return suggestion.name;
  const [year = 0, month = 1, day = 1] = suggestion.value.split("-").map(Number);
  return new Date(year, month - 1, day).toLocaleDateString(undefined, { dateStyle: "medium" });
}

function Confidence({ value }: { value: number }) {
  const percent = Math.round(value * 100);
  return (
    <span className="whitespace-nowrap" title={`${percent}% sure`} data-testid="suggestion-confidence">
      <span className="mr-1 inline-block h-1.5 w-10 overflow-hidden rounded-full bg-slate-200 align-middle dark:bg-slate-700" aria-hidden="true">
        <span className={`block h-full rounded-full ${percent >= 80 ? "bg-emerald-500" : "bg-sky-500"}`} style={{ width: `${percent}%` }} />
      </span>
      <span className="tabular-nums">{percent}%</span>
    </span>
  );
}

export function DocumentSuggestions({ document, canEdit, onDecided }: { document: Document; canEdit: boolean; onDecided: (saved: Document) => void }) {
  const { data, error } = useSuggestions(document.id, document.extraction);
  const invalidate = useInvalidate();
  const decide = useAction(
    (suggestion: Suggestion, decision: "accept" | "reject") => decideSuggestion(document.id, suggestion.id, decision),
    (saved) => {
      onDecided(saved);
      void invalidate(documentsKeys.suggestions(document.id));
    },
  );
  const open = (data ?? []).filter((suggestion) => suggestion.state === "open");

  if (error !== null) return <Alert tone="danger">{error.message}</Alert>;
  if (open.length === 0) return null;
  return (
    <section aria-label="Suggestions" className="space-y-2 rounded-lg border border-sky-200 bg-sky-50/60 p-3 dark:border-sky-900 dark:bg-sky-950/40">
      <ul className="space-y-2 text-sm">
        {open.map((suggestion) => {
          const name = nameOf(suggestion);
          const label = `${FIELD_LABELS[suggestion.field]} ${name}`;
          return (
            <li
              key={suggestion.id}
              className="flex items-start justify-between gap-3"
              data-testid="suggestion"
              data-field={suggestion.field}
              data-name={suggestion.name}
              data-source={suggestion.source}
            >
              <p className="min-w-0 text-slate-800 dark:text-slate-200">
                <span className="mr-1.5">
                  <Badge tone={suggestion.source === "rule" ? "neutral" : "brand"}>{SOURCE_LABELS[suggestion.source]}</Badge>
                </span>
                Suggested {FIELD_LABELS[suggestion.field]}: <span className="font-medium text-slate-900 dark:text-white">{name}</span>
                <span className="text-slate-600 dark:text-slate-400">
                  {" — "}
                  <Confidence value={suggestion.confidence} />
                  {" · "}
                  {reasonOf(suggestion)}
                </span>
              </p>
              {canEdit && (
                <div className="flex shrink-0 gap-1.5">
                  <button
                    type="button"
                    className={buttonClass.small}
                    disabled={decide.busy}
                    aria-label={`Accept ${label}`}
                    onClick={() => void decide.run(suggestion, "accept")}
                  >
                    Accept
                  </button>
                  <button
                    type="button"
                    className={buttonClass.small}
                    disabled={decide.busy}
                    aria-label={`Reject ${label}`}
                    onClick={() => void decide.run(suggestion, "reject")}
                  >
                    Reject
                  </button>
                </div>
              )}
            </li>
          );
        })}
      </ul>
      {decide.error !== null && <Alert tone="danger">{decide.error.message}</Alert>}
    </section>
  );
}

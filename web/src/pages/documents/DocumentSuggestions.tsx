/**
 * The open suggestions of a document, at the top of its Details tab: what Nubes proposes (a type, a correspondent,
 * a tag), how sure it is and why (the rule and the words that matched it), with Accept and Reject.
 */
import { decideSuggestion, type Document, type Suggestion } from "../../api/documents";
import { useSuggestions } from "../../api/documentsQueries";
import { useInvalidate } from "../../api/queryClient";
import { documentsKeys } from "../../api/queryKeys";
import { buttonClass } from "../../components/Button";
import { Alert } from "../../components/Form";
import { useAction } from "../../lib/useAction";

const FIELD_LABELS: Record<Suggestion["field"], string> = { type: "type", correspondent: "correspondent", tag: "tag" };

/** Why, in words: the matched words and the rule, e.g. matched “invoice” (rule any: invoice bill). */
function reasonOf(suggestion: Suggestion): string {
  const words = suggestion.reason.words.map((word) => `“${word}”`).join(", ");
  const rule = suggestion.reason.rule === "" ? "" : ` (rule ${suggestion.reason.rule})`;
  return words === "" ? `rule ${suggestion.reason.rule}` : `matched ${words}${rule}`;
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
          const label = `${FIELD_LABELS[suggestion.field]} ${suggestion.name}`;
          return (
            <li key={suggestion.id} className="flex items-start justify-between gap-3" data-testid="suggestion" data-field={suggestion.field} data-name={suggestion.name}>
              <p className="min-w-0 text-slate-800 dark:text-slate-200">
                Suggested {FIELD_LABELS[suggestion.field]}: <span className="font-medium text-slate-900 dark:text-white">{suggestion.name}</span>
                <span className="text-slate-600 dark:text-slate-400">
                  {" "}
                  — {Math.round(suggestion.confidence * 100)}% · {reasonOf(suggestion)}
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

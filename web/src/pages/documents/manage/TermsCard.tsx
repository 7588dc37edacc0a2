/**
 * Manage: the organization's document types or correspondents — add, rename or change the matching rule that
 * suggests one, delete (their documents stay, without it).
 */
import { useState, type SubmitEvent } from "react";

import { createTerm, deleteTerm, updateTerm, type MatchingRule, type Term, type TermKind } from "../../../api/documents";
import { useTerms } from "../../../api/documentsQueries";
import { useInvalidate } from "../../../api/queryClient";
import { documentsKeys } from "../../../api/queryKeys";
import { buttonClass } from "../../../components/Button";
import { Card, Skeleton } from "../../../components/Card";
import { ConfirmDialog } from "../../../components/Dialog";
import { Alert, Field, inputClass } from "../../../components/Form";
import { FormDialog } from "../../../components/FormDialog";
import { useAction, useConfirm } from "../../../lib/useAction";
import { documentCount, NO_RULE, ruleLabel, ruleOf } from "../vocabulary";
import { MatchingFields } from "./MatchingFields";

const WORDS: Record<TermKind, { title: string; one: string; hint: string }> = {
  types: { title: "Document types", one: "type", hint: "What a document is: Invoice, Contract, Payslip…" },
  correspondents: { title: "Correspondents", one: "correspondent", hint: "Who a document is from or to: a company, an office, a person." },
};

/** Edit a type or correspondent: its name and its matching rule (a bad regex comes back as a 422 shown here). */
function EditTermDialog({ kind, term, onSaved, onClose }: { kind: TermKind; term: Term; onSaved: (saved: Term) => void; onClose: () => void }) {
  const [name, setName] = useState(term.name);
  const [rule, setRule] = useState<MatchingRule>(() => ruleOf(term));
  const { run, busy, error } = useAction(() => updateTerm(kind, term.id, { name: name.trim(), ...rule }), onSaved);
  return (
    <FormDialog title={`Edit ${term.name}`} label={`Edit ${term.name}`} busy={busy} error={error} placedFields={["name", "match", "matching"]} submitLabel="Save" onSubmit={() => void run()} onClose={onClose}>
      <Field label="Name" errors={error?.fieldMessages("name") ?? []}>
        {(control) => <input {...control} data-autofocus className={inputClass} value={name} required maxLength={128} onChange={(event) => { setName(event.target.value); }} />}
      </Field>
      <MatchingFields rule={rule} error={error} onChange={setRule} />
    </FormDialog>
  );
}

export function TermsCard({ kind }: { kind: TermKind }) {
  const words = WORDS[kind];
  const terms = useTerms(kind);
  const invalidate = useInvalidate();
  const changed = (): void => void invalidate(documentsKeys.all);
  const [name, setName] = useState("");
  const [rule, setRule] = useState<MatchingRule>(NO_RULE);
  const [notice, setNotice] = useState<string | null>(null);
  const [editing, setEditing] = useState<Term | null>(null);
  const create = useAction((value: string) => createTerm(kind, value, rule), (term) => {
    setName("");
    setRule(NO_RULE);
    setNotice(`Added the ${words.one} ${term.name}.`);
    changed();
  });
  const remove = useConfirm((term: Term) => deleteTerm(kind, term.id), (affected, term) => {
    setNotice(`Deleted ${term.name}: ${documentCount(affected)} of your organization lost it.`);
    changed();
  });

  const submit = (event: SubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    setNotice(null);
    void create.run(name.trim());
  };

  return (
    <Card title={words.title}>
      <p className="-mt-2 mb-3 text-xs text-slate-500 dark:text-slate-400">{words.hint}</p>
      <form className="space-y-2" aria-label={`New ${words.one}`} onSubmit={submit}>
        <div className="flex items-start gap-2">
          <div className="min-w-0 flex-1">
            <Field label={`New ${words.one}`} errors={create.error?.fieldMessages("name") ?? []}>
              {(control) => <input {...control} className={inputClass} value={name} required maxLength={128} onChange={(event) => { setName(event.target.value); }} />}
            </Field>
          </div>
          <button type="submit" className={`${buttonClass.primary} mt-7`} disabled={create.busy}>
            {create.busy ? "Adding…" : "Add"}
          </button>
        </div>
        <MatchingFields rule={rule} error={create.error} onChange={setRule} />
      </form>
      <div className="mt-3 space-y-2">
        {create.error !== null && ["name", "match", "matching"].every((field) => create.error?.fieldMessages(field).length === 0) && <Alert tone="danger">{create.error.message}</Alert>}
        {terms.error !== null && <Alert tone="danger">{terms.error.message}</Alert>}
        {notice !== null && <Alert tone="success">{notice}</Alert>}
      </div>
      {terms.data === undefined ? (
        terms.isFetching && <Skeleton className="mt-3 h-16 w-full" />
      ) : (
        <ul className="mt-3 divide-y divide-slate-200 text-sm dark:divide-slate-800" aria-label={words.title} data-testid={`manage-${kind}`}>
          {terms.data.map((term) => (
            <li key={term.id} className="flex items-center justify-between gap-3 py-2" data-testid="term-row" data-name={term.name}>
              <div className="min-w-0">
                <span className="font-medium text-slate-900 dark:text-white">{term.name}</span>
                <span className="ml-2 text-xs text-slate-500 dark:text-slate-400">{documentCount(term.document_count)} of yours</span>
                {ruleLabel(term) !== null && (
                  <span className="block truncate font-mono text-xs text-slate-500 dark:text-slate-400" data-testid="term-rule" title="Suggested when the text matches this rule">
                    {ruleLabel(term)}
                  </span>
                )}
              </div>
              <div className="flex shrink-0 gap-2">
                <button type="button" className={buttonClass.small} aria-label={`Edit ${term.name}`} onClick={() => { setEditing(term); }}>
                  Edit
                </button>
                <button type="button" className={buttonClass.smallDanger} aria-label={`Delete ${term.name}`} onClick={() => { remove.ask(term); }}>
                  Delete
                </button>
              </div>
            </li>
          ))}
          {terms.data.length === 0 && <li className="py-2 text-slate-500 dark:text-slate-400">No {kind} yet.</li>}
        </ul>
      )}
      {editing !== null && (
        <EditTermDialog
          key={editing.id}
          kind={kind}
          term={editing}
          onSaved={(saved) => {
            setNotice(`Saved the ${words.one} ${saved.name}.`);
            setEditing(null);
            changed();
          }}
          onClose={() => { setEditing(null); }}
        />
      )}
      <ConfirmDialog title={`Delete the ${words.one} ${remove.target?.name ?? ""}?`} confirmLabel="Delete" {...remove.dialog}>
        {remove.target !== null && (
          <p>
            {remove.target.document_count > 0 ? `${documentCount(remove.target.document_count)} of yours have it` : "None of your documents have it"} (others in your
            organization may). Documents stay; they lose this {words.one}.
          </p>
        )}
      </ConfirmDialog>
    </Card>
  );
}

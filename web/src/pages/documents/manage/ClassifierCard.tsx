/**
 * Manage: the organization's classifier — whether it is up to date, queued or training, when it last trained and on
 * how many confirmed documents, what it can suggest per field (with how many examples each), why it cannot yet, and
 * "Retrain now".
 */
import { useQueryClient } from "@tanstack/react-query";

import { classifierKey, retrainClassifier, useClassifier, type ClassifierField, type ClassifierStatus } from "../../../api/documentsClassifier";
import { Badge, type BadgeTone } from "../../../components/Badge";
import { buttonClass } from "../../../components/Button";
import { Card, Skeleton } from "../../../components/Card";
import { Alert } from "../../../components/Form";
import { describeTimestamp, formatShortDateTime } from "../../../lib/format";
import { useAction } from "../../../lib/useAction";

const FIELD_LABELS: Record<ClassifierField["field"], string> = { type: "Types", correspondent: "Correspondents", tag: "Tags", category: "Categories" };
const STATES: Record<ClassifierStatus["state"], { label: string; tone: BadgeTone }> = {
  idle: { label: "Up to date", tone: "success" },
  queued: { label: "Queued", tone: "warning" },
  training: { label: "Training…", tone: "brand" },
};

function StateLine({ status }: { status: ClassifierStatus }) {
  const trained = describeTimestamp(status.trained_at);
  const state = status.trained_at === null && status.state === "idle" ? { label: "Not trained", tone: "neutral" as const } : STATES[status.state];
  return (
    <div className="flex flex-wrap items-center gap-x-3 gap-y-1 text-sm text-slate-700 dark:text-slate-300">
      <Badge tone={state.tone}>{state.label}</Badge>
      {status.state === "queued" && status.queued_for !== null && <span>starts {formatShortDateTime(new Date(status.queued_for))}</span>}
      <span title={trained.title}>
        Last trained: {status.trained_at === null ? "never" : `${trained.text}, on ${status.documents} confirmed document${status.documents === 1 ? "" : "s"}`}
      </span>
    </div>
  );
}

function FieldRow({ field }: { field: ClassifierField }) {
  return (
    <div className="py-2" data-testid="classifier-field" data-field={field.field}>
      <dt className="text-xs font-medium uppercase tracking-wide text-slate-500 dark:text-slate-400">{FIELD_LABELS[field.field]}</dt>
      <dd className="mt-1 text-sm">
        {field.classes.length > 0 ? (
          <ul className="flex flex-wrap gap-1.5">
            {field.classes.map((known) => (
              <li key={known.id}>
                <Badge tone="brand">
                  {known.name}
                  <span className="text-sky-600/80 dark:text-sky-300/80" title={`Learnt from ${known.examples} confirmed documents`}>
                    {known.examples}
                  </span>
                </Badge>
              </li>
            ))}
          </ul>
        ) : (
          <p className="text-slate-500 dark:text-slate-400">{field.note ?? "Nothing learnt yet."}</p>
        )}
      </dd>
    </div>
  );
}

export function ClassifierCard() {
  const status = useClassifier();
  const queryClient = useQueryClient();
  const retrain = useAction(retrainClassifier, (result) => {
    queryClient.setQueryData(classifierKey, result);
  });
  const data = status.data;
  const busy = retrain.busy || data?.state === "training";
  return (
    <Card
      title="Classifier"
      className="lg:col-span-2"
      action={
        <button type="button" className={buttonClass.small} disabled={busy || data === undefined} onClick={() => void retrain.run()}>
          {data?.state === "training" ? "Training…" : retrain.busy ? "Queuing…" : "Retrain now"}
        </button>
      }
    >
      <p className="-mt-2 mb-3 text-xs text-slate-500 dark:text-slate-400">
        Learns on this server from the documents people confirmed, and suggests types, correspondents, tags and categories with the words that drove each
        suggestion (dates come from the text). It trains again a minute after someone confirms or rejects a suggestion.
      </p>
      {status.error !== null && <Alert tone="danger">{status.error.message}</Alert>}
      {retrain.error !== null && <Alert tone="danger">{retrain.error.message}</Alert>}
      {data === undefined ? (
        status.isFetching && <Skeleton className="h-24 w-full" />
      ) : (
        <div className="space-y-3" data-testid="classifier-status" data-state={data.state}>
          <StateLine status={data} />
          {data.problem !== null && <Alert tone="info">{data.problem}</Alert>}
          <dl className="divide-y divide-slate-100 dark:divide-slate-800">
            {data.fields.map((field) => (
              <FieldRow key={field.field} field={field} />
            ))}
          </dl>
          <p className="text-xs text-slate-500 dark:text-slate-400">
            A value is learnt from {data.min_examples} confirmed documents with it and {data.min_examples} without it; it is suggested from {Math.round(data.threshold * 100)}%
            confidence.
          </p>
        </div>
      )}
    </Card>
  );
}

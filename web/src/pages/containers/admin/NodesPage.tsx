/** /admin/nodes (platform administrators): every node with its agent status and capacity bars; add a node (its one-time registration command), revoke one. */
import { useState, type SubmitEvent } from "react";
import { Link } from "react-router";

import { useClusters, useNodes, useRevokeNode } from "../../../api/containerQueries";
import { useInvalidate } from "../../../api/queryClient";
import { containerKeys } from "../../../api/queryKeys";
import { createNode, type Node, type NodeCreated } from "../../../api/containers";
import { Badge, type BadgeTone } from "../../../components/Badge";
import { AddButton } from "../../../components/AddButton";
import { buttonClass } from "../../../components/Button";
import { Card, Skeleton } from "../../../components/Card";
import { ConfirmDialog, Dialog } from "../../../components/Dialog";
import { Alert, Field, inputClass } from "../../../components/Form";
import { PageHeader } from "../../../components/PageHeader";
import { useDocumentTitle } from "../../../hooks/useDocumentTitle";
import { describeTimestamp } from "../../../lib/format";
import { useAction } from "../../../lib/useAction";
import { useTask } from "../../../lib/useAction";

const STATUS_TONES: Record<string, BadgeTone> = { online: "success", offline: "danger", pending: "warning", revoked: "neutral" };
const REFRESH_MS = 5000;

/** One capacity bar: reserved out of total (the overallocation allowance beyond 100% shown as a marker). */
function CapacityBar({ label, used, total, unit, overallocate }: { label: string; used: number; total: number; unit: string; overallocate: number }) {
  const ceiling = total * (1 + overallocate / 100);
  const percent = total > 0 ? (used / total) * 100 : 0;
  const tone = percent > 100 ? "bg-rose-500" : percent > 80 ? "bg-amber-500" : "bg-sky-500";
  return (
    <div className="min-w-[10rem]" data-testid={`capacity-${label.toLowerCase()}`}>
      <div className="flex justify-between text-xs text-slate-600 dark:text-slate-400">
        <span>{label}</span>
        <span>
          {used} / {total}
          {unit} {overallocate > 0 && <span className="text-slate-400">(≤ {Math.round(ceiling)})</span>}
        </span>
      </div>
      <div
        className="mt-1 h-2 overflow-hidden rounded-full bg-slate-200 dark:bg-slate-800"
        role="meter"
        aria-label={`${label} reserved`}
        aria-valuemin={0}
        aria-valuemax={total}
        aria-valuenow={used}
      >
        <div className={`h-full rounded-full ${tone}`} style={{ width: `${Math.min(100, percent).toFixed(1)}%` }} />
      </div>
    </div>
  );
}

function CopyButton({ text }: { text: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      className={buttonClass.small}
      onClick={() => {
        void navigator.clipboard.writeText(text).then(
          () => { setCopied(true); },
          () => { setCopied(false); },
        );
      }}
    >
      {copied ? "Copied" : "Copy"}
    </button>
  );
}

function NewNodeForm({ onCreated }: { onCreated: (node: NodeCreated) => void }) {
  const clusters = useClusters();
  const [name, setName] = useState("");
  const [clusterId, setClusterId] = useState("");
  const [cpu, setCpu] = useState("400");
  const [memory, setMemory] = useState("4096");
  const [disk, setDisk] = useState("20000");
  const [overallocate, setOverallocate] = useState("0");
  const { run, busy, error } = useTask();
  const cluster = clusterId !== "" ? clusterId : (clusters.data?.[0]?.id ?? "");

  const submit = async (event: SubmitEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    await run(async () => {
      onCreated(
        await createNode({
          name: name.trim(),
          cluster_id: cluster,
          cpu: Number(cpu),
          memory_mb: Number(memory),
          disk_mb: Number(disk),
          overallocate_percent: Number(overallocate),
          labels: {},
        }),
      );
    });
  };
  const errors = (field: string): string[] => error?.fieldMessages(field) ?? [];

  if (clusters.data?.length === 0) return <Alert tone="info">Create a cluster first (Admin → Clusters): every node belongs to one.</Alert>;
  return (
    <form className="grid gap-4 sm:grid-cols-2" onSubmit={(event) => void submit(event)} aria-label="New node">
      <Field label="Name" errors={errors("name")}>
        {(control) => <input {...control} data-autofocus className={inputClass} value={name} required maxLength={100} onChange={(e) => { setName(e.target.value); }} />}
      </Field>
      <Field label="Cluster" errors={errors("cluster_id")}>
        {(control) => (
          <select {...control} className={inputClass} value={cluster} onChange={(e) => { setClusterId(e.target.value); }}>
            {clusters.data?.map((item) => (
              <option key={item.id} value={item.id}>
                {item.name}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="CPU (% of one core)" hint="400 means four cores." errors={errors("cpu")}>
        {(control) => <input {...control} type="number" min={1} className={inputClass} value={cpu} onChange={(e) => { setCpu(e.target.value); }} />}
      </Field>
      <Field label="Memory (MiB)" errors={errors("memory_mb")}>
        {(control) => <input {...control} type="number" min={64} className={inputClass} value={memory} onChange={(e) => { setMemory(e.target.value); }} />}
      </Field>
      <Field label="Disk (MiB)" errors={errors("disk_mb")}>
        {(control) => <input {...control} type="number" min={64} className={inputClass} value={disk} onChange={(e) => { setDisk(e.target.value); }} />}
      </Field>
      <Field label="Overallocation (%)" hint="How far limits may exceed capacity." errors={errors("overallocate_percent")}>
        {(control) => <input {...control} type="number" min={0} className={inputClass} value={overallocate} onChange={(e) => { setOverallocate(e.target.value); }} />}
      </Field>
      {error !== null && (
        <div className="sm:col-span-2">
          <Alert tone="danger">{error.message}</Alert>
        </div>
      )}
      <div className="flex justify-end sm:col-span-2">
        <button type="submit" className={buttonClass.primary} disabled={busy || cluster === ""}>
          {busy ? "Adding…" : "Add node"}
        </button>
      </div>
    </form>
  );
}

function Registration({ node }: { node: NodeCreated }) {
  const expires = describeTimestamp(node.registration_expires_at);
  return (
    <div className="space-y-4" data-testid="registration">
      <p className="text-sm text-slate-600 dark:text-slate-300">
        Run this on the machine that becomes <strong>{node.name}</strong>. The token works once and expires {expires.text}; it is not shown again.
      </p>
      <div className="flex items-start gap-2">
        <code data-testid="agent-command" className="block flex-1 rounded-lg bg-slate-950 p-3 font-mono text-xs break-all text-slate-100">
          {node.agent_command}
        </code>
        <CopyButton text={node.agent_command} />
      </div>
    </div>
  );
}

export function NodesPage() {
  useDocumentTitle("Nodes");
  const nodes = useNodes(REFRESH_MS);
  const clusters = useClusters();
  const invalidate = useInvalidate();
  const revoke = useRevokeNode();
  const [adding, setAdding] = useState(false);
  const [created, setCreated] = useState<NodeCreated | null>(null);
  const [revoking, setRevoking] = useState<Node | null>(null);
  const { run, busy, error, setError } = useAction(revoke.mutateAsync, () => {
    setRevoking(null);
  });

  const clusterName = (id: string): string => clusters.data?.find((item) => item.id === id)?.name ?? id.slice(0, 8);

  return (
    <>
      <PageHeader
        title="Nodes"
        description={
          <>
            The machines that run containers. Each runs <code className="font-mono text-sm">nubes agent</code>, which keeps one connection to this server.
          </>
        }
        actions={
          <AddButton label="Add node" onClick={() => { setCreated(null); setAdding(true); }} />
        }
      />
      {nodes.error !== null && <Alert tone="danger">{nodes.error.message}</Alert>}
      {nodes.data === undefined && nodes.error === null && <Skeleton className="h-24 w-full" />}
      <div className="space-y-4">
        {nodes.data?.map((node) => {
          const heartbeat = describeTimestamp(node.last_heartbeat_at);
          return (
            <Card key={node.id}>
              <div className="flex flex-wrap items-start justify-between gap-4" data-testid={`node-${node.name}`}>
                <div>
                  <div className="flex items-center gap-3">
                    <h2 className="text-lg font-semibold text-slate-900 dark:text-white">{node.name}</h2>
                    <Badge tone={STATUS_TONES[node.status] ?? "neutral"}>{node.status}</Badge>
                  </div>
                  <p className="mt-1 text-sm text-slate-600 dark:text-slate-400">
                    Cluster {clusterName(node.cluster_id)} · agent {node.agent_version || "not connected yet"} · last heartbeat{" "}
                    <span title={heartbeat.title}>{node.last_heartbeat_at === null ? "never" : heartbeat.text}</span>
                  </p>
                  <p className="mt-1 text-xs text-slate-500">
                    {node.allocated?.containers ?? 0} container{(node.allocated?.containers ?? 0) === 1 ? "" : "s"} · {node.allocated?.allocations_used ?? 0} of {node.allocated?.allocations ?? 0} ports in use
                  </p>
                </div>
                <div className="flex gap-2">
                  <Link to={`/admin/nodes/${node.id}`} className={buttonClass.small}>
                    Allocations
                  </Link>
                  {node.status !== "revoked" && (
                    <button type="button" className={buttonClass.smallDanger} onClick={() => { setError(null); setRevoking(node); }}>
                      Revoke
                    </button>
                  )}
                </div>
              </div>
              <div className="mt-4 grid gap-4 sm:grid-cols-3">
                <CapacityBar label="CPU" used={node.allocated?.cpu ?? 0} total={node.cpu} unit="%" overallocate={node.overallocate_percent} />
                <CapacityBar label="Memory" used={node.allocated?.memory_mb ?? 0} total={node.memory_mb} unit=" MiB" overallocate={node.overallocate_percent} />
                <CapacityBar label="Disk" used={node.allocated?.disk_mb ?? 0} total={node.disk_mb} unit=" MiB" overallocate={node.overallocate_percent} />
              </div>
            </Card>
          );
        })}
        {nodes.data?.length === 0 && <Alert tone="info">No nodes yet. Add one, then run the command it shows on that machine.</Alert>}
      </div>
      <Dialog
        open={adding}
        title={created === null ? "Add a node" : "Register the agent"}
        onClose={() => {
          setAdding(false);
          setCreated(null);
        }}
      >
        {created === null ? (
          <NewNodeForm
            onCreated={(node) => {
              setCreated(node);
              void invalidate(containerKeys.nodes);
            }}
          />
        ) : (
          <Registration node={created} />
        )}
      </Dialog>
      <ConfirmDialog
        open={revoking !== null}
        title={`Revoke ${revoking?.name ?? ""}?`}
        confirmLabel="Revoke"
        busy={busy}
        error={error?.message}
        onCancel={() => { setRevoking(null); }}
        onConfirm={() => {
          if (revoking === null) return;
          void run(revoking.id);
        }}
      >
        Its credential stops working at once and its agent is disconnected; the containers placed on it can no longer be managed through Nubes.
      </ConfirmDialog>
    </>
  );
}

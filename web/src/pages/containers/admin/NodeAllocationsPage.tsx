/** /admin/nodes/:nodeId (platform administrators): a node's ip:port allocations, which container uses each, and adding ports or ranges. */
import { useState, type SubmitEvent } from "react";
import { Link, useParams } from "react-router";

import { useAllocations, useNode } from "../../../api/containerQueries";
import { addAllocations } from "../../../api/containers";
import { useInvalidate } from "../../../api/queryClient";
import { containerKeys } from "../../../api/queryKeys";
import { Badge } from "../../../components/Badge";
import { buttonClass } from "../../../components/Button";
import { Card } from "../../../components/Card";
import { DataTable } from "../../../components/DataTable";
import { Alert, Field, inputClass } from "../../../components/Form";
import { PageHeader } from "../../../components/PageHeader";
import { useDocumentTitle } from "../../../hooks/useDocumentTitle";
import { useAction } from "../../../lib/useAction";

function AddAllocations({ nodeId, onAdded }: { nodeId: string; onAdded: (count: number) => void }) {
  const [ip, setIp] = useState("0.0.0.0");
  const [ports, setPorts] = useState("");
  const { run, busy, error } = useAction(addAllocations, (added) => {
    setPorts("");
    onAdded(added.length);
  });
  const submit = async (event: SubmitEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    const items = ports.split(/[\s,]+/).filter((item) => item !== "");
    await run(nodeId, { ip: ip.trim(), ports: items });
  };
  return (
    <form className="grid gap-4 sm:grid-cols-[12rem_1fr_auto] sm:items-start" onSubmit={(event) => void submit(event)} aria-label="Add allocations">
      <Field label="IP address" errors={error?.fieldMessages("ip") ?? []}>
        {(control) => <input {...control} className={inputClass} value={ip} required onChange={(e) => { setIp(e.target.value); }} />}
      </Field>
      <Field label="Ports" hint="Ports and ranges, separated by commas or spaces: 25565, 25600-25610" errors={error?.fieldMessages("ports") ?? []}>
        {(control) => <input {...control} className={inputClass} value={ports} required placeholder="25600-25610" onChange={(e) => { setPorts(e.target.value); }} />}
      </Field>
      <button type="submit" className={`${buttonClass.primary} sm:mt-7`} disabled={busy}>
        {busy ? "Adding…" : "Add"}
      </button>
      {error !== null && error.fieldMessages("ip").length + error.fieldMessages("ports").length === 0 && (
        <div className="sm:col-span-3">
          <Alert tone="danger">{error.message}</Alert>
        </div>
      )}
    </form>
  );
}

export function NodeAllocationsPage() {
  const { nodeId = "" } = useParams();
  const node = useNode(nodeId);
  const allocations = useAllocations(nodeId);
  const invalidate = useInvalidate();
  const [added, setAdded] = useState<number | null>(null);
  useDocumentTitle(node.data ? `${node.data.name} allocations` : "Allocations");
  const items = allocations.data ?? [];
  const used = items.filter((item) => item.container_id !== null).length;
  return (
    <>
      <Link to="/admin/nodes" className="mb-4 inline-block text-sm text-sky-700 hover:underline dark:text-sky-300">
        ← Nodes
      </Link>
      <PageHeader
        title={`Allocations of ${node.data?.name ?? "…"}`}
        description="The ip:port pairs containers on this node may bind; each new container takes a free one."
      />
      {node.error !== null && <Alert tone="danger">{node.error.message}</Alert>}
      <div className="space-y-6">
        <Card title="Add ports">
          <AddAllocations
            nodeId={nodeId}
            onAdded={(count) => {
              setAdded(count);
              // The node's key holds its allocations' key, and the nodes list shows the free-port count.
              void invalidate(containerKeys.node(nodeId), containerKeys.nodes);
            }}
          />
          {added !== null && (
            <p className="mt-3 text-sm text-emerald-700 dark:text-emerald-300" role="status">
              {added === 0 ? "Those ports were all there already." : `${added} port(s) added.`}
            </p>
          )}
        </Card>
        <Card title={`${items.length} allocations, ${used} in use`}>
          {allocations.error !== null && <Alert tone="danger">{allocations.error.message}</Alert>}
          <DataTable
            look="plain"
            testId="allocations"
            columns={["Address", "Used by"]}
            rows={items}
            empty="No allocations yet: containers cannot be placed on this node until it has free ports."
            renderRow={(item) => (
              <tr key={item.id} className="border-t border-slate-200 dark:border-slate-800">
                <td className="py-2 pr-4 font-mono">
                  {item.ip}:{item.port}
                </td>
                <td className="py-2">
                  {item.container_id === null ? (
                    <Badge tone="success">free</Badge>
                  ) : (
                    <Link to={`/containers/${item.container_id}`} className="font-mono text-xs text-sky-700 hover:underline dark:text-sky-300">
                      container {item.container_id.slice(0, 8)}
                    </Link>
                  )}
                </td>
              </tr>
            )}
          />
        </Card>
      </div>
    </>
  );
}

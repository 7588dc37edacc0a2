/** /admin/clusters (platform administrators): the clusters nodes belong to and containers are placed in; create one. */
import { useState, type SubmitEvent } from "react";

import { useClusters, useCreateCluster, useNodes } from "../../../api/containerQueries";
import { buttonClass } from "../../../components/Button";
import { Card } from "../../../components/Card";
import { DataTable } from "../../../components/DataTable";
import { Alert, Field, inputClass } from "../../../components/Form";
import { PageHeader } from "../../../components/PageHeader";
import { useDocumentTitle } from "../../../hooks/useDocumentTitle";
import { describeTimestamp } from "../../../lib/format";
import { useAction } from "../../../lib/useAction";

export function ClustersPage() {
  useDocumentTitle("Clusters");
  const clusters = useClusters();
  const nodes = useNodes();
  const create = useCreateCluster();
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const { run, busy, error } = useAction(create.mutateAsync, () => {
    setName("");
    setDescription("");
  });

  const submit = async (event: SubmitEvent<HTMLFormElement>): Promise<void> => {
    event.preventDefault();
    await run({ name: name.trim(), description: description.trim() });
  };

  return (
    <>
      <PageHeader title="Clusters" description="Groups of nodes. A new container names a cluster; Nubes picks a node of it with room." />
      <div className="space-y-6">
        <Card title="New cluster">
          <form className="grid gap-4 sm:grid-cols-[16rem_1fr_auto] sm:items-start" onSubmit={(event) => void submit(event)} aria-label="New cluster">
            <Field label="Name" errors={error?.fieldMessages("name") ?? []}>
              {(control) => <input {...control} className={inputClass} value={name} required maxLength={100} onChange={(e) => { setName(e.target.value); }} />}
            </Field>
            <Field label="Description" optional errors={error?.fieldMessages("description") ?? []}>
              {(control) => <input {...control} className={inputClass} value={description} maxLength={500} onChange={(e) => { setDescription(e.target.value); }} />}
            </Field>
            <button type="submit" className={`${buttonClass.primary} sm:mt-7`} disabled={busy}>
              {busy ? "Creating…" : "Create"}
            </button>
            {error !== null && error.fieldMessages("name").length === 0 && (
              <div className="sm:col-span-3">
                <Alert tone="danger">{error.message}</Alert>
              </div>
            )}
          </form>
        </Card>
        <Card>
          {clusters.error !== null && <Alert tone="danger">{clusters.error.message}</Alert>}
          <DataTable
            look="plain"
            testId="clusters"
            columns={["Name", "Description", "Nodes", "Created"]}
            rows={clusters.data}
            empty="No clusters yet."
            renderRow={(cluster) => {
              const members = nodes.data?.filter((node) => node.cluster_id === cluster.id) ?? [];
              const online = members.filter((node) => node.status === "online").length;
              return (
                <tr key={cluster.id} className="border-t border-slate-200 dark:border-slate-800">
                  <td className="py-2 pr-4 font-medium">{cluster.name}</td>
                  <td className="py-2 pr-4 text-slate-600 dark:text-slate-400">{cluster.description || "–"}</td>
                  <td className="py-2 pr-4">
                    {members.length} ({online} online)
                  </td>
                  <td className="py-2">{describeTimestamp(cluster.created_at).text}</td>
                </tr>
              );
            }}
          />
        </Card>
      </div>
    </>
  );
}

/** Containers: the tenant's containers with their live state, power actions, and a form to create one from an egg. */
import { useCallback, useEffect, useState, type SubmitEvent } from "react";

import {
  createContainer,
  deleteContainer,
  listClusters,
  listContainers,
  listEggs,
  powerContainer,
  type Container,
  type Egg,
  type PowerAction,
} from "../../api/containers";
import { toApiError, type ApiError } from "../../api/problem";
import { Badge, type BadgeTone } from "../../components/Badge";
import { buttonClass } from "../../components/Button";
import { Card } from "../../components/Card";
import { EmptyState } from "../../components/EmptyState";
import { Alert, Field, inputClass } from "../../components/Form";
import { ContainerIcon } from "../../components/icons";
import { PageHeader } from "../../components/PageHeader";
import { useResource } from "../../hooks/useResource";

const REFRESH_MS = 3000;

const STATE_TONES: Record<string, BadgeTone> = {
  running: "success",
  starting: "brand",
  stopping: "brand",
  installing: "brand",
  deleting: "warning",
  stopped: "neutral",
  crashed: "danger",
  install_failed: "danger",
};

/** Which power actions make sense in a state (the server refuses the others with 409 anyway). */
function actionsFor(state: string): PowerAction[] {
  if (state === "running") return ["restart", "stop", "kill"];
  if (state === "stopped" || state === "crashed") return ["start"];
  if (state === "starting" || state === "stopping") return ["kill"];
  return [];
}

function CreateContainerCard({ onCreated }: { onCreated: () => void }) {
  const eggs = useResource(listEggs);
  const clusters = useResource(listClusters);
  const [name, setName] = useState("");
  const [eggId, setEggId] = useState("");
  const [clusterId, setClusterId] = useState("");
  const [memory, setMemory] = useState("512");
  const [values, setValues] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  const egg: Egg | undefined = eggId !== "" ? eggs.data?.find((item) => item.id === eggId) : eggs.data?.[0];
  const cluster = clusterId !== "" ? clusterId : (clusters.data?.[0]?.id ?? "");

  async function submit(event: SubmitEvent<HTMLFormElement>) {
    event.preventDefault();
    if (egg === undefined || !cluster) return;
    setBusy(true);
    setError(null);
    try {
      const environment: Record<string, string> = {};
      for (const variable of egg.variables) {
        const value = values[variable.env_variable];
        if (variable.user_editable && value !== undefined) environment[variable.env_variable] = value;
      }
      await createContainer({ name, egg_id: egg.id, cluster_id: cluster, environment, limits: { cpu: 100, memory_mb: Number(memory), disk_mb: 1024, pids: 256 }, start: true });
      setName("");
      onCreated();
    } catch (caught) {
      setError(toApiError(caught));
    } finally {
      setBusy(false);
    }
  }

  if (eggs.data?.length === 0) {
    return (
      <Alert tone="info">No eggs yet: a platform administrator imports Pterodactyl eggs with POST /api/eggs/import.</Alert>
    );
  }
  return (
    <Card title="New container">
      <form onSubmit={(event) => void submit(event)} className="grid gap-4 sm:grid-cols-2" aria-label="New container">
        <Field label="Name">{(control) => <input {...control} className={inputClass} value={name} onChange={(e) => { setName(e.target.value); }} required maxLength={100} />}</Field>
        <Field label="Egg">
          {(control) => (
            <select {...control} className={inputClass} value={egg?.id ?? ""} onChange={(e) => { setEggId(e.target.value); setValues({}); }}>
              {eggs.data?.map((item) => (
                <option key={item.id} value={item.id}>
                  {item.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Cluster">
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
        <Field label="Memory (MiB)">{(control) => <input {...control} className={inputClass} type="number" min={4} value={memory} onChange={(e) => { setMemory(e.target.value); }} />}</Field>
        {egg?.variables
          .filter((variable) => variable.user_editable)
          .map((variable) => (
            <Field key={variable.env_variable} label={variable.name} hint={`${variable.description} (${variable.rules || "no rules"})`} errors={error?.fieldMessages(variable.env_variable) ?? []}>
              {(control) => (
                <input
                  {...control}
                  className={inputClass}
                  value={values[variable.env_variable] ?? variable.default_value}
                  onChange={(e) => { setValues({ ...values, [variable.env_variable]: e.target.value }); }}
                />
              )}
            </Field>
          ))}
        <div className="flex items-end sm:col-span-2">
          <button type="submit" className={buttonClass.primary} disabled={busy || egg === undefined || !cluster}>
            {busy ? "Creating…" : "Create and start"}
          </button>
        </div>
        {error !== null && (
          <div className="sm:col-span-2">
            <Alert tone="danger" testId="create-error">
              {error.message}
            </Alert>
          </div>
        )}
      </form>
    </Card>
  );
}

function ContainerRow({ container, onChanged }: { container: Container; onChanged: () => void }) {
  const [error, setError] = useState<string | null>(null);
  async function act(call: () => Promise<unknown>) {
    setError(null);
    try {
      await call();
      onChanged();
    } catch (caught) {
      setError(toApiError(caught).message);
    }
  }
  return (
    <tr className="border-t border-slate-200 dark:border-slate-800" data-testid={`container-${container.name}`}>
      <td className="py-3 pr-4 font-medium text-slate-900 dark:text-white">{container.name}</td>
      <td className="py-3 pr-4">
        <Badge tone={STATE_TONES[container.state] ?? "neutral"}>{container.state.replace("_", " ")}</Badge>
        {container.state_reason && <p className="mt-1 text-xs text-slate-500 dark:text-slate-400">{container.state_reason}</p>}
        {error !== null && <p className="mt-1 text-xs text-rose-700 dark:text-rose-300">{error}</p>}
      </td>
      <td className="py-3 pr-4 text-sm text-slate-600 dark:text-slate-400">{(container.ports ?? []).map((port) => `${port.ip}:${port.port}`).join(", ")}</td>
      <td className="py-3 pr-4 text-sm text-slate-600 dark:text-slate-400">
        {container.memory_mb} MiB · {container.cpu}% CPU
      </td>
      <td className="py-3">
        <div className="flex flex-wrap gap-2">
          {actionsFor(container.state).map((action) => (
            <button key={action} type="button" className={buttonClass.small} onClick={() => void act(() => powerContainer(container.id, action))}>
              {action}
            </button>
          ))}
          {container.state !== "deleting" && (
            <button type="button" className={buttonClass.smallDanger} onClick={() => void act(() => deleteContainer(container.id))}>
              delete
            </button>
          )}
        </div>
      </td>
    </tr>
  );
}

export function ContainersPage() {
  const load = useCallback((signal: AbortSignal) => listContainers(signal), []);
  const containers = useResource(load);
  const { reload } = containers;
  useEffect(() => {
    const timer = window.setInterval(reload, REFRESH_MS);
    return () => {
      window.clearInterval(timer);
    };
  }, [reload]);

  return (
    <div className="space-y-6">
      <PageHeader title="Containers" description="Servers made from eggs, placed on your platform's nodes. States refresh every few seconds." />
      <CreateContainerCard onCreated={reload} />
      {containers.error !== null && <Alert tone="danger">{containers.error.message}</Alert>}
      {containers.data?.items.length === 0 ? (
        <EmptyState icon={ContainerIcon} title="No containers yet">
          Create one above: pick an egg, fill in its variables, and Nubes installs and starts it on a node with room.
        </EmptyState>
      ) : (
        <Card>
          <table className="w-full text-left text-sm">
            <thead className="text-xs text-slate-500 uppercase dark:text-slate-400">
              <tr>
                <th className="pb-2">Name</th>
                <th className="pb-2">State</th>
                <th className="pb-2">Address</th>
                <th className="pb-2">Limits</th>
                <th className="pb-2">Actions</th>
              </tr>
            </thead>
            <tbody>
              {containers.data?.items.map((container) => (
                <ContainerRow key={container.id} container={container} onChanged={reload} />
              ))}
            </tbody>
          </table>
        </Card>
      )}
    </div>
  );
}

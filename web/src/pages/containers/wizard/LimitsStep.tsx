/** Step 3: name, cluster (and node, for platform administrators), limits, image, ports, restart policy. */
import type { Dispatch, SetStateAction } from "react";

import type { Cluster, Node, Egg } from "../../../api/containers";
import { Field, inputClass } from "../../../components/Form";
import type { Settings } from "./model";

export function LimitsStep({
  egg,
  settings,
  setSettings,
  clusterId,
  clusters,
  nodes,
  canPickNode,
  touched,
  limitErrors,
  serverErrors }: {
  egg: Egg;
  settings: Settings;
  setSettings: Dispatch<SetStateAction<Settings>>;
  clusterId: string;
  clusters: Cluster[] | undefined;
  nodes: Node[] | undefined;
  canPickNode: boolean;
  /** The user pressed Next once: show every client-side error, not only those of changed fields. */
  touched: boolean;
  limitErrors: Record<string, string | null>;
  serverErrors: (field: string) => string[];
}) {
  const setSetting = <K extends keyof Settings>(key: K, value: Settings[K]): void => {
    setSettings((previous) => ({ ...previous, [key]: value }));
  };
  return (
        <div className="grid gap-4 sm:grid-cols-2">
          <Field label="Name" errors={[...(touched && limitErrors.name ? [limitErrors.name] : []), ...serverErrors("name")]}>
            {(control) => <input {...control} className={inputClass} value={settings.name} maxLength={100} onChange={(e) => { setSetting("name", e.target.value); }} />}
          </Field>
          <Field label="Cluster" hint="A node of this cluster with enough free capacity and a free port is chosen." errors={serverErrors("cluster_id")}>
            {(control) => (
              <select
                {...control}
                className={inputClass}
                value={clusterId}
                onChange={(e) => {
                  setSettings((previous) => ({ ...previous, clusterId: e.target.value, nodeId: "" }));
                }}
              >
                {clusters?.map((item) => (
                  <option key={item.id} value={item.id}>
                    {item.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
          {canPickNode && (
            <Field label="Node" hint="Any node of the cluster with room, or this one." errors={serverErrors("node_id")}>
              {(control) => (
                <select {...control} className={inputClass} value={settings.nodeId} onChange={(e) => { setSetting("nodeId", e.target.value); }}>
                  <option value="">Any node with room</option>
                  {nodes
                    ?.filter((node) => node.cluster_id === clusterId && node.status !== "revoked")
                    .map((node) => (
                      <option key={node.id} value={node.id}>
                        {node.name} ({node.status})
                      </option>
                    ))}
                </select>
              )}
            </Field>
          )}
          <Field label="CPU (% of one core)" errors={[...(touched && limitErrors.cpu ? [limitErrors.cpu] : []), ...serverErrors("cpu")]}>
            {(control) => <input {...control} className={inputClass} type="number" min={1} value={settings.cpu} onChange={(e) => { setSetting("cpu", e.target.value); }} />}
          </Field>
          <Field label="Memory (MiB)" errors={[...(touched && limitErrors.memory ? [limitErrors.memory] : []), ...serverErrors("memory_mb")]}>
            {(control) => <input {...control} className={inputClass} type="number" min={4} value={settings.memory} onChange={(e) => { setSetting("memory", e.target.value); }} />}
          </Field>
          <Field label="Disk (MiB)" errors={[...(touched && limitErrors.disk ? [limitErrors.disk] : []), ...serverErrors("disk_mb")]}>
            {(control) => <input {...control} className={inputClass} type="number" min={1} value={settings.disk} onChange={(e) => { setSetting("disk", e.target.value); }} />}
          </Field>
          <Field label="Image">
            {(control) => (
              <select {...control} className={inputClass} value={settings.image} onChange={(e) => { setSetting("image", e.target.value); }}>
                {egg.images.map((image, index) => (
                  <option key={image} value={index === 0 ? "" : image}>
                    {image}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Ports" hint="How many ip:port allocations to bind (1 to 20); the lowest is SERVER_PORT." errors={[...(touched && limitErrors.ports ? [limitErrors.ports] : []), ...serverErrors("allocations")]}>
            {(control) => <input {...control} className={inputClass} type="number" min={1} max={20} value={settings.ports} onChange={(e) => { setSetting("ports", e.target.value); }} />}
          </Field>
          <Field label="Restart policy" hint="What happens when the container exits on its own with an error code." errors={serverErrors("mode")}>
            {(control) => (
              <select
                {...control}
                className={inputClass}
                value={settings.restartMode}
                onChange={(e) => { setSetting("restartMode", e.target.value === "on-crash" ? "on-crash" : "never"); }}
              >
                <option value="never">Never restart</option>
                <option value="on-crash">Restart on crash</option>
              </select>
            )}
          </Field>
          {settings.restartMode === "on-crash" && (
            <Field
              label="Max restarts"
              hint="Restarts allowed within 10 minutes; then it stays crashed."
              errors={[...(touched && limitErrors.maxRetries ? [limitErrors.maxRetries] : []), ...serverErrors("max_retries")]}
            >
              {(control) => <input {...control} className={inputClass} type="number" min={1} max={100} value={settings.maxRetries} onChange={(e) => { setSetting("maxRetries", e.target.value); }} />}
            </Field>
          )}
          <label className="flex items-center gap-2 text-sm text-slate-700 sm:col-span-2 dark:text-slate-300">
            <input type="checkbox" checked={settings.start} onChange={(e) => { setSetting("start", e.target.checked); }} /> Start it once installed
          </label>
        </div>
  );
}

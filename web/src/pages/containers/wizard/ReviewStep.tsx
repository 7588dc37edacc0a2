/** Step 4: everything the container will be created with, to check before "Create container". */
import type { Cluster, Node, Egg, EggVariable } from "../../../api/containers";
import type { Settings } from "./model";

export function ReviewStep({
  egg,
  settings,
  clusterId,
  clusters,
  nodes,
  editable,
  values }: {
  egg: Egg;
  settings: Settings;
  clusterId: string;
  clusters: Cluster[] | undefined;
  nodes: Node[] | undefined;
  editable: EggVariable[];
  values: Record<string, string>;
}) {
  return (
        <dl className="grid gap-x-6 gap-y-3 text-sm sm:grid-cols-[12rem_1fr]" data-testid="review">
          <dt className="text-slate-500">Egg</dt>
          <dd className="font-medium">{egg.name}</dd>
          <dt className="text-slate-500">Name</dt>
          <dd className="font-medium">{settings.name}</dd>
          <dt className="text-slate-500">Cluster</dt>
          <dd>
            {clusters?.find((item) => item.id === clusterId)?.name ?? clusterId}
            {settings.nodeId !== "" && ` · node ${nodes?.find((node) => node.id === settings.nodeId)?.name ?? settings.nodeId}`}
          </dd>
          <dt className="text-slate-500">Limits</dt>
          <dd>
            {settings.cpu}% CPU · {settings.memory} MiB memory · {settings.disk} MiB disk · {settings.ports} port(s)
          </dd>
          <dt className="text-slate-500">Restart</dt>
          <dd>{settings.restartMode === "never" ? "Never" : `On crash, at most ${settings.maxRetries} times in 10 minutes`}</dd>
          <dt className="text-slate-500">Variables</dt>
          <dd className="font-mono text-xs">
            {editable.map((variable) => (
              <div key={variable.env_variable}>
                {variable.env_variable}={values[variable.env_variable] ?? variable.default_value}
              </div>
            ))}
          </dd>
          <dt className="text-slate-500">Then</dt>
          <dd>{settings.start ? "Install, then start" : "Install only"}</dd>
        </dl>
  );
}

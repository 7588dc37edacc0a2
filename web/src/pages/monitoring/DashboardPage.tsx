/** /monitoring: charts of the platform (replicas, requests, jobs, sockets, sign-ins), the nodes and the containers over a chosen range; a tenant admin sees their tenant's share. */
import { useMemo, useState } from "react";
import { Link } from "react-router";

import type { ContainerNow, MetricSeries, NodeStatus, Overview, Range } from "../../api/monitoring";
import { REFRESH_MS, useOverview, useStorageOverview } from "../../api/monitoringQueries";
import { Badge, type BadgeTone } from "../../components/Badge";
import { Card, Skeleton } from "../../components/Card";
import { DataTable } from "../../components/DataTable";
import { PageHeader } from "../../components/PageHeader";
import { formatRelative } from "../../lib/format";
import { formatValue } from "../../lib/units";
import { MetricChart } from "./MetricChart";
import { RangePicker } from "./RangePicker";
import { useRange } from "./useRange";

const byHost = (labels: MetricSeries["labels"]) => labels.host ?? "?";
const byHostAndMount = (labels: MetricSeries["labels"]) => `${labels.host ?? "?"} ${labels.mount ?? ""}`.trim();
const byStatus = (labels: MetricSeries["labels"]) => labels.status ?? "?";
const byRoute = (labels: MetricSeries["labels"]) => labels.route ?? "?";
const byQueue = (labels: MetricSeries["labels"]) => labels.queue ?? "?";
const total = () => "total";

const REPLICA = { source: "replica" };
const NODE = { source: "node" };

function Section({ title, description, children }: { title: string; description?: string; children: React.ReactNode }) {
  return (
    <section className="mb-10" aria-label={title}>
      <h2 className="text-lg font-semibold text-slate-900 dark:text-white">{title}</h2>
      {description !== undefined && <p className="mt-1 text-sm text-slate-600 dark:text-slate-400">{description}</p>}
      <div className="mt-4 grid gap-4 lg:grid-cols-2">{children}</div>
    </section>
  );
}

function PlatformSection({ range, overview }: { range: Range; overview: Overview }) {
  const replicas = overview.replicas.filter((replica) => replica.source === "replica");
  return (
    <Section title="Platform" description="Every Nubes replica: its host, the requests it answers, background jobs and open sockets.">
      <Card title="Replicas reporting now">
        {replicas.length === 0 ? (
          <p className="text-sm text-slate-600 dark:text-slate-400">No replica reported in the last 5 minutes: metrics are collected every 15 s.</p>
        ) : (
          <ul className="flex flex-wrap gap-2" data-testid="replicas">
            {replicas.map((replica) => (
              <li key={`${replica.source}-${replica.host}`}>
                <Badge tone="success">
                  {replica.host} · CPU {formatValue(replica.cpu_percent, "percent")}
                </Badge>
              </li>
            ))}
          </ul>
        )}
        {overview.job_queues.length > 0 && (
          <p className="mt-3 text-sm text-slate-600 dark:text-slate-400">
            Jobs waiting now:{" "}
            {overview.job_queues
              .map((queue) => `${queue.queue} ${queue.queued.toFixed(0)}${queue.oldest_age_seconds ? ` (oldest ${formatValue(queue.oldest_age_seconds, "seconds")})` : ""}`)
              .join(" · ")}
          </p>
        )}
      </Card>
      <MetricChart title="CPU per replica" metric="host_cpu_percent" unit="percent" range={range} labels={REPLICA} lineName={byHost} />
      <MetricChart title="Memory in use per replica" metric="host_memory_used_bytes" unit="bytes" range={range} labels={REPLICA} lineName={byHost} />
      <MetricChart title="Disk in use per replica and mount" metric="host_disk_used_bytes" unit="bytes" range={range} labels={REPLICA} lineName={byHostAndMount} />
      <MetricChart title="Requests per second by status" metric="http_requests" unit="req/s" range={range} lineName={byStatus} />
      <MetricChart title="Latency p95 (slowest routes)" metric="http_request_seconds_p95" unit="seconds" range={range} lineName={byRoute} />
      <MetricChart title="Jobs waiting" metric="jobs_queued" unit="count" range={range} lineName={byQueue} />
      <MetricChart title="Oldest waiting job" metric="jobs_oldest_age_seconds" unit="seconds" range={range} lineName={byQueue} />
      <MetricChart title="Open WebSockets" metric="websocket_connections" unit="count" range={range} lineName={byHost} />
    </Section>
  );
}

const NODE_TONES: Record<string, BadgeTone> = { online: "success", offline: "danger", pending: "warning", revoked: "neutral" };

function NodeBadge({ node }: { node: NodeStatus }) {
  const docker = node.status === "online" ? "Docker reachable" : node.status === "offline" ? "agent offline" : node.status;
  return (
    <li className="flex flex-wrap items-center justify-between gap-2 py-2" data-testid="node-status">
      <span className="font-medium text-slate-900 dark:text-white">{node.name}</span>
      <span className="flex items-center gap-2 text-xs text-slate-500 dark:text-slate-400">
        {node.last_heartbeat_at !== null && <span>heard {formatRelative(new Date(node.last_heartbeat_at))}</span>}
        {node.agent_version !== "" && <span>agent {node.agent_version}</span>}
        <Badge tone={NODE_TONES[node.status] ?? "neutral"}>{node.status === "online" ? "up" : "down"}</Badge>
        <span>{docker}</span>
      </span>
    </li>
  );
}

function NodesSection({ range, nodes }: { range: Range; nodes: NodeStatus[] }) {
  const names = useMemo(() => new Map(nodes.map((node) => [node.node_id, node.name])), [nodes]);
  const byNode = useMemo(() => (labels: MetricSeries["labels"]) => names.get(labels.host ?? "") ?? labels.host ?? "?", [names]);
  return (
    <Section title="Nodes" description="Container hosts: whether each agent (and so its Docker Engine) answers, and its host's load.">
      <Card title="Nodes now">
        {nodes.length === 0 ? (
          <p className="text-sm text-slate-600 dark:text-slate-400">
            No node yet. Add one under <Link to="/admin/nodes" className="text-sky-700 hover:underline dark:text-sky-300">Admin → Nodes</Link>.
          </p>
        ) : (
          <ul className="divide-y divide-slate-100 text-sm dark:divide-slate-800">
            {nodes.map((node) => (
              <NodeBadge key={node.node_id} node={node} />
            ))}
          </ul>
        )}
      </Card>
      {nodes.length > 0 && (
        <>
          <MetricChart title="Node CPU" metric="host_cpu_percent" unit="percent" range={range} labels={NODE} lineName={byNode} />
          <MetricChart title="Node memory in use" metric="host_memory_used_bytes" unit="bytes" range={range} labels={NODE} lineName={byNode} />
          <MetricChart title="Node disk in use" metric="host_disk_used_bytes" unit="bytes" range={range} labels={NODE} lineName={byNode} />
        </>
      )}
    </Section>
  );
}

function TopContainers({ title, rows, value, chosen, onChoose }: { title: string; rows: ContainerNow[]; value: (row: ContainerNow) => string; chosen: string | null; onChoose: (id: string) => void }) {
  return (
    <Card title={title}>
      <DataTable
        look="plain"
        columns={["Container", "Now", { header: "Chart", srOnly: true }]}
        rows={rows}
        empty={<span className="text-sm text-slate-600 dark:text-slate-400">No container reported in the last 5 minutes.</span>}
        renderRow={(row) => (
          <tr key={row.container_id} className="border-t border-slate-100 dark:border-slate-800" data-testid="top-container">
            <td className="py-2">
              <Link to={`/containers/${row.container_id}`} className="text-sky-700 hover:underline dark:text-sky-300">
                {row.name}
              </Link>
            </td>
            <td className="py-2 tabular-nums">{value(row)}</td>
            <td className="py-2 text-right">
              <button
                type="button"
                className="text-xs text-slate-600 hover:text-slate-900 disabled:font-semibold disabled:text-slate-900 dark:text-slate-400 dark:hover:text-white dark:disabled:text-white"
                disabled={chosen === row.container_id}
                onClick={() => {
                  onChoose(row.container_id);
                }}
              >
                {chosen === row.container_id ? "Charted" : "Chart"}
              </button>
            </td>
          </tr>
        )}
      />
    </Card>
  );
}

function ContainersSection({ range, overview }: { range: Range; overview: Overview }) {
  const [picked, setPicked] = useState<string | null>(null);
  const chosen = picked ?? overview.top_by_cpu[0]?.container_id ?? null;
  const labels = useMemo(() => (chosen === null ? undefined : { container: chosen }), [chosen]);
  const name = [...overview.top_by_cpu, ...overview.top_by_memory].find((row) => row.container_id === chosen)?.name ?? "";
  return (
    <Section
      title="Containers"
      description={overview.scope === "tenant" ? `The containers of ${overview.tenant_name}.` : "The busiest containers of every tenant now; chart one over the range."}
    >
      <TopContainers title="Top by CPU now" rows={overview.top_by_cpu} value={(row) => formatValue(row.cpu_percent, "percent")} chosen={chosen} onChoose={setPicked} />
      <TopContainers title="Top by memory now" rows={overview.top_by_memory} value={(row) => formatValue(row.memory_bytes, "bytes")} chosen={chosen} onChoose={setPicked} />
      {labels !== undefined && (
        <>
          <MetricChart title={`CPU of ${name}`} metric="container_cpu_percent" unit="percent" range={range} labels={labels} lineName={total} />
          <MetricChart title={`Memory of ${name}`} metric="container_memory_bytes" unit="bytes" range={range} labels={labels} lineName={total} />
        </>
      )}
    </Section>
  );
}

function TenantSection({ range, overview }: { range: Range; overview: Overview }) {
  const storage = useStorageOverview();
  const names = useMemo(() => new Map((storage.data?.tenants ?? []).map((tenant) => [tenant.tenant_id, tenant.name])), [storage.data]);
  const byTenant = useMemo(() => (labels: MetricSeries["labels"]) => names.get(labels.tenant ?? "") ?? labels.tenant ?? "?", [names]);
  return (
    <Section title={overview.scope === "tenant" ? overview.tenant_name : "Tenants"} description="Storage used and failed sign-ins.">
      <MetricChart title="Storage used" metric="storage_used_bytes" unit="bytes" range={range} lineName={byTenant} />
      <MetricChart title="Failed sign-ins per second" metric="signin_failures" unit="req/s" range={range} lineName={byTenant} />
    </Section>
  );
}

export function DashboardPage() {
  const [range, setRange] = useRange();
  const overview = useOverview();
  const data = overview.data;
  return (
    <>
      <PageHeader
        title="Monitoring"
        description={`Charts over the chosen range; they refresh every ${REFRESH_MS / 1000} s.`}
        actions={<RangePicker range={range} onChange={setRange} />}
      />
      {overview.isError && <p className="mb-6 text-sm text-rose-600 dark:text-rose-400">{overview.error.message}</p>}
      {data === undefined ? (
        <Skeleton className="h-48 w-full" />
      ) : (
        <>
          {data.scope === "tenant" && (
            <p className="mb-6 rounded-lg bg-sky-50 px-4 py-3 text-sm text-sky-900 dark:bg-sky-950 dark:text-sky-200" data-testid="tenant-scope">
              You see the share of <strong>{data.tenant_name}</strong>: its containers, its storage and its failed sign-ins. The platform's replicas and
              nodes are shown to platform administrators only.
            </p>
          )}
          {data.scope === "platform" && <PlatformSection range={range} overview={data} />}
          {data.scope === "platform" && <NodesSection range={range} nodes={data.nodes} />}
          <ContainersSection range={range} overview={data} />
          <TenantSection range={range} overview={data} />
        </>
      )}
    </>
  );
}

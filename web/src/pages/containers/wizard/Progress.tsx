/** After "Create": follows the create job until the container is installed (or the job fails). */
import { useEffect } from "react";
import { Link } from "react-router";

import { jobEnded, useContainerFrom, useJob } from "../../../api/containerQueries";
import type { Accepted } from "../../../api/containers";
import { Badge } from "../../../components/Badge";
import { buttonClass } from "../../../components/Button";
import { Card } from "../../../components/Card";
import { Alert } from "../../../components/Form";
import { STATE_TONES } from "../containerState";
import { JobStatusBadge } from "../containerUi";

/** Follows the create job and the container until the job ends. */
export function Progress({ accepted }: { accepted: Accepted }) {
  const job = useJob(accepted.job, 1000).data;
  const done = jobEnded(job);
  const containerQuery = useContainerFrom(accepted.container, done ? false : 1000);
  const container = containerQuery.data;
  const { refetch } = containerQuery;
  // Once the job ends, polling stops after one last look at the container.
  useEffect(() => {
    if (done) void refetch();
  }, [done, refetch]);
  return (
    <Card title={done ? (job.status === "succeeded" ? "Created" : "Failed") : "Creating…"}>
      <div className="space-y-3 text-sm" data-testid="create-progress">
        <p className="flex flex-wrap items-center gap-2">
          Job <code className="font-mono text-xs">{job.action}</code> <JobStatusBadge status={job.status} /> · container{" "}
          <span className="font-medium">{container.name}</span> <Badge tone={STATE_TONES[container.state] ?? "neutral"}>{container.state.replace("_", " ")}</Badge>
        </p>
        {!done && <div className="h-1.5 w-full overflow-hidden rounded bg-slate-200 dark:bg-slate-800"><div className="h-full w-1/3 animate-pulse rounded bg-sky-500" /></div>}
        {job.output !== "" && <pre className="max-h-64 overflow-auto rounded-lg bg-slate-950 p-3 font-mono text-xs text-slate-100">{job.output}</pre>}
        {job.error !== "" && <Alert tone="danger">{job.error}</Alert>}
        <Link className={buttonClass.primary} to={`/containers/${container.id}`}>
          Open {container.name}
        </Link>
      </div>
    </Card>
  );
}

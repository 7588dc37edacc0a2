/** Small components the container pages share: the state badge and the job status badge. */
import { Badge, type BadgeTone } from "../../components/Badge";
import { STATE_TONES } from "./containerState";

export function StateBadge({ state }: { state: string }) {
  return (
    <span data-testid="state-badge">
      <Badge tone={STATE_TONES[state] ?? "neutral"}>{state.replace("_", " ")}</Badge>
    </span>
  );
}

const JOB_TONES: Record<string, BadgeTone> = { queued: "neutral", sent: "brand", succeeded: "success", failed: "danger" };

export function JobStatusBadge({ status }: { status: string }) {
  return <Badge tone={JOB_TONES[status] ?? "neutral"}>{status}</Badge>;
}

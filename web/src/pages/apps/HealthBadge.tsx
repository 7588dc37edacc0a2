/** A service's health at a glance: up, down or not checked yet, with when it was last checked. */
import type { ServiceStatus } from "../../api/appServices";
import { Badge, type BadgeTone, StatusDot } from "../../components/Badge";
import { describeTimestamp } from "../../lib/format";

const TONES: Record<ServiceStatus, BadgeTone> = { up: "success", down: "danger", unknown: "neutral" };
const LABELS: Record<ServiceStatus, string> = { up: "Up", down: "Down", unknown: "Not checked yet" };

export function HealthBadge({ status, checkedAt }: { status: ServiceStatus; checkedAt: string | null }) {
  const checked = describeTimestamp(checkedAt);
  return (
    <span className="inline-flex items-center gap-2" data-testid="health">
      <Badge tone={TONES[status]}>
        <StatusDot tone={TONES[status]} />
        {LABELS[status]}
      </Badge>
      {checkedAt !== null && (
        <span className="text-xs text-slate-500 dark:text-slate-400" title={checked.title}>
          checked {checked.text}
        </span>
      )}
    </span>
  );
}

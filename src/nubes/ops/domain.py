"""The ops domain's manifest: health, readiness, version, metrics, alerts, backups, settings and feature flags."""

from __future__ import annotations

from nubes.core.domain import Domain
from nubes.ops.permissions import PERMISSIONS

DOMAIN = Domain(
    name="ops",
    title="Operations",
    permissions=PERMISSIONS,
    models=(
        "nubes.ops.models",
        "nubes.ops.metrics.models",
        "nubes.ops.alerts.models",
        "nubes.ops.backups.models",
        "nubes.ops.flags.models",
    ),
    api="nubes.ops.api",
    root_api="nubes.ops.root_api",
    tasks="nubes.ops.tasks",
)

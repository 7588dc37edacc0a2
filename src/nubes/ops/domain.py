"""The ops domain's manifest: health, readiness, version and platform settings."""

from __future__ import annotations

from nubes.core.domain import Domain
from nubes.ops.permissions import PERMISSIONS

DOMAIN = Domain(
    name="ops",
    title="Operations",
    permissions=PERMISSIONS,
    models=("nubes.ops.models",),
    api="nubes.ops.api",
    tasks=None,
)

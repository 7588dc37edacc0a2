"""The compute domain's manifest: clusters, nodes, eggs, containers, jobs and agents."""

from __future__ import annotations

from nubes.compute.permissions import PERMISSIONS
from nubes.core.domain import Domain

DOMAIN = Domain(
    name="compute",
    title="Containers",
    permissions=PERMISSIONS,
    models=(
        "nubes.compute.clusters.models",
        "nubes.compute.containers.models",
        "nubes.compute.eggs.models",
        "nubes.compute.jobs.models",
        "nubes.compute.nodes.models",
    ),
    api="nubes.compute.api",
    tasks="nubes.compute.tasks",
)

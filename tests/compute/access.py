"""The compute domain in the generic suites: agent registration is public, eggs are a shared catalog."""

from __future__ import annotations

import uuid
from typing import Any

from nubes.compute.clusters.models import Cluster
from nubes.compute.containers.models import Container
from nubes.compute.eggs.models import Egg, EggCategory
from nubes.compute.jobs.models import Job
from nubes.compute.nodes.models import Node
from tests.access import TenantA

# An agent trades its one-time registration token for a node credential.
PUBLIC = frozenset({"nodes-register"})
# Operations on platform-wide catalog objects every tenant may read (not tenant-owned, so not isolated).
SHARED_CATALOG = frozenset({"eggs-get"})

BODIES: dict[str, dict[str, Any]] = {
    "nodes-allocations-add": {"ip": "127.0.0.1", "ports": ["25600"]},
    "containers-power": {"action": "kill"},
    "eggs-update": {"name": "renamed by another tenant"},
    "containers-update": {"name": "renamed-by-another-tenant"},
    "egg-categories-update": {"name": "renamed by another tenant"},
    "containers-files-mkdir": {"path": "made-by-another-tenant"},
    "containers-files-rename": {"path": "a", "target": "b"},
    "containers-files-upload": {"overwritten": "by another tenant"},
}


async def objects(tenant_a: TenantA) -> dict[str, str]:
    """An egg in a category, and tenant A's running container on a node, with a job."""
    session = tenant_a.session
    tenant_id = uuid.UUID(tenant_a.ids["tenant_id"])
    cluster = Cluster(name="a-cluster")
    category = EggCategory(name="a-category")
    session.add_all([cluster, category])
    await session.flush()
    node = Node(cluster_id=cluster.id, name="a-node", cpu=100, memory_mb=1024, disk_mb=1024)
    egg = Egg(name="a-egg", document={}, category_id=category.id)
    session.add_all([node, egg])
    await session.flush()
    container = Container(
        tenant_id=tenant_id, name="a-container", egg_id=egg.id, node_id=node.id, image="x",
        cpu=10, memory_mb=64, disk_mb=64, startup="true", state="running",
    )  # fmt: skip
    session.add(container)
    await session.flush()
    job = Job(tenant_id=tenant_id, action="start", container_id=container.id, target_id=str(container.id), node_id=node.id)
    session.add(job)
    await session.flush()
    return {
        # Platform-wide: node routes are for platform admins only, so tenant B is refused (403).
        "node_id": str(node.id),
        "egg_id": str(egg.id),
        # Platform-wide like eggs; changing one is for platform admins, so tenant B is refused (403).
        "category_id": str(category.id),
        "container_id": str(container.id),
        "job_id": str(job.id),
    }

"""The monitoring overview: storage against quotas per tenant and user, and what the dashboard shows as "now".

A super-admin sees every tenant and the platform's nodes; a tenant admin sees only their own tenant's share.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.compute.containers import service as containers_service
from nubes.compute.nodes import service as nodes_service
from nubes.config import Settings
from nubes.core.principal import Principal
from nubes.files.quota import service as quota_service
from nubes.identity.tenants import service as tenants_service
from nubes.identity.users import directory
from nubes.ops.metrics import service as metrics_service

LARGEST_USERS = 20
"""How many of a tenant's largest consumers the storage overview lists."""
MAX_TENANTS = 100
"""How many tenants the storage overview lists at most (the largest); `tenant_count` says how many there are."""
TOP_CONTAINERS = 10
"""How many containers the snapshot lists by CPU and by memory."""
RECENT = timedelta(minutes=5)
"""A replica or a container whose last sample is older than this is not "now"."""

Scope = Literal["platform", "tenant"]


class UserStorage(BaseModel):
    """One user's bytes stored against the quota that applies to them."""

    user_id: uuid.UUID
    name: str
    used_bytes: int
    quota_bytes: int | None = Field(description="The user's quota (their own, else the configured default); null: unlimited.")


class TenantStorage(BaseModel):
    """One tenant's bytes stored against its quota, its number of files and its largest consumers."""

    tenant_id: uuid.UUID
    slug: str
    name: str
    used_bytes: int
    quota_bytes: int | None = Field(description="The tenant's quota (its own, else the configured default); null: unlimited.")
    file_count: int
    largest_users: list[UserStorage] = Field(description=f"At most {LARGEST_USERS} users, the largest first.")


class StorageOverview(BaseModel):
    """Storage against quotas: every tenant for a super-admin (the largest first), the caller's own for a tenant admin."""

    scope: Scope
    tenant_count: int = Field(description=f"Every tenant the caller may see; `tenants` lists the {MAX_TENANTS} largest.")
    tenants: list[TenantStorage]


class NodeStatus(BaseModel):
    """A container host: whether its agent (and so its Docker Engine) answers, and when it was last heard from."""

    node_id: uuid.UUID
    name: str
    status: str = Field(description="pending | online | offline | revoked: `online` means the agent is connected to Docker.")
    last_heartbeat_at: datetime | None
    agent_version: str


class ContainerNow(BaseModel):
    """A container's latest CPU and memory samples."""

    container_id: uuid.UUID
    name: str
    node_id: str
    cpu_percent: float | None
    memory_bytes: float | None
    at: datetime


class ReplicaNow(BaseModel):
    """A Nubes replica (or node host) that reported host metrics in the last minutes."""

    host: str
    source: str
    cpu_percent: float
    at: datetime


class JobQueueNow(BaseModel):
    """A background queue: jobs waiting and the age of the oldest."""

    queue: str
    queued: float
    oldest_age_seconds: float | None


class Overview(BaseModel):
    """What the dashboard shows as "now": whose share the caller sees; nodes, replicas and queues for a super-admin."""

    scope: Scope
    tenant_name: str = Field(description="The caller's tenant (what a tenant admin's charts are restricted to).")
    nodes: list[NodeStatus] = Field(description="Every node (super-admins only; empty for a tenant admin).")
    replicas: list[ReplicaNow] = Field(description="Hosts that reported in the last minutes (super-admins only).")
    job_queues: list[JobQueueNow] = Field(description="Background queues now (super-admins only).")
    top_by_cpu: list[ContainerNow] = Field(description=f"At most {TOP_CONTAINERS} containers the caller may see.")
    top_by_memory: list[ContainerNow] = Field(description=f"At most {TOP_CONTAINERS} containers the caller may see.")


def scope_of(principal: Principal) -> Scope:
    """What the principal's monitoring covers: the whole platform (super-admins) or their tenant's share."""
    return "platform" if principal.is_superadmin else "tenant"


async def storage(*, session: AsyncSession, settings: Settings, principal: Principal) -> StorageOverview:
    """Bytes used against quotas per tenant (every tenant for a super-admin, the caller's otherwise), with the largest users."""
    if principal.is_superadmin:
        tenants = [tenant for tenant, _ in await tenants_service.list_tenants(session=session)]
    else:
        tenants = [await tenants_service.get_tenant(session=session, tenant_id=principal.tenant_id)]
    usage = await quota_service.tenants_usage(session=session, tenant_ids=[tenant.id for tenant in tenants])
    listed = sorted(tenants, key=lambda tenant: (-usage[tenant.id][0], tenant.slug))[:MAX_TENANTS]
    largest = await quota_service.largest_users(session=session, tenant_ids=[tenant.id for tenant in listed], limit=LARGEST_USERS)
    names = await directory.user_names_by_tenant(
        session=session, wanted={tenant.id: [user_id for user_id, _, _ in largest[tenant.id]] for tenant in listed}
    )
    found: list[TenantStorage] = []
    for tenant in listed:
        used, quota, files = usage[tenant.id]
        found.append(
            TenantStorage(
                tenant_id=tenant.id,
                slug=tenant.slug,
                name=tenant.name,
                used_bytes=used,
                quota_bytes=quota if quota is not None else (settings.tenant_quota_bytes or None),
                file_count=files,
                largest_users=[
                    UserStorage(
                        user_id=user_id,
                        name=names.get(user_id, "(deleted user)"),
                        used_bytes=user_used,
                        quota_bytes=user_quota if user_quota is not None else (settings.user_quota_bytes or None),
                    )
                    for user_id, user_used, user_quota in largest[tenant.id]
                ],
            )
        )
    return StorageOverview(scope=scope_of(principal), tenant_count=len(tenants), tenants=found)


async def _containers_now(session: AsyncSession, principal: Principal) -> list[ContainerNow]:
    """Every container the principal may see that reported in the last minutes, with its latest CPU and memory."""
    tenant_id = metrics_service.scope_tenant(principal)
    since = datetime.now(UTC) - RECENT
    samples: dict[str, dict[str, float]] = {}
    seen: dict[str, tuple[str, datetime]] = {}  # container -> (node, newest sample)
    for name in ("container_cpu_percent", "container_memory_bytes"):
        for labels, at, value in await metrics_service.latest(session=session, name=name, tenant_id=tenant_id):
            container = labels.get("container", "")
            if at < since or not container:
                continue
            samples.setdefault(container, {})[name] = value
            node, newest = seen.get(container, (labels.get("node", ""), at))
            seen[container] = (node, max(newest, at))
    ids: dict[str, uuid.UUID] = {}
    for container in seen:
        try:
            ids[container] = uuid.UUID(container)
        except ValueError:
            continue
    names = await containers_service.container_names(session=session, principal=principal, ids=list(ids.values()))
    return [
        ContainerNow(
            container_id=container_id,
            name=names[container_id],
            node_id=seen[container][0],
            cpu_percent=samples[container].get("container_cpu_percent"),
            memory_bytes=samples[container].get("container_memory_bytes"),
            at=seen[container][1],
        )
        for container, container_id in ids.items()
        if container_id in names  # a container deleted since, or not the caller's: left out
    ]


async def _platform_now(session: AsyncSession) -> tuple[list[ReplicaNow], list[JobQueueNow]]:
    """Hosts that reported CPU recently, and each job queue's depth and oldest age (the platform's, super-admins only)."""
    since = datetime.now(UTC) - RECENT
    replicas = [
        ReplicaNow(host=labels.get("host", ""), source=labels.get("source", ""), cpu_percent=value, at=at)
        for labels, at, value in await metrics_service.latest(session=session, name="host_cpu_percent")
        if at >= since
    ]
    ages = {
        labels.get("queue", ""): value
        for labels, _, value in await metrics_service.latest(session=session, name="jobs_oldest_age_seconds")
    }
    queues = [
        JobQueueNow(queue=labels.get("queue", ""), queued=value, oldest_age_seconds=ages.get(labels.get("queue", "")))
        for labels, _, value in await metrics_service.latest(session=session, name="jobs_queued")
    ]
    return sorted(replicas, key=lambda item: (item.source, item.host)), sorted(queues, key=lambda item: item.queue)


async def overview(*, session: AsyncSession, principal: Principal) -> Overview:
    """The dashboard's snapshot: the caller's scope, the top containers they may see and, for super-admins, the
    platform's nodes, replicas and job queues."""
    tenant = await tenants_service.get_tenant(session=session, tenant_id=principal.tenant_id)
    nodes = await nodes_service.list_nodes(session=session) if principal.is_superadmin else []
    replicas, queues = await _platform_now(session) if principal.is_superadmin else ([], [])
    containers = await _containers_now(session, principal)
    return Overview(
        scope=scope_of(principal),
        tenant_name=tenant.name,
        nodes=[
            NodeStatus(
                node_id=node.id,
                name=node.name,
                status=node.status,
                last_heartbeat_at=node.last_heartbeat_at,
                agent_version=node.agent_version,
            )
            for node in nodes
        ],
        replicas=replicas,
        job_queues=queues,
        top_by_cpu=sorted(containers, key=lambda item: -(item.cpu_percent or 0))[:TOP_CONTAINERS],
        top_by_memory=sorted(containers, key=lambda item: -(item.memory_bytes or 0))[:TOP_CONTAINERS],
    )

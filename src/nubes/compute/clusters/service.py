"""Rules of clusters: the groups of nodes a container can be placed on (super-admins change them)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.compute.clusters.models import Cluster
from nubes.compute.clusters.schemas import ClusterCreate
from nubes.core import audit
from nubes.core.audit import Origin
from nubes.core.errors import Conflict, NotFound
from nubes.core.principal import Principal


async def list_clusters(*, session: AsyncSession) -> list[Cluster]:
    """Every cluster, by name."""
    return list(await session.scalars(select(Cluster).order_by(Cluster.name)))


async def create_cluster(*, session: AsyncSession, principal: Principal, cluster_in: ClusterCreate, origin: Origin) -> Cluster:
    """A new cluster; names are unique."""
    if await session.scalar(select(Cluster.id).where(Cluster.name == cluster_in.name)):
        raise Conflict(f"A cluster named {cluster_in.name!r} exists; choose another name.")
    cluster = Cluster(name=cluster_in.name, description=cluster_in.description)
    session.add(cluster)
    await session.flush()
    await audit.record(
        session=session,
        action="compute.cluster.create",
        origin=origin,
        principal=principal,
        target_type="cluster",
        target_id=cluster.id,
    )
    return cluster


async def get_cluster(*, session: AsyncSession, cluster_id: uuid.UUID) -> Cluster:
    """A cluster, or 404."""
    cluster = await session.get(Cluster, cluster_id)
    if cluster is None:
        raise NotFound("No such cluster.")
    return cluster

"""Routes of clusters."""

from __future__ import annotations

from nubes.compute.clusters import service
from nubes.compute.clusters.schemas import ClusterCreate, ClusterRead
from nubes.compute.deps import ContainersRead, PlatformAdmin
from nubes.core.db import SessionDep
from nubes.core.routing import api_router
from nubes.identity.deps import OriginDep

router = api_router()


@router.get("/clusters", operation_id="clusters-list", response_model=list[ClusterRead], tags=["compute"], summary="Clusters")
async def list_clusters(session: SessionDep, _: ContainersRead) -> list[ClusterRead]:
    """Where containers can be placed."""
    return [ClusterRead.model_validate(row) for row in await service.list_clusters(session=session)]


@router.post(
    "/clusters",
    operation_id="clusters-create",
    response_model=ClusterRead,
    status_code=201,
    tags=["compute"],
    summary="Add a cluster",
)
async def create_cluster(
    cluster_in: ClusterCreate, session: SessionDep, principal: PlatformAdmin, origin: OriginDep
) -> ClusterRead:
    """A new, empty cluster (platform administrators)."""
    return ClusterRead.model_validate(
        await service.create_cluster(session=session, principal=principal, cluster_in=cluster_in, origin=origin)
    )

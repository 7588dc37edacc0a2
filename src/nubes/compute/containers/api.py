"""Routes of a tenant's containers: list, create, edit, power, delete, logs."""

from __future__ import annotations

import functools
import uuid
from typing import Annotated

from fastapi import Query

from nubes.compute.agents import protocol
from nubes.compute.containers import service
from nubes.compute.containers.models import Container
from nubes.compute.containers.schemas import (
    ContainerAccepted,
    ContainerCreate,
    ContainerLogs,
    ContainerPage,
    ContainerRead,
    ContainerUpdate,
    PortRead,
    PowerRequest,
)
from nubes.compute.deps import ContainersManage, ContainersRead, HubDep
from nubes.compute.jobs.schemas import JobRead
from nubes.compute.nodes import service as nodes_service
from nubes.core.db import SessionDep
from nubes.core.errors import Conflict, ServiceUnavailable
from nubes.core.jobs import after_commit
from nubes.core.pagination import Limit, Offset
from nubes.core.routing import api_router
from nubes.identity.deps import OriginDep

router = api_router()


async def _container_reads(session: SessionDep, containers: list[Container]) -> list[ContainerRead]:
    ports = await nodes_service.ports_of(session=session, container_ids=[container.id for container in containers])
    return [
        ContainerRead.model_validate(container).model_copy(
            update={
                "ports": [PortRead(ip=ip, port=port) for ip, port in ports[container.id]],
                "restart": service.restart_policy_of(container),
            }
        )
        for container in containers
    ]


@router.get(
    "/containers", operation_id="containers-list", response_model=ContainerPage, tags=["containers"], summary="Containers"
)
async def list_containers(session: SessionDep, principal: ContainersRead, limit: Limit = 50, offset: Offset = 0) -> ContainerPage:
    """Your tenant's containers, newest first."""
    rows, total = await service.list_containers(session=session, principal=principal, limit=limit, offset=offset)
    return ContainerPage(items=await _container_reads(session, rows), total=total)


@router.post(
    "/containers",
    operation_id="containers-create",
    response_model=ContainerAccepted,
    status_code=202,
    tags=["containers"],
    summary="Create a container",
)
async def create_container(
    container_in: ContainerCreate,
    session: SessionDep,
    principal: ContainersManage,
    origin: OriginDep,
    hub: HubDep,
) -> ContainerAccepted:
    """Place a container from an egg and install it; follow the returned job (or the container's state)."""
    container, job = await service.create_container(
        session=session, principal=principal, container_in=container_in, origin=origin
    )
    after_commit(session, functools.partial(hub.wake, container.node_id))
    return ContainerAccepted(container=(await _container_reads(session, [container]))[0], job=JobRead.model_validate(job))


@router.get(
    "/containers/{container_id}",
    operation_id="containers-get",
    response_model=ContainerRead,
    tags=["containers"],
    summary="One container",
)
async def get_container(container_id: uuid.UUID, session: SessionDep, principal: ContainersRead) -> ContainerRead:
    """A container and its state."""
    container = await service.get_container(session=session, principal=principal, container_id=container_id)
    return (await _container_reads(session, [container]))[0]


@router.patch(
    "/containers/{container_id}",
    operation_id="containers-update",
    response_model=ContainerRead,
    tags=["containers"],
    summary="Rename a container or change its restart policy",
)
async def update_container(
    container_id: uuid.UUID, update_in: ContainerUpdate, session: SessionDep, principal: ContainersManage, origin: OriginDep
) -> ContainerRead:
    """Settings that apply without recreating the container (the restart policy applies from the next crash)."""
    container = await service.update_container(
        session=session, principal=principal, container_id=container_id, update_in=update_in, origin=origin
    )
    return (await _container_reads(session, [container]))[0]


@router.post(
    "/containers/{container_id}/power",
    operation_id="containers-power",
    response_model=ContainerAccepted,
    status_code=202,
    tags=["containers"],
    summary="Start, stop, restart or kill",
)
async def power_container(
    container_id: uuid.UUID,
    power_in: PowerRequest,
    session: SessionDep,
    principal: ContainersManage,
    origin: OriginDep,
    hub: HubDep,
) -> ContainerAccepted:
    """Queue a power action: stop sends the egg's stop command, then kills after a timeout."""
    container, job = await service.power(
        session=session, principal=principal, container_id=container_id, action=power_in.action, origin=origin
    )
    after_commit(session, functools.partial(hub.wake, container.node_id))
    return ContainerAccepted(container=(await _container_reads(session, [container]))[0], job=JobRead.model_validate(job))


@router.delete(
    "/containers/{container_id}",
    operation_id="containers-delete",
    response_model=ContainerAccepted,
    status_code=202,
    tags=["containers"],
    summary="Delete a container",
)
async def delete_container(
    container_id: uuid.UUID,
    session: SessionDep,
    principal: ContainersManage,
    origin: OriginDep,
    hub: HubDep,
) -> ContainerAccepted:
    """Queue the removal of the container and its volume."""
    container, job = await service.delete_container(
        session=session, principal=principal, container_id=container_id, origin=origin
    )
    after_commit(session, functools.partial(hub.wake, container.node_id))
    return ContainerAccepted(container=(await _container_reads(session, [container]))[0], job=JobRead.model_validate(job))


@router.get(
    "/containers/{container_id}/logs",
    operation_id="containers-logs",
    response_model=ContainerLogs,
    tags=["containers"],
    summary="A container's last log lines",
)
async def container_logs(
    container_id: uuid.UUID,
    session: SessionDep,
    principal: ContainersRead,
    hub: HubDep,
    tail: Annotated[int, Query(ge=1, le=10_000, description="How many of the last lines.")] = 100,
) -> ContainerLogs:
    """What the container printed last, read from its node."""
    container = await service.get_container(session=session, principal=principal, container_id=container_id)
    if container.state in {"installing", "install_failed"}:
        raise Conflict("The container is not installed; its install output is in its create job.")
    command = protocol.Command(idempotency_key=f"logs:{uuid.uuid4()}", action="logs", container_id=container.id, tail=tail)
    result = await hub.ask(container.node_id, command)
    if result is None:
        raise ServiceUnavailable("The container's node is not connected; try again when its agent is back.")
    if not result.ok:
        raise Conflict(result.error or "The node could not read the logs.")
    return ContainerLogs(lines=result.output.splitlines()[-tail:])

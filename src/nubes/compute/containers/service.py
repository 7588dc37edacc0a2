"""Rules of a tenant's containers: create, rename, power and delete (each queues a job); every query filters by tenant."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.compute.containers.models import Container
from nubes.compute.containers.schemas import ContainerCreate, ContainerUpdate, RestartPolicy
from nubes.compute.eggs import ptdl
from nubes.compute.eggs import service as eggs_service
from nubes.compute.jobs import service as jobs_service
from nubes.compute.jobs.models import Job
from nubes.compute.nodes import service as nodes_service
from nubes.compute.nodes.models import Allocation
from nubes.core import audit
from nubes.core.audit import Origin
from nubes.core.db import like_contains
from nubes.core.errors import Conflict, FieldError, NotFound, UnprocessableEntity
from nubes.core.principal import Principal

POWER_ACTIONS = ("start", "stop", "restart", "kill")

# States in which a power action makes no sense: the container is not (yet, or any more) usable.
_NOT_POWERABLE = {"installing": "is still installing", "install_failed": "failed to install", "deleting": "is being deleted"}


async def list_containers(*, session: AsyncSession, principal: Principal, limit: int, offset: int) -> tuple[list[Container], int]:
    """The tenant's containers, newest first."""
    query = select(Container).where(Container.tenant_id == principal.tenant_id)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(query.order_by(Container.created_at.desc(), Container.id).limit(limit).offset(offset))
    return list(rows), int(total or 0)


async def find_by_name(*, session: AsyncSession, principal: Principal, query: str, limit: int) -> list[Container]:
    """The tenant's containers whose name holds `query` literally (any case; `%` and `_` are no wildcards), by name."""
    wanted = query.strip()
    if not wanted:
        return []
    rows = await session.scalars(
        select(Container)
        .where(Container.tenant_id == principal.tenant_id, like_contains(Container.name, wanted, ignore_case=True))
        .order_by(Container.name, Container.id)
        .limit(limit)
    )
    return list(rows)


async def container_names(*, session: AsyncSession, principal: Principal, ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Names of the containers asked for that the principal may see (their tenant's; every tenant's for a super-admin)."""
    if not ids:
        return {}
    query = select(Container.id, Container.name).where(Container.id.in_(ids))
    if not principal.is_superadmin:
        query = query.where(Container.tenant_id == principal.tenant_id)
    return {row.id: row.name for row in await session.execute(query)}


async def get_container(*, session: AsyncSession, principal: Principal, container_id: uuid.UUID) -> Container:
    """A container of the principal's tenant, or 404 (another tenant's container does not exist for them)."""
    container = await session.scalar(
        select(Container).where(Container.id == container_id, Container.tenant_id == principal.tenant_id)
    )
    if container is None:
        raise NotFound("No such container.")
    return container


async def create_container(
    *, session: AsyncSession, principal: Principal, container_in: ContainerCreate, origin: Origin
) -> tuple[Container, Job]:
    """Check the variables against the egg's rules, place the container, and queue its install job."""
    egg = await eggs_service.get_egg(session=session, egg_id=container_in.egg_id)
    document = ptdl.read_stored(egg.document)
    image = container_in.image or document.images[0]
    if image not in document.images:
        raise UnprocessableEntity(
            f"This egg offers the images {', '.join(document.images)}; pick one of them.",
            errors=[FieldError(loc=["body", "image"], msg="not one of the egg's images", type="value_error")],
        )
    requested = {name: ptdl.as_env_value(value) for name, value in container_in.environment.items()}
    environment = ptdl.resolve_environment(document, requested)
    limits = container_in.limits
    placement = await nodes_service.place(
        session=session,
        cluster_id=container_in.cluster_id,
        cpu=limits.cpu,
        memory_mb=limits.memory_mb,
        disk_mb=limits.disk_mb,
        count=container_in.allocations or 1,
        chosen=container_in.allocation_ids,
        node_id=container_in.node_id,
    )
    builtins = {
        "SERVER_MEMORY": str(limits.memory_mb),
        "SERVER_IP": placement.allocation.ip,
        "SERVER_PORT": str(placement.allocation.port),
    }
    container = Container(
        tenant_id=principal.tenant_id,
        owner_id=principal.user_id,
        name=container_in.name,
        egg_id=egg.id,
        node_id=placement.node.id,
        image=image,
        cpu=limits.cpu,
        memory_mb=limits.memory_mb,
        disk_mb=limits.disk_mb,
        pids=limits.pids,
        environment=environment,
        startup=ptdl.render_startup(document.startup, environment, builtins),
        state="installing",
        desired_state="running" if container_in.start else "stopped",
        **_restart_columns(container_in.restart),
    )
    session.add(container)
    await session.flush()
    ids = [allocation.id for allocation in placement.allocations]
    claimed = await session.execute(
        update(Allocation).where(Allocation.id.in_(ids), Allocation.container_id.is_(None)).values(container_id=container.id)
    )
    if getattr(claimed, "rowcount", len(ids)) != len(ids):
        raise Conflict("An allocation was just taken by another container; try again.")
    job = await jobs_service.enqueue(session=session, container=container, action="create", principal=principal)
    await audit.record(
        session=session,
        action="compute.container.create",
        origin=origin,
        principal=principal,
        target_type="container",
        target_id=container.id,
        detail={"egg": egg.name, "node": placement.node.name, "allocations": len(ids)},
    )
    return container, job


def _restart_columns(policy: RestartPolicy) -> dict[str, Any]:
    return {
        "restart_policy": policy.mode,
        "restart_max_retries": policy.max_retries,
        "restart_window_seconds": policy.window_seconds,
        "restart_backoff_seconds": policy.backoff_seconds,
    }


def restart_policy_of(container: Container) -> RestartPolicy:
    """A container's restart policy as the API shows it."""
    return RestartPolicy(
        mode="on-crash" if container.restart_policy == "on-crash" else "never",
        max_retries=container.restart_max_retries,
        window_seconds=container.restart_window_seconds,
        backoff_seconds=container.restart_backoff_seconds,
    )


async def update_container(
    *, session: AsyncSession, principal: Principal, container_id: uuid.UUID, update_in: ContainerUpdate, origin: Origin
) -> Container:
    """Rename a container or change its restart policy."""
    container = await get_container(session=session, principal=principal, container_id=container_id)
    changed: dict[str, Any] = {}
    if update_in.name is not None and update_in.name != container.name:
        container.name = changed["name"] = update_in.name
    if update_in.restart is not None:
        for column, value in _restart_columns(update_in.restart).items():
            setattr(container, column, value)
        changed["restart"] = update_in.restart.model_dump()
    await session.flush()
    await audit.record(
        session=session,
        action="compute.container.update",
        origin=origin,
        principal=principal,
        target_type="container",
        target_id=container.id,
        detail=changed,
    )
    return container


async def power(
    *, session: AsyncSession, principal: Principal, container_id: uuid.UUID, action: str, origin: Origin
) -> tuple[Container, Job]:
    """Queue a power action; the state moves to `starting`/`stopping` until the agent reports back."""
    container = await get_container(session=session, principal=principal, container_id=container_id)
    if container.state in _NOT_POWERABLE:
        raise Conflict(f"The container {_NOT_POWERABLE[container.state]}; it cannot be {action}ed now.")
    if action in {"start", "restart"}:
        container.desired_state = "running"
        container.state = "starting" if action == "start" else "stopping"
    else:
        container.desired_state = "stopped"
        container.state = "stopping"
    container.state_reason = ""
    await jobs_service.drop_pending_restarts(session=session, container=container, superseded_by=action)
    job = await jobs_service.enqueue(session=session, container=container, action=action, principal=principal)
    await audit.record(
        session=session,
        action=f"compute.container.{action}",
        origin=origin,
        principal=principal,
        target_type="container",
        target_id=container.id,
    )
    return container, job


async def delete_container(
    *, session: AsyncSession, principal: Principal, container_id: uuid.UUID, origin: Origin
) -> tuple[Container, Job]:
    """Queue the removal of a container and its volume; the row goes when the agent confirms."""
    container = await get_container(session=session, principal=principal, container_id=container_id)
    container.desired_state = "deleted"
    container.state = "deleting"
    await jobs_service.drop_pending_restarts(session=session, container=container, superseded_by="delete")
    job = await jobs_service.enqueue(session=session, container=container, action="delete", principal=principal)
    await audit.record(
        session=session,
        action="compute.container.delete",
        origin=origin,
        principal=principal,
        target_type="container",
        target_id=container.id,
    )
    return container, job


async def tenants_of(*, session: AsyncSession, container_ids: list[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    """The tenant of each of these containers that exists (for ops/metrics' labels; no principal: the install's view)."""
    if not container_ids:
        return {}
    rows = await session.execute(select(Container.id, Container.tenant_id).where(Container.id.in_(container_ids[:1000])))
    return {row.id: row.tenant_id for row in rows}

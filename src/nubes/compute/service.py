"""Rules of the compute domain: clusters, nodes, allocations, eggs, placement, containers and their jobs.

Clusters, nodes and eggs are platform infrastructure (super-admins change them); containers and
jobs belong to a tenant and every query here filters by the acting principal's tenant.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.compute import eggs, protocol
from nubes.compute.models import Allocation, Cluster, Container, Egg, EggCategory, Job, Node
from nubes.compute.schemas import (
    AllocationCreate,
    ClusterCreate,
    ContainerCreate,
    ContainerUpdate,
    EggCategoryCreate,
    EggCategoryUpdate,
    EggUpdate,
    NodeCreate,
    NodeUsage,
    RestartPolicy,
)
from nubes.core import audit
from nubes.core.audit import Origin
from nubes.core.db import utcnow
from nubes.core.errors import Conflict, FieldError, NotFound, UnprocessableEntity
from nubes.core.principal import Principal

REGISTRATION_PREFIX = "nbr_"
CREDENTIAL_PREFIX = "nbn_"
REGISTRATION_TTL = timedelta(hours=24)
STOP_TIMEOUT_SECONDS = 30.0
POWER_ACTIONS = ("start", "stop", "restart", "kill")
# States in which a power action makes no sense: the container is not (yet, or any more) usable.
_NOT_POWERABLE = {"installing": "is still installing", "install_failed": "failed to install", "deleting": "is being deleted"}


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# --- clusters --------------------------------------------------------------------------------------


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


# --- nodes -----------------------------------------------------------------------------------------


async def list_nodes(*, session: AsyncSession) -> list[Node]:
    """Every node, by name."""
    return list(await session.scalars(select(Node).order_by(Node.name)))


async def node_usage(*, session: AsyncSession, node_ids: list[uuid.UUID]) -> dict[uuid.UUID, NodeUsage]:
    """What the containers placed on each node reserve (the limits placement counts), and how many ports are taken."""
    usage = {node_id: NodeUsage() for node_id in node_ids}
    if not node_ids:
        return usage
    rows = await session.execute(
        select(
            Container.node_id,
            func.count(),
            func.coalesce(func.sum(Container.cpu), 0),
            func.coalesce(func.sum(Container.memory_mb), 0),
            func.coalesce(func.sum(Container.disk_mb), 0),
        )
        .where(Container.node_id.in_(node_ids))
        .group_by(Container.node_id)
    )
    for node_id, count, cpu, memory_mb, disk_mb in rows:
        usage[node_id] = NodeUsage(containers=count, cpu=int(cpu), memory_mb=int(memory_mb), disk_mb=int(disk_mb))
    ports = await session.execute(
        select(Allocation.node_id, func.count(), func.count(Allocation.container_id))
        .where(Allocation.node_id.in_(node_ids))
        .group_by(Allocation.node_id)
    )
    for node_id, total, used in ports:
        usage[node_id].allocations = int(total)
        usage[node_id].allocations_used = int(used)
    return usage


async def get_node(*, session: AsyncSession, node_id: uuid.UUID) -> Node:
    """A node, or 404."""
    node = await session.get(Node, node_id)
    if node is None:
        raise NotFound("No such node.")
    return node


async def create_node(*, session: AsyncSession, principal: Principal, node_in: NodeCreate, origin: Origin) -> tuple[Node, str]:
    """A node in `pending` state and its one-time registration token (only its hash is stored)."""
    await get_cluster(session=session, cluster_id=node_in.cluster_id)
    if await session.scalar(select(Node.id).where(Node.name == node_in.name)):
        raise Conflict(f"A node named {node_in.name!r} exists; choose another name.")
    token = REGISTRATION_PREFIX + secrets.token_urlsafe(32)
    node = Node(
        **node_in.model_dump(),
        registration_token_hash=_digest(token),
        registration_expires_at=utcnow() + REGISTRATION_TTL,
    )
    session.add(node)
    await session.flush()
    await audit.record(
        session=session, action="compute.node.create", origin=origin, principal=principal, target_type="node", target_id=node.id
    )
    return node, token


async def register_node(*, session: AsyncSession, token: str, origin: Origin) -> tuple[Node, str]:
    """Trade a registration token for the node's credential; the token works once, before it expires."""
    node = await session.scalar(select(Node).where(Node.registration_token_hash == _digest(token)).with_for_update())
    if node is None or node.registration_expires_at is None or node.registration_expires_at < utcnow():
        raise NotFound("This registration token is unknown, used or expired; create the node again for a new one.")
    credential = issue_node_credential(node)
    await session.flush()
    await audit.record(
        session=session,
        action="compute.node.register",
        origin=origin,
        actor_name=f"node:{node.name}",
        target_type="node",
        target_id=node.id,
    )
    return node, credential


def issue_node_credential(node: Node) -> str:
    """A new credential for the node's agent (any earlier one stops working); only its hash is kept."""
    credential = CREDENTIAL_PREFIX + secrets.token_urlsafe(32)
    node.registration_token_hash = None
    node.registration_expires_at = None
    node.credential_hash = _digest(credential)
    if node.status != "online":
        node.status = "offline"
    return credential


async def node_by_credential(*, session: AsyncSession, credential: str) -> Node | None:
    """The node a credential belongs to, unless it was revoked."""
    if not credential.startswith(CREDENTIAL_PREFIX):
        return None
    node = await session.scalar(select(Node).where(Node.credential_hash == _digest(credential)))
    if node is None or node.credential_hash is None or not hmac.compare_digest(node.credential_hash, _digest(credential)):
        return None
    return node


async def revoke_node(*, session: AsyncSession, principal: Principal, node_id: uuid.UUID, origin: Origin) -> Node:
    """The node's credential and any unused registration token stop working; its agent is disconnected."""
    node = await get_node(session=session, node_id=node_id)
    node.credential_hash = None
    node.registration_token_hash = None
    node.status = "revoked"
    await session.flush()
    await audit.record(
        session=session, action="compute.node.revoke", origin=origin, principal=principal, target_type="node", target_id=node.id
    )
    return node


async def mark_node(*, session: AsyncSession, node_id: uuid.UUID, status: str, agent_version: str | None = None) -> None:
    """Record an agent's connection state and heartbeat (a revoked node stays revoked)."""
    values: dict[str, Any] = {"last_heartbeat_at": utcnow()}
    if agent_version is not None:
        values["agent_version"] = agent_version[:50]
    await session.execute(update(Node).where(Node.id == node_id, Node.status != "revoked").values(status=status, **values))


async def add_allocations(
    *, session: AsyncSession, principal: Principal, node_id: uuid.UUID, allocation_in: AllocationCreate, origin: Origin
) -> list[Allocation]:
    """Add ip:port pairs to a node; pairs it already has are kept as they are."""
    await get_node(session=session, node_id=node_id)
    try:
        ports = allocation_in.port_numbers()
    except ValueError as exc:
        raise UnprocessableEntity(
            str(exc), errors=[FieldError(loc=["body", "ports"], msg=str(exc), type="value_error")]
        ) from None
    existing = set(
        await session.scalars(select(Allocation.port).where(Allocation.node_id == node_id, Allocation.ip == allocation_in.ip))
    )
    added = [Allocation(node_id=node_id, ip=allocation_in.ip, port=port) for port in ports if port not in existing]
    session.add_all(added)
    await session.flush()
    await audit.record(
        session=session,
        action="compute.allocations.add",
        origin=origin,
        principal=principal,
        target_type="node",
        target_id=node_id,
        detail={"ip": allocation_in.ip, "added": len(added)},
    )
    return added


async def list_allocations(*, session: AsyncSession, node_id: uuid.UUID) -> list[Allocation]:
    """A node's allocations, by address."""
    await get_node(session=session, node_id=node_id)
    return list(
        await session.scalars(select(Allocation).where(Allocation.node_id == node_id).order_by(Allocation.ip, Allocation.port))
    )


# --- eggs ------------------------------------------------------------------------------------------


async def import_egg(
    *, session: AsyncSession, principal: Principal, raw: object, category_id: uuid.UUID | None, origin: Origin
) -> Egg:
    """Store a Pterodactyl egg file as it is, after checking it (422 naming what is wrong)."""
    document = eggs.read_document(raw)
    if category_id is not None and await session.get(EggCategory, category_id) is None:
        raise NotFound("No such egg category.")
    egg = Egg(
        category_id=category_id,
        name=document.name,
        author=(document.author or "")[:200],
        description=document.description or "",
        document=document.model_dump(mode="json", exclude_unset=True, by_alias=True) if not isinstance(raw, dict) else raw,
    )
    session.add(egg)
    await session.flush()
    await audit.record(
        session=session, action="compute.egg.import", origin=origin, principal=principal, target_type="egg", target_id=egg.id
    )
    return egg


async def list_eggs(*, session: AsyncSession, category_id: uuid.UUID | None = None) -> list[Egg]:
    """Every egg (of one category when given), by name."""
    query = select(Egg)
    if category_id is not None:
        query = query.where(Egg.category_id == category_id)
    return list(await session.scalars(query.order_by(Egg.name, Egg.id)))


async def update_egg(
    *, session: AsyncSession, principal: Principal, egg_id: uuid.UUID, update_in: EggUpdate, origin: Origin
) -> Egg:
    """Rename, describe or re-shelve an egg; name, author and description go into its file too (an export carries them)."""
    egg = await get_egg(session=session, egg_id=egg_id)
    if update_in.category_id is not None:
        await get_egg_category(session=session, category_id=update_in.category_id)
        egg.category_id = update_in.category_id
    elif update_in.uncategorized:
        egg.category_id = None
    fields = update_in.model_dump(include={"name", "author", "description"}, exclude_unset=True, exclude_none=True)
    for field, value in fields.items():
        setattr(egg, field, value)
    if fields:
        egg.document = {**egg.document, **fields}  # a new dict: the JSON column sees the change
    await session.flush()
    await audit.record(
        session=session,
        action="compute.egg.update",
        origin=origin,
        principal=principal,
        target_type="egg",
        target_id=egg.id,
        detail=update_in.model_dump(mode="json", exclude_unset=True),
    )
    return egg


# --- egg categories --------------------------------------------------------------------------------


async def list_egg_categories(*, session: AsyncSession) -> list[tuple[EggCategory, int]]:
    """Every category by name, with its number of eggs."""
    counts = {
        row[0]: int(row[1])
        for row in await session.execute(
            select(Egg.category_id, func.count()).where(Egg.category_id.is_not(None)).group_by(Egg.category_id)
        )
    }
    categories = await session.scalars(select(EggCategory).order_by(EggCategory.name))
    return [(category, counts.get(category.id, 0)) for category in categories]


async def get_egg_category(*, session: AsyncSession, category_id: uuid.UUID) -> EggCategory:
    """A category, or 404."""
    category = await session.get(EggCategory, category_id)
    if category is None:
        raise NotFound("No such egg category.")
    return category


async def _category_name_free(*, session: AsyncSession, name: str, besides: uuid.UUID | None = None) -> None:
    query = select(EggCategory.id).where(EggCategory.name == name)
    if besides is not None:
        query = query.where(EggCategory.id != besides)
    if await session.scalar(query):
        raise Conflict(f"An egg category named {name!r} exists; choose another name.")


async def create_egg_category(
    *, session: AsyncSession, principal: Principal, category_in: EggCategoryCreate, origin: Origin
) -> EggCategory:
    """A new category; names are unique."""
    await _category_name_free(session=session, name=category_in.name)
    category = EggCategory(name=category_in.name, description=category_in.description)
    session.add(category)
    await session.flush()
    await audit.record(
        session=session,
        action="compute.egg_category.create",
        origin=origin,
        principal=principal,
        target_type="egg_category",
        target_id=category.id,
    )
    return category


async def update_egg_category(
    *, session: AsyncSession, principal: Principal, category_id: uuid.UUID, update_in: EggCategoryUpdate, origin: Origin
) -> tuple[EggCategory, int]:
    """Rename or describe a category."""
    category = await get_egg_category(session=session, category_id=category_id)
    if update_in.name is not None:
        await _category_name_free(session=session, name=update_in.name, besides=category.id)
        category.name = update_in.name
    if update_in.description is not None:
        category.description = update_in.description
    await session.flush()
    await audit.record(
        session=session,
        action="compute.egg_category.update",
        origin=origin,
        principal=principal,
        target_type="egg_category",
        target_id=category.id,
        detail=update_in.model_dump(mode="json", exclude_unset=True),
    )
    count = await session.scalar(select(func.count()).select_from(Egg).where(Egg.category_id == category.id))
    return category, int(count or 0)


async def delete_egg_category(*, session: AsyncSession, principal: Principal, category_id: uuid.UUID, origin: Origin) -> None:
    """Remove a category; its eggs stay, uncategorized."""
    category = await get_egg_category(session=session, category_id=category_id)
    await session.execute(update(Egg).where(Egg.category_id == category.id).values(category_id=None))
    await session.delete(category)
    await session.flush()
    await audit.record(
        session=session,
        action="compute.egg_category.delete",
        origin=origin,
        principal=principal,
        target_type="egg_category",
        target_id=category_id,
    )


async def get_egg(*, session: AsyncSession, egg_id: uuid.UUID) -> Egg:
    """An egg, or 404."""
    egg = await session.get(Egg, egg_id)
    if egg is None:
        raise NotFound("No such egg.")
    return egg


async def delete_egg(*, session: AsyncSession, principal: Principal, egg_id: uuid.UUID, origin: Origin) -> None:
    """Remove an egg no container uses."""
    egg = await get_egg(session=session, egg_id=egg_id)
    if await session.scalar(select(Container.id).where(Container.egg_id == egg_id).limit(1)):
        raise Conflict("Containers still use this egg; delete them first.")
    await session.delete(egg)
    await session.flush()
    await audit.record(
        session=session, action="compute.egg.delete", origin=origin, principal=principal, target_type="egg", target_id=egg_id
    )


# --- placement -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a new container goes."""

    node: Node
    allocations: list[Allocation]

    @property
    def allocation(self) -> Allocation:
        """The first allocation: SERVER_IP and SERVER_PORT."""
        return self.allocations[0]


async def place(
    *,
    session: AsyncSession,
    cluster_id: uuid.UUID,
    cpu: int,
    memory_mb: int,
    disk_mb: int,
    count: int = 1,
    chosen: list[uuid.UUID] | None = None,
    node_id: uuid.UUID | None = None,
) -> Placement:
    """A node of the cluster with room for these limits and `count` free allocations (online nodes first).

    With `node_id`, only that node (422 when it is not a usable node of the cluster); with `chosen`
    allocations, their node is the only candidate and exactly they are claimed. 409 says what is short.
    """
    await get_cluster(session=session, cluster_id=cluster_id)
    query = select(Node).where(Node.cluster_id == cluster_id, Node.status != "revoked")
    if node_id is not None:
        if await session.scalar(query.where(Node.id == node_id).with_only_columns(Node.id)) is None:
            raise UnprocessableEntity(
                "That node is not a usable node of this cluster; pick one of the cluster's nodes.",
                errors=[FieldError(loc=["body", "node_id"], msg="not a usable node of the cluster", type="value_error")],
            )
        query = query.where(Node.id == node_id)
    picked: list[Allocation] = []
    if chosen is not None:
        picked = await _chosen_allocations(session=session, cluster_id=cluster_id, allocation_ids=chosen)
        query = query.where(Node.id == picked[0].node_id)
        count = 0  # the chosen ones are known free
    nodes = list(await session.scalars(query.order_by(Node.name)))
    if not nodes:
        raise Conflict("This cluster has no usable node; an administrator must add and register one.")
    used = {
        row.node_id: row
        for row in await session.execute(
            select(
                Container.node_id,
                func.coalesce(func.sum(Container.cpu), 0).label("cpu"),
                func.coalesce(func.sum(Container.memory_mb), 0).label("memory_mb"),
                func.coalesce(func.sum(Container.disk_mb), 0).label("disk_mb"),
            )
            .where(Container.node_id.in_([node.id for node in nodes]))
            .group_by(Container.node_id)
        )
    }
    free_ports = {
        row[0]: row[1]
        for row in await session.execute(
            select(Allocation.node_id, func.count())
            .where(Allocation.node_id.in_([node.id for node in nodes]), Allocation.container_id.is_(None))
            .group_by(Allocation.node_id)
        )
    }
    shortages: list[str] = []
    fitting: list[tuple[bool, int, Node]] = []
    for node in nodes:
        factor = 1 + node.overallocate_percent / 100
        usage = used.get(node.id)
        room = {
            "CPU": (int(node.cpu * factor) - int(usage.cpu if usage else 0), cpu, "%"),
            "memory": (int(node.memory_mb * factor) - int(usage.memory_mb if usage else 0), memory_mb, " MiB"),
            "disk": (int(node.disk_mb * factor) - int(usage.disk_mb if usage else 0), disk_mb, " MiB"),
        }
        short = [
            f"{what} (needs {need}{unit}, {max(free, 0)}{unit} free)" for what, (free, need, unit) in room.items() if free < need
        ]
        if free_ports.get(node.id, 0) < count:
            wanted = (
                "a free allocation (ip:port)" if count == 1 else f"{count} free allocations ({free_ports.get(node.id, 0)} free)"
            )
            short.append(wanted)
        if short:
            shortages.append(f"{node.name}: {', '.join(short)}")
        else:
            fitting.append((node.status != "online", -room["memory"][0], node))
    if not fitting:
        raise Conflict("No node of this cluster can take the container; short of " + "; ".join(shortages) + ".")
    fitting.sort(key=lambda item: (item[0], item[1], item[2].name))
    if picked:
        return Placement(node=fitting[0][2], allocations=picked)
    for _, _, node in fitting:
        allocations = await _claim_allocations(session=session, node_id=node.id, count=count)
        if len(allocations) == count:
            return Placement(node=node, allocations=allocations)
    raise Conflict("Every free allocation was just taken; try again.")


async def _claim_allocations(*, session: AsyncSession, node_id: uuid.UUID, count: int) -> list[Allocation]:
    return list(
        await session.scalars(
            select(Allocation)
            .where(Allocation.node_id == node_id, Allocation.container_id.is_(None))
            .order_by(Allocation.ip, Allocation.port)
            .limit(count)
            .with_for_update(skip_locked=True)
        )
    )


async def _chosen_allocations(
    *, session: AsyncSession, cluster_id: uuid.UUID, allocation_ids: list[uuid.UUID]
) -> list[Allocation]:
    """The asked allocations, in the order asked: all free, all of one node of the cluster (422/409 otherwise)."""
    wanted = list(dict.fromkeys(allocation_ids))
    found = {
        allocation.id: allocation
        for allocation in await session.scalars(
            select(Allocation)
            .join(Node, Node.id == Allocation.node_id)
            .where(Allocation.id.in_(wanted), Node.cluster_id == cluster_id)
        )
    }
    missing = [str(allocation_id) for allocation_id in wanted if allocation_id not in found]
    if missing:
        raise UnprocessableEntity(
            f"No such allocation in this cluster: {', '.join(missing)}.",
            errors=[FieldError(loc=["body", "allocation_ids"], msg="unknown allocation", type="value_error")],
        )
    # Sorted as ports_of() gives them: the lowest is SERVER_PORT, at creation and on every later start alike.
    allocations = sorted(
        (found[allocation_id] for allocation_id in wanted), key=lambda allocation: (allocation.ip, allocation.port)
    )
    if len({allocation.node_id for allocation in allocations}) > 1:
        raise UnprocessableEntity(
            "The allocations of one container must all be on one node.",
            errors=[FieldError(loc=["body", "allocation_ids"], msg="allocations of several nodes", type="value_error")],
        )
    taken = [f"{allocation.ip}:{allocation.port}" for allocation in allocations if allocation.container_id is not None]
    if taken:
        raise Conflict(f"These allocations are used by another container: {', '.join(taken)}.")
    return allocations


# --- containers ------------------------------------------------------------------------------------


async def list_containers(*, session: AsyncSession, principal: Principal, limit: int, offset: int) -> tuple[list[Container], int]:
    """The tenant's containers, newest first."""
    query = select(Container).where(Container.tenant_id == principal.tenant_id)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(query.order_by(Container.created_at.desc(), Container.id).limit(limit).offset(offset))
    return list(rows), int(total or 0)


async def get_container(*, session: AsyncSession, principal: Principal, container_id: uuid.UUID) -> Container:
    """A container of the principal's tenant, or 404 (another tenant's container does not exist for them)."""
    container = await session.scalar(
        select(Container).where(Container.id == container_id, Container.tenant_id == principal.tenant_id)
    )
    if container is None:
        raise NotFound("No such container.")
    return container


async def ports_of(*, session: AsyncSession, container_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[tuple[str, int]]]:
    """The ip:port pairs of each container."""
    found: dict[uuid.UUID, list[tuple[str, int]]] = {container_id: [] for container_id in container_ids}
    if container_ids:
        for allocation in await session.scalars(
            select(Allocation).where(Allocation.container_id.in_(container_ids)).order_by(Allocation.ip, Allocation.port)
        ):
            if allocation.container_id is not None:
                found[allocation.container_id].append((allocation.ip, allocation.port))
    return found


async def create_container(
    *, session: AsyncSession, principal: Principal, container_in: ContainerCreate, origin: Origin
) -> tuple[Container, Job]:
    """Check the variables against the egg's rules, place the container, and queue its install job."""
    egg = await get_egg(session=session, egg_id=container_in.egg_id)
    document = eggs.read_stored(egg.document)
    image = container_in.image or document.images[0]
    if image not in document.images:
        raise UnprocessableEntity(
            f"This egg offers the images {', '.join(document.images)}; pick one of them.",
            errors=[FieldError(loc=["body", "image"], msg="not one of the egg's images", type="value_error")],
        )
    requested = {name: eggs.as_env_value(value) for name, value in container_in.environment.items()}
    environment = eggs.resolve_environment(document, requested)
    limits = container_in.limits
    placement = await place(
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
        startup=eggs.render_startup(document.startup, environment, builtins),
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
    job = await _enqueue(session=session, container=container, action="create", principal=principal)
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
    await _drop_pending_restarts(session=session, container=container, superseded_by=action)
    job = await _enqueue(session=session, container=container, action=action, principal=principal)
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
    await _drop_pending_restarts(session=session, container=container, superseded_by="delete")
    job = await _enqueue(session=session, container=container, action="delete", principal=principal)
    await audit.record(
        session=session,
        action="compute.container.delete",
        origin=origin,
        principal=principal,
        target_type="container",
        target_id=container.id,
    )
    return container, job


AUTO_RESTART_ACTOR = "auto-restart"
MAX_RESTART_BACKOFF = 300


async def _drop_pending_restarts(*, session: AsyncSession, container: Container, superseded_by: str) -> None:
    """An auto-restart still waiting for its backoff gives way to what a user asked for."""
    await session.execute(
        update(Job)
        .where(Job.container_id == container.id, Job.status == "queued", Job.actor_name == AUTO_RESTART_ACTOR)
        .values(status="failed", error=f"Superseded by a {superseded_by} asked for meanwhile.", finished_at=utcnow())
    )


async def _after_crash(*, session: AsyncSession, container: Container, reason: str) -> None:
    """A crash under an `on-crash` policy queues a start after the backoff; past the retries the container stays crashed."""
    container.state = "crashed"
    container.state_reason = reason[:500]
    if container.restart_policy != "on-crash" or container.desired_state != "running":
        return
    window = timedelta(seconds=container.restart_window_seconds)
    restarts = int(
        await session.scalar(
            select(func.count())
            .select_from(Job)
            .where(
                Job.container_id == container.id,
                Job.actor_name == AUTO_RESTART_ACTOR,
                Job.created_at >= utcnow() - window,
                Job.error.not_like("Superseded%"),
            )
        )
        or 0
    )
    if restarts >= container.restart_max_retries:
        container.desired_state = "stopped"  # or a reconnect's reconciliation would start it again
        container.state_reason = (
            f"Crashed {restarts + 1} times within {container.restart_window_seconds} s; auto-restart gave up after "
            f"{restarts} restarts. Last: {reason}"
        )[:500]
        return
    delay = min(container.restart_backoff_seconds * 2**restarts, MAX_RESTART_BACKOFF)
    session.add(
        Job(
            tenant_id=container.tenant_id,
            actor_name=AUTO_RESTART_ACTOR,
            action="start",
            container_id=container.id,
            target_id=str(container.id),
            node_id=container.node_id,
            not_before=utcnow() + timedelta(seconds=delay),
            output=f"Restart {restarts + 1} of at most {container.restart_max_retries} after a crash: {reason}"[:4000],
        )
    )
    container.state_reason = f"{reason}; restarting in {delay} s ({restarts + 1} of {container.restart_max_retries})"[:500]
    await session.flush()


async def next_due(*, session: AsyncSession, node_id: uuid.UUID) -> float | None:
    """Seconds until the node's next delayed job may be sent (None when none waits)."""
    due = await session.scalar(
        select(func.min(Job.not_before)).where(Job.node_id == node_id, Job.status == "queued", Job.not_before.is_not(None))
    )
    if due is None:
        return None
    return max((due - utcnow()).total_seconds(), 0.0)


async def _enqueue(*, session: AsyncSession, container: Container, action: str, principal: Principal | None) -> Job:
    job = Job(
        tenant_id=container.tenant_id,
        actor_id=principal.user_id if principal else None,
        actor_name=principal.username if principal else "system",
        action=action,
        container_id=container.id,
        target_id=str(container.id),
        node_id=container.node_id,
    )
    session.add(job)
    await session.flush()
    return job


async def list_jobs(
    *, session: AsyncSession, principal: Principal, container_id: uuid.UUID | None, limit: int, offset: int
) -> tuple[list[Job], int]:
    """The tenant's jobs, newest first, optionally of one container."""
    query = select(Job).where(Job.tenant_id == principal.tenant_id)
    if container_id is not None:
        query = query.where(Job.target_id == str(container_id))
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(query.order_by(Job.created_at.desc(), Job.id).limit(limit).offset(offset))
    return list(rows), int(total or 0)


async def get_job(*, session: AsyncSession, principal: Principal, job_id: uuid.UUID) -> Job:
    """A job of the tenant, or 404."""
    job = await session.scalar(select(Job).where(Job.id == job_id, Job.tenant_id == principal.tenant_id))
    if job is None:
        raise NotFound("No such job.")
    return job


# --- the agent's side: commands out, results and observations in ------------------------------------


async def container_spec(*, session: AsyncSession, container: Container) -> protocol.ContainerSpec:
    """What the agent needs to create `container`."""
    egg = await get_egg(session=session, egg_id=container.egg_id)  # RESTRICT keeps it while containers use it
    document = eggs.read_stored(egg.document)
    ports = (await ports_of(session=session, container_ids=[container.id]))[container.id]
    builtins = {"SERVER_MEMORY": str(container.memory_mb)}
    if ports:
        builtins |= {"SERVER_IP": ports[0][0], "SERVER_PORT": str(ports[0][1])}
    return protocol.ContainerSpec(
        container_id=container.id,
        name=container.name,
        image=container.image,
        startup=container.startup,
        # A container made from an egg stored before reserved names were refused may hold one: it never reaches the agent.
        environment={
            **{name: value for name, value in container.environment.items() if not eggs.is_reserved(name)},
            **builtins,
            "STARTUP": container.startup,
        },
        cpu=container.cpu,
        memory_mb=container.memory_mb,
        disk_mb=container.disk_mb,
        pids=container.pids,
        ports=[protocol.Port(ip=ip, port=port) for ip, port in ports],
        install=document.install_spec(),
        stop=document.stop_spec(STOP_TIMEOUT_SECONDS),
    )


async def commands_for_node(*, session: AsyncSession, node_id: uuid.UUID, include_sent: bool) -> list[protocol.Command]:
    """The node's unfinished jobs as commands, oldest first (sent ones too after a reconnect), marked `sent`."""
    statuses = ("queued", "sent") if include_sent else ("queued",)
    jobs = list(
        await session.scalars(
            select(Job)
            .where(
                Job.node_id == node_id,
                Job.status.in_(statuses),
                or_(Job.not_before.is_(None), Job.not_before <= utcnow()),
            )
            .order_by(Job.created_at, Job.id)
        )
    )
    commands = []
    for job in jobs:
        container = await session.get(Container, job.container_id) if job.container_id else None
        if container is None:
            job.status, job.error, job.finished_at = "failed", "The container no longer exists.", utcnow()
            continue
        needs_spec = job.action != "delete"
        spec = await container_spec(session=session, container=container) if needs_spec else None
        commands.append(protocol.Command(idempotency_key=str(job.id), action=job.action, container_id=container.id, spec=spec))
        job.status = "sent"
        job.attempts += 1
        job.started_at = job.started_at or utcnow()
    await session.flush()
    return commands


_AFTER_SUCCESS = {"create": "stopped", "start": "running", "restart": "running", "stop": "stopped", "kill": "stopped"}


async def apply_result(*, session: AsyncSession, node_id: uuid.UUID, result: protocol.CommandResult) -> list[protocol.Command]:
    """Record how a job ended and move its container's state; returns follow-up commands (start after install)."""
    try:
        job_id = uuid.UUID(result.idempotency_key)
    except ValueError:
        return []
    job = await session.scalar(select(Job).where(Job.id == job_id, Job.node_id == node_id))
    if job is None or job.status in {"succeeded", "failed"}:
        return []  # another node's job, or a result already recorded (a re-sent command answered twice)
    job.status = "succeeded" if result.ok else "failed"
    job.output = "\n".join(part for part in (job.output, result.output) if part)[-65_536:]  # kept: why it was queued
    job.error = result.error[:4000]
    job.finished_at = utcnow()
    container = await session.get(Container, job.container_id) if job.container_id else None
    if container is None or container.node_id != node_id:
        await session.flush()
        return []
    follow_up: list[protocol.Command] = []
    if job.action == "delete":
        if result.ok:
            await session.execute(update(Allocation).where(Allocation.container_id == container.id).values(container_id=None))
            job.container_id = None
            await session.flush()
            await session.delete(container)
        else:
            container.state, container.state_reason = "stopped", f"Delete failed: {result.error}"[:500]
        await session.flush()
        return []
    if result.ok:
        # What the agent saw after the action wins over what the action should have done (it may have crashed at once).
        observed = result.state if result.state in {"running", "stopped", "crashed"} else None
        container.state = _observed_to_state(observed) if observed else _AFTER_SUCCESS[job.action]
        container.state_reason = ""
        if observed == "crashed":
            await _after_crash(session=session, container=container, reason="exited right after starting")
        if job.action == "create" and container.desired_state == "running":
            start = await _enqueue(session=session, container=container, action="start", principal=None)
            container.state = "starting"
            follow_up = await commands_for_node(session=session, node_id=node_id, include_sent=False)
            del start
    elif job.action == "create":
        container.state, container.state_reason = "install_failed", result.error[:500]
    else:
        container.state = _observed_to_state(result.state) if result.state else container.state
        container.state_reason = result.error[:500]
    await session.flush()
    return follow_up


def _observed_to_state(observed: str | None) -> str:
    return {"running": "running", "stopped": "stopped", "crashed": "crashed"}.get(observed or "", "stopped")


async def apply_event(*, session: AsyncSession, node_id: uuid.UUID, event: protocol.Event) -> None:
    """A container changed on its own; ignored while a job of it is still under way, or if it is not this node's."""
    container = await session.scalar(select(Container).where(Container.id == event.container_id, Container.node_id == node_id))
    if container is None or container.state in {"installing", "deleting"}:
        return
    busy = await session.scalar(
        select(Job.id).where(Job.container_id == container.id, Job.status.in_(("queued", "sent"))).limit(1)
    )
    if busy is not None:
        return
    container.state = _observed_to_state(event.state)
    container.state_reason = event.reason[:500]
    if event.state == "crashed":
        await _after_crash(session=session, container=container, reason=event.reason or "crashed")
    if event.enforced:
        container.desired_state = "stopped"  # or the reconciler would start it again
    await session.flush()


async def reconcile(
    *, session: AsyncSession, node_id: uuid.UUID, observed: list[protocol.ObservedContainer]
) -> list[protocol.Command]:
    """Compare what the node runs with what the database wants; queue jobs to close the gap.

    Containers the node runs that the database does not know (deleted while the agent was away)
    are removed; containers the database expects that the node lacks are marked failed.
    Returns the commands to send (the jobs left from before included).
    """
    seen = {item.container_id: item for item in observed}
    containers = list(await session.scalars(select(Container).where(Container.node_id == node_id)))
    known = {container.id for container in containers}
    busy = set(
        await session.scalars(
            select(Job.container_id).where(
                Job.node_id == node_id, Job.status.in_(("queued", "sent")), Job.container_id.is_not(None)
            )
        )
    )
    for container in containers:
        if container.id in busy:
            continue
        item = seen.get(container.id)
        if item is None or item.state == "missing":
            if container.state not in {"install_failed"}:
                container.state = "install_failed"
                container.state_reason = "The container is missing on its node; delete it and create it again."
            continue
        container.state = _observed_to_state(item.state)
        if container.desired_state == "running" and item.state != "running":
            await _enqueue(session=session, container=container, action="start", principal=None)
            container.state = "starting"
        elif container.desired_state == "stopped" and item.state == "running":
            await _enqueue(session=session, container=container, action="stop", principal=None)
            container.state = "stopping"
    await session.flush()
    commands = await commands_for_node(session=session, node_id=node_id, include_sent=True)
    for container_id in seen.keys() - known:
        commands.append(protocol.Command(idempotency_key=f"orphan:{container_id}", action="delete", container_id=container_id))
    return commands


async def node_owns_container(*, session: AsyncSession, node_id: uuid.UUID, container_id: uuid.UUID) -> bool:
    """Whether a container is placed on this node (a node acts for its own containers only)."""
    return (
        await session.scalar(select(Container.id).where(Container.id == container_id, Container.node_id == node_id)) is not None
    )

"""Rules of nodes: their registration and credentials, allocations (ip:port), usage, and placing a container."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.compute.clusters import service as clusters_service
from nubes.compute.containers.models import Container
from nubes.compute.nodes import scheduler
from nubes.compute.nodes.models import Allocation, Node
from nubes.compute.nodes.schemas import AllocationCreate, NodeCreate, NodeUsage
from nubes.core import audit
from nubes.core.audit import Origin
from nubes.core.db import utcnow
from nubes.core.errors import Conflict, FieldError, NotFound, UnprocessableEntity
from nubes.core.principal import Principal

REGISTRATION_PREFIX = "nbr_"
CREDENTIAL_PREFIX = "nbn_"
REGISTRATION_TTL = timedelta(hours=24)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


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
    await clusters_service.get_cluster(session=session, cluster_id=node_in.cluster_id)
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
    await clusters_service.get_cluster(session=session, cluster_id=cluster_id)
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
    nodes = {node.id: node for node in await session.scalars(query.order_by(Node.name))}
    candidates = await _candidates(session=session, nodes=list(nodes.values()))
    request = scheduler.Request(
        cpu=cpu,
        memory_mb=memory_mb,
        disk_mb=disk_mb,
        allocations=count,
        node_id=node_id,
        chosen=[allocation.id for allocation in picked],
    )
    lost_race = False
    while True:
        choice = scheduler.choose(candidates, request)
        if isinstance(choice, scheduler.Refusal):
            raise Conflict("Every free allocation was just taken; try again." if lost_race else choice.reason)
        if picked:
            return Placement(node=nodes[choice.node.id], allocations=picked)
        claimed = await _claim_allocations(session=session, allocation_ids=choice.allocations)
        if len(claimed) == len(choice.allocations):
            return Placement(node=nodes[choice.node.id], allocations=claimed)
        # Another transaction holds some of them: they count as taken, and the choice is made again.
        lost_race = True
        taken = set(choice.allocations) - {allocation.id for allocation in claimed}
        candidates = [
            replace(node, free_allocations=[a for a in node.free_allocations if a not in taken]) if node is choice.node else node
            for node in candidates
        ]


async def _candidates(*, session: AsyncSession, nodes: list[Node]) -> list[scheduler.Candidate]:
    """The nodes as placement sees them: capacity, what their containers reserve, their free allocations."""
    node_ids = [node.id for node in nodes]
    used = {
        row.node_id: row
        for row in await session.execute(
            select(
                Container.node_id,
                func.coalesce(func.sum(Container.cpu), 0).label("cpu"),
                func.coalesce(func.sum(Container.memory_mb), 0).label("memory_mb"),
                func.coalesce(func.sum(Container.disk_mb), 0).label("disk_mb"),
            )
            .where(Container.node_id.in_(node_ids))
            .group_by(Container.node_id)
        )
    }
    free: dict[uuid.UUID, list[uuid.UUID]] = {node_id: [] for node_id in node_ids}
    for allocation_id, node_id in await session.execute(
        select(Allocation.id, Allocation.node_id)
        .where(Allocation.node_id.in_(node_ids), Allocation.container_id.is_(None))
        .order_by(Allocation.ip, Allocation.port)
    ):
        free[node_id].append(allocation_id)
    candidates = []
    for node in nodes:
        usage = used.get(node.id)
        candidates.append(
            scheduler.Candidate(
                id=node.id,
                name=node.name,
                status=node.status,
                cpu=node.cpu,
                memory_mb=node.memory_mb,
                disk_mb=node.disk_mb,
                overallocate_percent=node.overallocate_percent,
                used_cpu=int(usage.cpu) if usage else 0,
                used_memory_mb=int(usage.memory_mb) if usage else 0,
                used_disk_mb=int(usage.disk_mb) if usage else 0,
                free_allocations=free[node.id],
            )
        )
    return candidates


async def _claim_allocations(*, session: AsyncSession, allocation_ids: tuple[uuid.UUID, ...]) -> list[Allocation]:
    """The allocations among these that are still free and not held by another transaction, in placement order."""
    rows = {
        allocation.id: allocation
        for allocation in await session.scalars(
            select(Allocation)
            .where(Allocation.id.in_(allocation_ids), Allocation.container_id.is_(None))
            .with_for_update(skip_locked=True)
        )
    }
    return [rows[allocation_id] for allocation_id in allocation_ids if allocation_id in rows]


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

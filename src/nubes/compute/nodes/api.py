"""Routes of nodes and their allocations (platform administrators), and node registration (agents)."""

from __future__ import annotations

import functools
import uuid

from fastapi import Request, Response

from nubes.compute.deps import HubDep, PlatformAdmin
from nubes.compute.nodes import service
from nubes.compute.nodes.schemas import (
    AllocationCreate,
    AllocationRead,
    NodeCreate,
    NodeCreated,
    NodeCredential,
    NodeRead,
    NodeRegister,
)
from nubes.core.db import SessionDep
from nubes.core.jobs import after_commit
from nubes.core.routing import api_router
from nubes.identity.deps import OriginDep, SettingsDep

router = api_router()


@router.get("/nodes", operation_id="nodes-list", response_model=list[NodeRead], tags=["compute"], summary="Nodes")
async def list_nodes(session: SessionDep, _: PlatformAdmin) -> list[NodeRead]:
    """Every node, its capacity, what its containers reserve, and agent status (platform administrators)."""
    nodes = await service.list_nodes(session=session)
    usage = await service.node_usage(session=session, node_ids=[node.id for node in nodes])
    return [NodeRead.model_validate(node).model_copy(update={"allocated": usage[node.id]}) for node in nodes]


@router.post(
    "/nodes", operation_id="nodes-create", response_model=NodeCreated, status_code=201, tags=["compute"], summary="Add a node"
)
async def create_node(
    node_in: NodeCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    principal: PlatformAdmin,
    origin: OriginDep,
) -> NodeCreated:
    """A node and its one-time registration token: run the `agent_command` on the node within 24 hours."""
    node, token = await service.create_node(session=session, principal=principal, node_in=node_in, origin=origin)
    server = settings.public_url or str(request.base_url).rstrip("/")
    response.headers["Cache-Control"] = "no-store"
    return NodeCreated.model_validate(
        {
            **NodeRead.model_validate(node).model_dump(),
            "registration_token": token,
            "registration_expires_at": node.registration_expires_at or node.created_at,
            "agent_command": f"nubes agent --server {server} --token {token}",
        }
    )


@router.post(
    "/nodes/register", operation_id="nodes-register", response_model=NodeCredential, tags=["compute"], summary="Register an agent"
)
async def register_node(register_in: NodeRegister, response: Response, session: SessionDep, origin: OriginDep) -> NodeCredential:
    """Trade the one-time registration token for the node's credential (what `nubes agent` does on its first start)."""
    node, credential = await service.register_node(session=session, token=register_in.token, origin=origin)
    response.headers["Cache-Control"] = "no-store"
    return NodeCredential(node_id=node.id, credential=credential)


@router.get("/nodes/{node_id:uuid}", operation_id="nodes-get", response_model=NodeRead, tags=["compute"], summary="One node")
async def get_node(node_id: uuid.UUID, session: SessionDep, _: PlatformAdmin) -> NodeRead:
    """A node and what its containers reserve."""
    node = await service.get_node(session=session, node_id=node_id)
    usage = await service.node_usage(session=session, node_ids=[node.id])
    return NodeRead.model_validate(node).model_copy(update={"allocated": usage[node.id]})


@router.post(
    "/nodes/{node_id:uuid}/revoke",
    operation_id="nodes-revoke",
    response_model=NodeRead,
    tags=["compute"],
    summary="Revoke a node",
)
async def revoke_node(
    node_id: uuid.UUID,
    session: SessionDep,
    principal: PlatformAdmin,
    origin: OriginDep,
    hub: HubDep,
) -> NodeRead:
    """The node's credential stops working and its agent is disconnected."""
    node = await service.revoke_node(session=session, principal=principal, node_id=node_id, origin=origin)
    await hub.disconnect(node.id)
    after_commit(session, functools.partial(hub.disconnect, node.id))  # again, in case it reconnected before the commit
    return NodeRead.model_validate(node)


@router.get(
    "/nodes/{node_id:uuid}/allocations",
    operation_id="nodes-allocations-list",
    response_model=list[AllocationRead],
    tags=["compute"],
    summary="A node's allocations",
)
async def list_allocations(node_id: uuid.UUID, session: SessionDep, _: PlatformAdmin) -> list[AllocationRead]:
    """The ip:port pairs of a node and who uses them."""
    return [AllocationRead.model_validate(row) for row in await service.list_allocations(session=session, node_id=node_id)]


@router.post(
    "/nodes/{node_id:uuid}/allocations",
    operation_id="nodes-allocations-add",
    response_model=list[AllocationRead],
    status_code=201,
    tags=["compute"],
    summary="Add allocations",
)
async def add_allocations(
    node_id: uuid.UUID, allocation_in: AllocationCreate, session: SessionDep, principal: PlatformAdmin, origin: OriginDep
) -> list[AllocationRead]:
    """Give a node ports on an IP for containers to bind (ranges like 25600-25610)."""
    rows = await service.add_allocations(
        session=session, principal=principal, node_id=node_id, allocation_in=allocation_in, origin=origin
    )
    return [AllocationRead.model_validate(row) for row in rows]

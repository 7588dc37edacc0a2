"""Routes of the compute domain: clusters, nodes, allocations, eggs, containers, jobs and the agent socket."""

from __future__ import annotations

import secrets
import uuid
from typing import Annotated, Any

from fastapi import BackgroundTasks, Body, Depends, Query, Request, Response, WebSocket
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.compute import eggs, protocol, service
from nubes.compute.console import InputLimiter, serve_console, ticket_scope
from nubes.compute.gateway import AgentHub, serve_agent
from nubes.compute.locking import restart_as_writer
from nubes.compute.models import Container, Egg, Job
from nubes.compute.schemas import (
    AllocationCreate,
    AllocationRead,
    ClusterCreate,
    ClusterRead,
    ConsoleTicket,
    ContainerAccepted,
    ContainerCreate,
    ContainerLogs,
    ContainerPage,
    ContainerRead,
    ContainerUpdate,
    EggCategoryCreate,
    EggCategoryRead,
    EggCategoryUpdate,
    EggRead,
    EggUpdate,
    EggVariableRead,
    JobPage,
    JobRead,
    NodeCreate,
    NodeCreated,
    NodeCredential,
    NodeRead,
    NodeRegister,
    PortRead,
    PowerRequest,
)
from nubes.core.db import SessionDep
from nubes.core.errors import Conflict, Forbidden, ServiceUnavailable
from nubes.core.pagination import Limit, Offset
from nubes.core.principal import Principal
from nubes.core.routing import api_router
from nubes.core.websocket import SocketRegistry, Tickets
from nubes.identity.deps import OriginDep, SettingsDep, require
from nubes.identity.deps import SuperAdmin as PlatformAdmin

router = api_router()

ContainersRead = Annotated[Principal, Depends(require("containers.read"))]
ContainersManage = Annotated[Principal, Depends(require("containers.manage"))]
MAX_EGG_BYTES = 1_048_576


async def hub_of(request: Request) -> AgentHub:
    """The app's agent hub."""
    hub: AgentHub = request.app.state.agent_hub
    return hub


HubDep = Annotated[AgentHub, Depends(hub_of)]


async def writer_session(session: SessionDep) -> AsyncSession:
    """The request's session, the database's writer from here on (see compute/locking.py)."""
    await restart_as_writer(session)
    return session


WriteSessionDep = Annotated[AsyncSession, Depends(writer_session)]


# --- clusters --------------------------------------------------------------------------------------


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
    cluster_in: ClusterCreate, session: WriteSessionDep, principal: PlatformAdmin, origin: OriginDep
) -> ClusterRead:
    """A new, empty cluster (platform administrators)."""
    return ClusterRead.model_validate(
        await service.create_cluster(session=session, principal=principal, cluster_in=cluster_in, origin=origin)
    )


# --- nodes -----------------------------------------------------------------------------------------


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
    session: WriteSessionDep,
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
async def register_node(
    register_in: NodeRegister, response: Response, session: WriteSessionDep, origin: OriginDep
) -> NodeCredential:
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
    session: WriteSessionDep,
    principal: PlatformAdmin,
    origin: OriginDep,
    hub: HubDep,
    background: BackgroundTasks,
) -> NodeRead:
    """The node's credential stops working and its agent is disconnected."""
    node = await service.revoke_node(session=session, principal=principal, node_id=node_id, origin=origin)
    await hub.disconnect(node.id)
    background.add_task(hub.disconnect, node.id)  # again after the commit, in case it reconnected in between
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
    node_id: uuid.UUID, allocation_in: AllocationCreate, session: WriteSessionDep, principal: PlatformAdmin, origin: OriginDep
) -> list[AllocationRead]:
    """Give a node ports on an IP for containers to bind (ranges like 25600-25610)."""
    rows = await service.add_allocations(
        session=session, principal=principal, node_id=node_id, allocation_in=allocation_in, origin=origin
    )
    return [AllocationRead.model_validate(row) for row in rows]


# --- eggs ------------------------------------------------------------------------------------------


def _egg_read(egg: Egg) -> EggRead:
    document = eggs.read_stored(egg.document)
    return EggRead(
        id=egg.id,
        name=egg.name,
        author=egg.author,
        description=egg.description,
        category_id=egg.category_id,
        images=document.images,
        startup=document.startup,
        variables=[
            EggVariableRead(
                name=variable.name,
                description=variable.description or "",
                env_variable=variable.env_variable,
                default_value=variable.default,
                user_editable=bool(variable.user_editable),
                rules=variable.rules if isinstance(variable.rules, str) else "|".join(variable.rules),
            )
            for variable in document.variables
            if variable.user_viewable
        ],
        created_at=egg.created_at,
    )


@router.get("/eggs", operation_id="eggs-list", response_model=list[EggRead], tags=["compute"], summary="Eggs")
async def list_eggs(
    session: SessionDep,
    _: ContainersRead,
    category_id: Annotated[uuid.UUID | None, Query(description="Only the eggs of this category.")] = None,
) -> list[EggRead]:
    """The templates containers are made from."""
    return [_egg_read(egg) for egg in await service.list_eggs(session=session, category_id=category_id)]


@router.patch("/eggs/{egg_id:uuid}", operation_id="eggs-update", response_model=EggRead, tags=["compute"], summary="Edit an egg")
async def update_egg(
    egg_id: uuid.UUID, update_in: EggUpdate, session: WriteSessionDep, principal: PlatformAdmin, origin: OriginDep
) -> EggRead:
    """Rename an egg, change its author or description (its export carries them) or move it to another category."""
    egg = await service.update_egg(session=session, principal=principal, egg_id=egg_id, update_in=update_in, origin=origin)
    return _egg_read(egg)


# --- egg categories --------------------------------------------------------------------------------


@router.get(
    "/egg-categories",
    operation_id="egg-categories-list",
    response_model=list[EggCategoryRead],
    tags=["compute"],
    summary="Egg categories",
)
async def list_egg_categories(session: SessionDep, _: ContainersRead) -> list[EggCategoryRead]:
    """The shelves eggs are sorted on, with how many eggs each holds."""
    return [
        EggCategoryRead(id=category.id, name=category.name, description=category.description, eggs=count)
        for category, count in await service.list_egg_categories(session=session)
    ]


@router.post(
    "/egg-categories",
    operation_id="egg-categories-create",
    response_model=EggCategoryRead,
    status_code=201,
    tags=["compute"],
    summary="Add an egg category",
)
async def create_egg_category(
    category_in: EggCategoryCreate, session: WriteSessionDep, principal: PlatformAdmin, origin: OriginDep
) -> EggCategoryRead:
    """A new, empty category (platform administrators)."""
    category = await service.create_egg_category(session=session, principal=principal, category_in=category_in, origin=origin)
    return EggCategoryRead(id=category.id, name=category.name, description=category.description, eggs=0)


@router.patch(
    "/egg-categories/{category_id:uuid}",
    operation_id="egg-categories-update",
    response_model=EggCategoryRead,
    tags=["compute"],
    summary="Rename an egg category",
)
async def update_egg_category(
    category_id: uuid.UUID, update_in: EggCategoryUpdate, session: WriteSessionDep, principal: PlatformAdmin, origin: OriginDep
) -> EggCategoryRead:
    """Change a category's name or description."""
    category, count = await service.update_egg_category(
        session=session, principal=principal, category_id=category_id, update_in=update_in, origin=origin
    )
    return EggCategoryRead(id=category.id, name=category.name, description=category.description, eggs=count)


@router.delete(
    "/egg-categories/{category_id:uuid}",
    operation_id="egg-categories-delete",
    status_code=204,
    tags=["compute"],
    summary="Delete an egg category",
)
async def delete_egg_category(
    category_id: uuid.UUID, session: WriteSessionDep, principal: PlatformAdmin, origin: OriginDep
) -> None:
    """Remove a category; its eggs stay, without a category."""
    await service.delete_egg_category(session=session, principal=principal, category_id=category_id, origin=origin)


@router.post(
    "/eggs/import",
    operation_id="eggs-import",
    response_model=EggRead,
    status_code=201,
    tags=["compute"],
    summary="Import a Pterodactyl egg",
    max_body_size=MAX_EGG_BYTES,
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": eggs.document_schema()}}}},
)
async def import_egg(
    document: Annotated[dict[str, Any], Body(description="A Pterodactyl egg file (PTDL_v2), unchanged.")],
    session: WriteSessionDep,
    principal: PlatformAdmin,
    origin: OriginDep,
    category_id: Annotated[uuid.UUID | None, Query()] = None,
) -> EggRead:
    """Store an egg exported from Pterodactyl (or written by hand); a bad file is refused naming each bad field."""
    egg = await service.import_egg(session=session, principal=principal, raw=document, category_id=category_id, origin=origin)
    return _egg_read(egg)


@router.get("/eggs/{egg_id:uuid}", operation_id="eggs-get", response_model=EggRead, tags=["compute"], summary="One egg")
async def get_egg(egg_id: uuid.UUID, session: SessionDep, _: ContainersRead) -> EggRead:
    """An egg and its variables."""
    return _egg_read(await service.get_egg(session=session, egg_id=egg_id))


@router.get(
    "/eggs/{egg_id:uuid}/export",
    operation_id="eggs-export",
    response_model=dict[str, Any],
    tags=["compute"],
    summary="Export an egg",
)
async def export_egg(egg_id: uuid.UUID, session: SessionDep, _: PlatformAdmin) -> Response:
    """The egg file exactly as it was imported."""
    # Encoded as stored, not re-validated against the response model: pydantic's serializer stops at a
    # depth that eggs stored before the JSON depth limit may have.
    document = (await service.get_egg(session=session, egg_id=egg_id)).document
    return Response(content=eggs.dumps(document), media_type="application/json")


@router.delete("/eggs/{egg_id:uuid}", operation_id="eggs-delete", status_code=204, tags=["compute"], summary="Delete an egg")
async def delete_egg(egg_id: uuid.UUID, session: WriteSessionDep, principal: PlatformAdmin, origin: OriginDep) -> None:
    """Remove an egg that no container uses."""
    await service.delete_egg(session=session, principal=principal, egg_id=egg_id, origin=origin)


# --- containers ------------------------------------------------------------------------------------


async def _container_reads(session: SessionDep, containers: list[Container]) -> list[ContainerRead]:
    ports = await service.ports_of(session=session, container_ids=[container.id for container in containers])
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
    session: WriteSessionDep,
    principal: ContainersManage,
    origin: OriginDep,
    hub: HubDep,
    background: BackgroundTasks,
) -> ContainerAccepted:
    """Place a container from an egg and install it; follow the returned job (or the container's state)."""
    container, job = await service.create_container(
        session=session, principal=principal, container_in=container_in, origin=origin
    )
    background.add_task(hub.wake, container.node_id)
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
    container_id: uuid.UUID, update_in: ContainerUpdate, session: WriteSessionDep, principal: ContainersManage, origin: OriginDep
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
    session: WriteSessionDep,
    principal: ContainersManage,
    origin: OriginDep,
    hub: HubDep,
    background: BackgroundTasks,
) -> ContainerAccepted:
    """Queue a power action: stop sends the egg's stop command, then kills after a timeout."""
    container, job = await service.power(
        session=session, principal=principal, container_id=container_id, action=power_in.action, origin=origin
    )
    background.add_task(hub.wake, container.node_id)
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
    session: WriteSessionDep,
    principal: ContainersManage,
    origin: OriginDep,
    hub: HubDep,
    background: BackgroundTasks,
) -> ContainerAccepted:
    """Queue the removal of the container and its volume."""
    container, job = await service.delete_container(
        session=session, principal=principal, container_id=container_id, origin=origin
    )
    background.add_task(hub.wake, container.node_id)
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


# --- jobs ------------------------------------------------------------------------------------------


@router.get("/jobs", operation_id="jobs-list", response_model=JobPage, tags=["containers"], summary="Jobs")
async def list_jobs(
    session: SessionDep,
    principal: ContainersRead,
    container_id: Annotated[uuid.UUID | None, Query(description="Only this container's jobs.")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> JobPage:
    """Every operation on your tenant's containers, newest first: who, what, when, how it ended."""
    rows, total = await service.list_jobs(
        session=session, principal=principal, container_id=container_id, limit=limit, offset=offset
    )
    return JobPage(items=[JobRead.model_validate(row) for row in rows], total=total)


@router.get("/jobs/{job_id}", operation_id="jobs-get", response_model=JobRead, tags=["containers"], summary="One job")
async def get_job(job_id: uuid.UUID, session: SessionDep, principal: ContainersRead) -> JobRead:
    """A job and its output or error."""
    job: Job = await service.get_job(session=session, principal=principal, job_id=job_id)
    return JobRead.model_validate(job)


# --- the console ------------------------------------------------------------------------------------


def _console_tools(app: Any) -> tuple[Tickets, SocketRegistry]:
    """The app's console tickets and socket registry, made on first use."""
    if not hasattr(app.state, "console_tickets"):
        app.state.console_tickets = Tickets(app.state.settings.secret_key or secrets.token_hex(32))
        app.state.console_sockets = SocketRegistry()
        app.state.console_input_limiter = InputLimiter()
    return app.state.console_tickets, app.state.console_sockets


@router.post(
    "/containers/{container_id}/console-ticket",
    operation_id="containers-console-ticket",
    response_model=ConsoleTicket,
    tags=["containers"],
    summary="A ticket to open the console",
)
async def console_ticket(
    container_id: uuid.UUID,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("containers.console"))],
) -> ConsoleTicket:
    """A single-use ticket, valid for seconds, that opens this container's console and no other (`?ticket=`)."""
    await service.get_container(session=session, principal=principal, container_id=container_id)
    if principal.session_id is None:
        raise Forbidden("Tickets are for signed-in sessions; a personal access token can open the console with its header.")
    tickets, _ = _console_tools(request.app)
    response.headers["Cache-Control"] = "no-store"
    ticket = tickets.issue(user_id=principal.user_id, session_id=principal.session_id, scope=ticket_scope(container_id))
    return ConsoleTicket(ticket=ticket, expires_in=tickets.ttl, url=f"/api/ws/containers/{container_id}?ticket={ticket}")


@router.websocket("/ws/containers/{container_id}")
async def console_socket(websocket: WebSocket, container_id: uuid.UUID) -> None:
    """A container's console: the session cookie (same Origin only), a bearer token or a ticket."""
    tickets, registry = _console_tools(websocket.app)
    state = websocket.app.state
    await serve_console(
        websocket,
        container_id,
        settings=state.settings,
        sessions=state.db.sessions,
        keyring=state.keyring,
        hub=state.agent_hub,
        tickets=tickets,
        registry=registry,
        limiter=state.console_input_limiter,
    )


# --- the agent's socket (not in OpenAPI) -------------------------------------------------------------


@router.websocket("/ws/agent")
async def agent_socket(websocket: WebSocket) -> None:
    """One node agent, authenticated by its node credential (`Authorization: Bearer nbn_...`)."""
    await serve_agent(websocket, websocket.app.state.agent_hub, websocket.app.state.db.writer_sessions)

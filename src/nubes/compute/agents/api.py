"""Routes of the sockets: a container's console (browser) and the agent's socket (nodes)."""

from __future__ import annotations

import secrets
import uuid
from typing import Annotated, Any

from fastapi import Depends, Request, Response, WebSocket

from nubes.compute.agents.console import InputLimiter, serve_console, ticket_scope
from nubes.compute.agents.gateway import serve_agent
from nubes.compute.agents.schemas import ConsoleTicket
from nubes.compute.containers import service as containers_service
from nubes.core.db import SessionDep
from nubes.core.errors import Forbidden
from nubes.core.principal import Principal
from nubes.core.routing import api_router
from nubes.core.websocket import SocketRegistry, Tickets
from nubes.identity.deps import require

router = api_router()


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
    await containers_service.get_container(session=session, principal=principal, container_id=container_id)
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


@router.websocket("/ws/agent")
async def agent_socket(websocket: WebSocket) -> None:
    """One node agent, authenticated by its node credential (`Authorization: Bearer nbn_...`)."""
    await serve_agent(websocket, websocket.app.state.agent_hub, websocket.app.state.db.writer_sessions)

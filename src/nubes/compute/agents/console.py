"""A container's console over `WS /api/ws/containers/{id}`: log tail then live lines, stdin lines, state changes.

Frames from the server are JSON: `{"type": "state", "state": ...}`, `{"type": "output", "lines": [...]}`,
`{"type": "stats", "cpu_percent": ..., "memory_bytes": ..., "memory_limit_bytes": ..., "network_rx_bytes": ...,
"network_tx_bytes": ..., "disk_bytes": ...}` about once a second while it runs,
`{"type": "notice", "message": ...}` (also when a browser reading slower than the container prints lost the oldest
lines: it says how many). An output frame carries up to 2000 lines, in order. The client sends
`{"type": "input", "line": "..."}`. Access is checked again every few seconds: a user who loses it (session
ended, role changed, container deleted) is disconnected with code 4401 or 4403.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from nubes.compute.agents.gateway import AgentHub, ConsoleFeed
from nubes.compute.agents.protocol import MAX_CONSOLE_LINE, ConsoleStats
from nubes.compute.containers import service as containers_service
from nubes.config import Settings
from nubes.core.db import finish_on_exit
from nubes.core.errors import NotFound, NubesError
from nubes.core.principal import Principal
from nubes.core.websocket import (
    CLOSE_FORBIDDEN,
    CLOSE_UNAUTHORIZED,
    SocketCredential,
    SocketRegistry,
    Tickets,
    WebSocketRefused,
    refuse,
    socket_credential,
)
from nubes.identity.deps import ACCESS_COOKIE, principal_of_token
from nubes.identity.sessions import service as identity_service
from nubes.identity.sessions.tokens import KeyRing

PERMISSION = "containers.console"
# Input per user per container (all their sockets to it together): lines and bytes a second, with a burst.
INPUT_LINES_PER_SECOND = 10.0
INPUT_LINES_BURST = 20.0
INPUT_BYTES_PER_SECOND = 8192.0
INPUT_BYTES_BURST = 16384.0


@dataclass
class _Bucket:
    lines: float
    data: float
    at: float
    noticed_at: float = 0.0


class InputLimiter:
    """Token buckets of console input per (user, container): excess lines are dropped, with a notice now and then."""

    def __init__(
        self,
        *,
        lines_per_second: float = INPUT_LINES_PER_SECOND,
        lines_burst: float = INPUT_LINES_BURST,
        bytes_per_second: float = INPUT_BYTES_PER_SECOND,
        bytes_burst: float = INPUT_BYTES_BURST,
    ) -> None:
        self.lines_per_second, self.lines_burst = lines_per_second, lines_burst
        self.bytes_per_second, self.bytes_burst = bytes_per_second, bytes_burst
        self.buckets: dict[tuple[uuid.UUID, uuid.UUID], _Bucket] = {}

    def allow(self, user_id: uuid.UUID, container_id: uuid.UUID, size: int, now: float | None = None) -> bool:
        """Whether a line of `size` bytes may go to the container now (and take its share of the budget)."""
        now = time.monotonic() if now is None else now
        bucket = self.buckets.get((user_id, container_id))
        if bucket is None:
            if len(self.buckets) > 10_000:  # forget idle users' buckets (all full again by now)
                self.buckets = {key: kept for key, kept in self.buckets.items() if now - kept.at < 60}
            bucket = self.buckets[(user_id, container_id)] = _Bucket(self.lines_burst, self.bytes_burst, now)
        elapsed = max(now - bucket.at, 0.0)
        bucket.at = now
        bucket.lines = min(self.lines_burst, bucket.lines + elapsed * self.lines_per_second)
        bucket.data = min(self.bytes_burst, bucket.data + elapsed * self.bytes_per_second)
        cost = size + 1  # the newline
        if bucket.lines < 1 or bucket.data < cost:
            return False
        bucket.lines -= 1
        bucket.data -= cost
        return True

    def should_notice(self, user_id: uuid.UUID, container_id: uuid.UUID, now: float | None = None) -> bool:
        """At most one "dropped" notice a second per user and container."""
        now = time.monotonic() if now is None else now
        bucket = self.buckets.get((user_id, container_id))
        if bucket is None or now - bucket.noticed_at < 1.0:
            return False
        bucket.noticed_at = now
        return True


RECHECK_SECONDS = 3.0
MAX_CLIENT_FRAME = 16_384
CLOSE_NODE_GONE = 1012  # "service restart": the browser should reconnect with backoff


def ticket_scope(container_id: uuid.UUID) -> str:
    """The scope of a console ticket: one container."""
    return f"container:{container_id}"


async def _principal(session: AsyncSession, keyring: KeyRing, credential: SocketCredential) -> Principal:
    if credential.kind == "token":
        return await principal_of_token(session=session, keyring=keyring, token=credential.token)
    if credential.user_id is None or credential.session_id is None:
        raise WebSocketRefused(CLOSE_UNAUTHORIZED, "sign in again")
    identity = await identity_service.load_identity(session=session, user_id=credential.user_id, session_id=credential.session_id)
    return identity.principal


async def _authorize(
    sessions: async_sessionmaker[AsyncSession], keyring: KeyRing, credential: SocketCredential, container_id: uuid.UUID
) -> tuple[Principal, uuid.UUID, str]:
    """The principal, the container's node and state; WebSocketRefused when access is (no longer) there."""
    async with sessions() as session, finish_on_exit(session):
        try:
            principal = await _principal(session, keyring, credential)
        except NubesError as exc:
            raise WebSocketRefused(CLOSE_UNAUTHORIZED, exc.detail or "sign in again") from None
        if not principal.can(PERMISSION):
            raise WebSocketRefused(CLOSE_FORBIDDEN, f"you need the permission {PERMISSION}")
        try:
            container = await containers_service.get_container(session=session, principal=principal, container_id=container_id)
        except NotFound:
            raise WebSocketRefused(CLOSE_FORBIDDEN, "no such container") from None
        return principal, container.node_id, container.state


async def serve_console(
    websocket: WebSocket,
    container_id: uuid.UUID,
    *,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    keyring: KeyRing,
    hub: AgentHub,
    tickets: Tickets,
    registry: SocketRegistry,
    limiter: InputLimiter,
    tail: int = 100,
) -> None:
    """Run one console socket from handshake to close."""
    try:
        scope = ticket_scope(container_id)
        credential = socket_credential(
            websocket, public_url=settings.public_url, cookie_name=ACCESS_COOKIE, tickets=tickets, scope=scope
        )
        principal, node_id, state = await _authorize(sessions, keyring, credential, container_id)
    except WebSocketRefused as refused:
        await refuse(websocket, refused)
        return
    if principal.session_id is not None:
        # Re-checked by its session from now on: the short-lived access token may expire while the console stays open.
        credential = SocketCredential(kind="session", user_id=principal.user_id, session_id=principal.session_id)
    try:
        async with registry.hold(principal.user_id, websocket):
            await websocket.accept()
            await _send(websocket, {"type": "state", "state": state})
            opened = await hub.open_console(node_id, container_id, tail)
            if opened is None:
                await _send(websocket, {"type": "notice", "message": "The container's node is not connected; retrying later."})
                await websocket.close(code=CLOSE_NODE_GONE, reason="node not connected")
                return
            stream_id, feed = opened
            tasks = [
                asyncio.create_task(_pump(websocket, feed)),
                asyncio.create_task(
                    _read_input(websocket, hub, node_id, stream_id, container_id, limiter=limiter, user_id=principal.user_id)
                ),
                asyncio.create_task(_watch_access(websocket, sessions, keyring, credential, container_id, state)),
            ]
            try:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    lost = None if task.cancelled() else task.exception()
                    if isinstance(lost, WebSocketRefused):
                        await refuse(websocket, lost)
            finally:
                for task in tasks:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError, WebSocketRefused):
                        await task
                await hub.close_console(node_id, stream_id)
    except WebSocketRefused as refused:
        await refuse(websocket, refused)
    except WebSocketDisconnect:
        pass
    finally:
        if websocket.application_state == WebSocketState.CONNECTED:
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                await websocket.close()


async def _send(websocket: WebSocket, frame: dict[str, Any]) -> None:
    await websocket.send_text(json.dumps(frame))


async def _pump(websocket: WebSocket, feed: ConsoleFeed) -> None:
    """Output from the agent to the browser; the end of the stream ends the socket (the browser reconnects)."""
    while True:
        dropped, item = await feed.next()
        if dropped:
            message = f"{dropped} lines were dropped: this connection could not keep up with the container's output."
            await _send(websocket, {"type": "notice", "message": message})
        if item is None:
            await _send(websocket, {"type": "notice", "message": "The container's node disconnected."})
            await websocket.close(code=CLOSE_NODE_GONE, reason="node disconnected")
            return
        if isinstance(item, ConsoleStats):
            await _send(websocket, {"type": "stats", **item.model_dump(exclude={"type", "protocol", "stream_id"})})
        else:
            await _send(websocket, {"type": "output", "lines": item})


async def _read_input(
    websocket: WebSocket,
    hub: AgentHub,
    node_id: uuid.UUID,
    stream_id: uuid.UUID,
    container_id: uuid.UUID,
    *,
    limiter: InputLimiter,
    user_id: uuid.UUID,
) -> None:
    """Lines from the browser to the container's stdin; oversized frames end the socket, lines over the rate are dropped."""
    while True:
        text = await websocket.receive_text()
        if len(text) > MAX_CLIENT_FRAME:
            await websocket.close(code=1009, reason="frame too large")
            return
        try:
            frame = json.loads(text)
        except (ValueError, RecursionError):  # a frame of a few thousand `[` exhausts the parser's recursion
            await _send(websocket, {"type": "notice", "message": 'Send JSON: {"type": "input", "line": "..."}.'})
            continue
        line = frame.get("line") if isinstance(frame, dict) and frame.get("type") == "input" else None
        if not isinstance(line, str) or len(line) > MAX_CONSOLE_LINE or "\n" in line or "\x00" in line:
            notice = f"An input line is one line of at most {MAX_CONSOLE_LINE} characters."
            await _send(websocket, {"type": "notice", "message": notice})
            continue
        if not limiter.allow(user_id, container_id, len(line.encode())):
            if limiter.should_notice(user_id, container_id):
                rate = f"{limiter.lines_per_second:g} lines and {limiter.bytes_per_second / 1024:g} KiB a second"
                await _send(websocket, {"type": "notice", "message": f"Input too fast: lines were dropped (at most {rate})."})
            continue
        if not await hub.console_input(node_id, stream_id, container_id, line):
            await _send(websocket, {"type": "notice", "message": "The container's node is not connected; the line was not sent."})


async def _watch_access(  # noqa: PLR0917 - private, called once
    websocket: WebSocket,
    sessions: async_sessionmaker[AsyncSession],
    keyring: KeyRing,
    credential: SocketCredential,
    container_id: uuid.UUID,
    state: str,
) -> None:
    """Every few seconds: is access still there (raises WebSocketRefused when not), and did the state change."""
    while True:
        await asyncio.sleep(RECHECK_SECONDS)
        _, _, current = await _authorize(sessions, keyring, credential, container_id)
        if current != state:
            state = current
            await _send(websocket, {"type": "state", "state": state})

"""The agent gateway: one WebSocket per connected node, commands out, results and events in.

The hub lives in the server process (`app.state.agent_hub`). Jobs are rows first: a route writes
the job, and after its transaction commits it wakes the node's connection, which sends every queued
job of that node. After a reconnect the agent says what it runs and the reconciler queues what is
needed; jobs sent before the connection dropped are sent again under the same idempotency key.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from nubes.compute.agents import protocol
from nubes.compute.agents import service as agents_service
from nubes.compute.agents.relay import Relay
from nubes.compute.jobs import service as jobs_service
from nubes.compute.nodes import service as nodes_service
from nubes.core.db import finish_on_exit

log = structlog.get_logger("nubes.compute.gateway")

HEARTBEAT_INTERVAL = 10.0
HELLO_TIMEOUT = 15.0
HEARTBEAT_RECORD_INTERVAL = 60.0
MAX_FRAME_BYTES = 1_048_576
CLOSE_REVOKED = 4403
CLOSE_REPLACED = 4409
CLOSE_PROTOCOL = 4400
ConsoleItem = list[str] | protocol.ConsoleStats | None  # lines, figures, or the end of the stream
# Output held for one console whose browser reads slower than the container prints (characters, and lines: each
# costs some 50 bytes besides its text); beyond, the oldest lines are dropped (and counted: the console says how many).
CONSOLE_BACKLOG_CHARS = 4 * 1024 * 1024
CONSOLE_BACKLOG_LINES = 50_000
FRAME_LINES = 2000  # output lines joined into one frame to the browser, at most
FRAME_CHARS = 256 * 1024  # and their characters


class ConsoleFeed:
    """One console stream on its way from the agent's socket to a browser's: in order, bounded in memory.

    The agent's messages are queued without waiting (a slow browser must never hold up the node's socket, which
    carries every other console and command). Output beyond CONSOLE_BACKLOG_CHARS (or _LINES) pushes the oldest out;
    `next` reports how many went before the item it returns. Consecutive output is joined into larger frames.
    """

    def __init__(self, limit: int = CONSOLE_BACKLOG_CHARS, line_limit: int = CONSOLE_BACKLOG_LINES) -> None:
        self.items: collections.deque[tuple[ConsoleItem, int]] = collections.deque()  # an item and its characters
        self.chars = 0
        self.lines = 0
        self.dropped = 0
        self.limit = limit
        self.line_limit = line_limit
        self.ready = asyncio.Event()

    def offer(self, item: ConsoleItem) -> None:
        """Queue lines, figures or the end (None) without waiting, dropping the oldest output beyond the limit."""
        size = sum(map(len, item)) if isinstance(item, list) else 0
        self.items.append((item, size))
        self.chars += size
        self.lines += len(item) if isinstance(item, list) else 0
        while self.chars > self.limit or self.lines > self.line_limit:
            old, old_size = self.items.popleft()
            self.chars -= old_size
            if isinstance(old, list):
                self.lines -= len(old)
                self.dropped += len(old)
        self.ready.set()

    async def next(self) -> tuple[int, ConsoleItem]:
        """How many lines were dropped since the last call, and the next item (output joined up to a frame's worth)."""
        while not self.items:
            self.ready.clear()
            await self.ready.wait()
        dropped, self.dropped = self.dropped, 0
        item, chars = self.items.popleft()
        self.chars -= chars
        if isinstance(item, list):
            self.lines -= len(item)
            if self.items and isinstance(self.items[0][0], list):
                lines = list(item)
                while self.items:
                    more, size = self.items[0]
                    if not isinstance(more, list) or chars + size > FRAME_CHARS or len(lines) + len(more) > FRAME_LINES:
                        break
                    self.items.popleft()
                    self.chars -= size
                    self.lines -= len(more)
                    chars += size
                    lines.extend(more)
                item = lines
        return dropped, item


@dataclass
class AgentConnection:
    """One connected agent."""

    node_id: uuid.UUID
    websocket: WebSocket
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    waiting: dict[uuid.UUID, asyncio.Future[protocol.CommandResult]] = field(default_factory=dict)
    # Console streams: lines for each, None when the stream (or the agent's connection) ended.
    streams: dict[uuid.UUID, ConsoleFeed] = field(default_factory=dict)
    file_waiting: dict[uuid.UUID, asyncio.Future[protocol.FileResult]] = field(default_factory=dict)
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def send(
        self,
        message: protocol.Welcome
        | protocol.Command
        | protocol.Ping
        | protocol.ConsoleOpen
        | protocol.ConsoleInput
        | protocol.ConsoleClose
        | protocol.FileRequest,
    ) -> None:
        async with self.send_lock:
            await self.websocket.send_text(message.model_dump_json())


class AgentHub:
    """The connected agents of this server process, by node; with a `relay`, the other replicas' agents too."""

    def __init__(self) -> None:
        self.connections: dict[uuid.UUID, AgentConnection] = {}
        self.relay: Relay | None = None
        self.heartbeat_listeners: list[Callable[[uuid.UUID, protocol.Heartbeat], None]] = []
        """Called with each heartbeat an agent of this process sends (ops/metrics stores the node's figures)."""

    def is_connected(self, node_id: uuid.UUID) -> bool:
        """Whether the node's agent is connected to this process."""
        return node_id in self.connections

    async def wake(self, node_id: uuid.UUID) -> None:
        """Tell a node's connection that it has queued jobs (call after the transaction that wrote them committed)."""
        connection = self.connections.get(node_id)
        if connection is not None:
            connection.wake.set()
        elif self.relay is not None:
            await self.relay.broadcast("wake", node_id)

    async def disconnect(
        self, node_id: uuid.UUID, *, code: int = CLOSE_REVOKED, reason: str = "node revoked", relay: bool = True
    ) -> None:
        """Close a node's socket (its credential was revoked), here and, unless `relay` is off, on every replica."""
        connection = self.connections.pop(node_id, None)
        if connection is not None:
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                await connection.websocket.close(code=code, reason=reason)
        if relay and self.relay is not None:  # the node may also hold (or be about to hold) a socket on another replica
            await self.relay.broadcast("disconnect", node_id, code=code, reason=reason)

    async def ask(self, node_id: uuid.UUID, command: protocol.Command, within: float = 15.0) -> protocol.CommandResult | None:
        """Send a command that is not a job (logs) and wait for its result; None when the node is not connected or silent."""
        connection = self.connections.get(node_id)
        if connection is None:
            if self.relay is None:
                return None
            answer = await self.relay.ask("ask", node_id, within, command=command.model_dump(mode="json"))
            return protocol.CommandResult.model_validate(answer) if answer else None
        future: asyncio.Future[protocol.CommandResult] = asyncio.get_running_loop().create_future()
        connection.waiting[command.id] = future
        try:
            await connection.send(command)
            return await asyncio.wait_for(future, within)
        except (TimeoutError, RuntimeError, WebSocketDisconnect):
            return None
        finally:
            connection.waiting.pop(command.id, None)

    async def files(self, node_id: uuid.UUID, request: protocol.FileRequest, within: float = 30.0) -> protocol.FileResult | None:
        """Send a file request to the container's node and wait for its answer; None when the node is away or silent."""
        connection = self.connections.get(node_id)
        if connection is None:
            if self.relay is None:
                return None
            answer = await self.relay.ask("files", node_id, within, request=request.model_dump(mode="json"))
            return protocol.FileResult.model_validate(answer) if answer else None
        future: asyncio.Future[protocol.FileResult] = asyncio.get_running_loop().create_future()
        connection.file_waiting[request.request_id] = future
        try:
            await connection.send(request)
            return await asyncio.wait_for(future, within)
        except (TimeoutError, RuntimeError, WebSocketDisconnect, ConnectionError):
            return None
        finally:
            connection.file_waiting.pop(request.request_id, None)

    async def open_console(
        self, node_id: uuid.UUID, container_id: uuid.UUID, tail: int, *, stream_id: uuid.UUID | None = None
    ) -> tuple[uuid.UUID, ConsoleFeed] | None:
        """Ask the node to stream a container's output; None when the node is not connected (here or, relayed, anywhere)."""
        connection = self.connections.get(node_id)
        if connection is None:
            if self.relay is None:
                return None
            remote = ConsoleFeed()
            relayed = await self.relay.open_console(node_id, container_id, tail, remote)
            return (relayed, remote) if relayed is not None else None
        stream_id = stream_id or uuid.uuid4()
        feed = ConsoleFeed()
        connection.streams[stream_id] = feed
        try:
            await connection.send(protocol.ConsoleOpen(stream_id=stream_id, container_id=container_id, tail=tail))
        except (RuntimeError, WebSocketDisconnect):
            connection.streams.pop(stream_id, None)
            return None
        return stream_id, feed

    async def console_input(self, node_id: uuid.UUID, stream_id: uuid.UUID, container_id: uuid.UUID, line: str) -> bool:
        """Pass a line to the container's stdin; False when the node is not connected."""
        connection = self.connections.get(node_id)
        if connection is None or stream_id not in connection.streams:
            if self.relay is None or not self.relay.holds_feed(stream_id):
                return False
            await self.relay.broadcast("console_input", node_id, stream=str(stream_id), container=str(container_id), line=line)
            return True
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await connection.send(protocol.ConsoleInput(stream_id=stream_id, container_id=container_id, line=line))
            return True
        return False

    async def close_console(self, node_id: uuid.UUID, stream_id: uuid.UUID) -> None:
        """Stop a console stream."""
        connection = self.connections.get(node_id)
        if connection is not None and connection.streams.pop(stream_id, None) is not None:
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                await connection.send(protocol.ConsoleClose(stream_id=stream_id))
        elif self.relay is not None:
            await self.relay.close_console(node_id, stream_id)


def bearer_of(websocket: WebSocket) -> str:
    """The credential in `Authorization: Bearer ...`, or empty."""
    scheme, _, value = websocket.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


async def serve_agent(websocket: WebSocket, hub: AgentHub, sessions: async_sessionmaker[AsyncSession]) -> None:
    """Run one agent's connection: authenticate, hello and reconcile, then commands and results until it ends.

    `sessions` are the database's writer sessions (`Database.writer_sessions`): every transaction here
    writes, and on SQLite they begin IMMEDIATE, so a write never fails against a writer that committed meanwhile.
    """
    async with sessions() as session, finish_on_exit(session):
        node = await nodes_service.node_by_credential(session=session, credential=bearer_of(websocket))
        node_id = node.id if node is not None else None
    if node_id is None:
        # Closing before accepting answers the upgrade with 403: a refused credential never gets a socket.
        await websocket.close(code=CLOSE_REVOKED)
        return
    await websocket.accept()
    connection = AgentConnection(node_id=node_id, websocket=websocket)
    try:
        await connection.send(protocol.Welcome(node_id=node_id, heartbeat_interval=HEARTBEAT_INTERVAL))
        hello = await asyncio.wait_for(_receive(websocket), HELLO_TIMEOUT)
        if not isinstance(hello, protocol.Hello):
            await websocket.close(code=CLOSE_PROTOCOL, reason="expected hello")
            return
        previous = hub.connections.get(node_id)
        hub.connections[node_id] = connection
        if previous is not None:
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                await previous.websocket.close(code=CLOSE_REPLACED, reason="another connection of this node")
        if hub.relay is not None:  # one replica holds a node's socket: any other still holding an old one lets it go
            await hub.relay.broadcast("replaced", node_id)
        async with sessions() as session, finish_on_exit(session):
            await nodes_service.mark_node(session=session, node_id=node_id, status="online", agent_version=hello.agent_version)
            commands = await agents_service.reconcile(session=session, node_id=node_id, observed=hello.containers)
        log.info("agent.connected", node=str(node_id), version=hello.agent_version, adopted=len(hello.containers))
        for command in commands:
            await connection.send(command)
        sender = asyncio.create_task(_send_queued(connection, sessions))
        try:
            await _read_loop(connection, sessions, hub)
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
    except (WebSocketDisconnect, TimeoutError, RuntimeError):
        pass
    finally:
        _abandon(connection)
        if hub.connections.get(node_id) is connection:
            del hub.connections[node_id]
            async with sessions() as session, finish_on_exit(session):
                await nodes_service.mark_node(session=session, node_id=node_id, status="offline")
        if websocket.application_state == WebSocketState.CONNECTED:
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                await websocket.close()
        log.info("agent.disconnected", node=str(node_id))


def _abandon(connection: AgentConnection) -> None:
    """The connection ended: whoever waits for an answer or a console line over it stops waiting."""
    for future in connection.waiting.values():
        future.cancel()
    for file_future in connection.file_waiting.values():
        if not file_future.done():
            file_future.set_exception(ConnectionError("the agent disconnected"))
    for feed in connection.streams.values():
        feed.offer(None)


def _deliver(
    connection: AgentConnection,
    message: protocol.ConsoleOutput | protocol.ConsoleStats | protocol.ConsoleEnded | protocol.FileResult,
) -> None:
    """Hand a console stream's lines or a file answer to whoever waits for it in this process."""
    if isinstance(message, protocol.FileResult):
        answer = connection.file_waiting.get(message.request_id)
        if answer is not None and not answer.done():
            answer.set_result(message)
        return
    feed = connection.streams.get(message.stream_id)
    if feed is not None:
        item = message if isinstance(message, protocol.ConsoleStats) else None
        feed.offer(message.lines if isinstance(message, protocol.ConsoleOutput) else item)


async def _receive(websocket: WebSocket) -> protocol.AgentMessageType:
    text = await websocket.receive_text()
    if len(text) > MAX_FRAME_BYTES:
        raise WebSocketDisconnect(code=1009)
    try:
        message = protocol.agent_message.validate_json(text)
    except ValidationError:
        await websocket.close(code=CLOSE_PROTOCOL, reason="not a protocol message")
        raise WebSocketDisconnect(code=CLOSE_PROTOCOL) from None
    if message.protocol != protocol.PROTOCOL_VERSION:
        await websocket.close(code=CLOSE_PROTOCOL, reason=f"this server speaks protocol {protocol.PROTOCOL_VERSION}")
        raise WebSocketDisconnect(code=CLOSE_PROTOCOL)
    return message


async def _read_loop(connection: AgentConnection, sessions: async_sessionmaker[AsyncSession], hub: AgentHub) -> None:
    node_id = connection.node_id
    recorded = time.monotonic()
    while True:
        message = await _receive(connection.websocket)
        if isinstance(message, protocol.CommandResult):
            waiting = connection.waiting.get(message.command_id)
            if waiting is not None and not waiting.done():
                waiting.set_result(message)
                continue
            async with sessions() as session, finish_on_exit(session):
                follow_up = await agents_service.apply_result(session=session, node_id=node_id, result=message)
            for command in follow_up:
                await connection.send(command)
            connection.wake.set()
        elif isinstance(message, protocol.Event):
            async with sessions() as session, finish_on_exit(session):
                await agents_service.apply_event(session=session, node_id=node_id, event=message)
            connection.wake.set()  # a crash may have queued a delayed restart: the sender learns when it is due
        elif isinstance(message, protocol.ConsoleOutput | protocol.ConsoleStats | protocol.ConsoleEnded | protocol.FileResult):
            _deliver(connection, message)
        elif isinstance(message, protocol.Heartbeat):
            for listener in hub.heartbeat_listeners:
                listener(node_id, message)
            if time.monotonic() - recorded >= HEARTBEAT_RECORD_INTERVAL:
                # The database learns of heartbeats now and then, not each time: every write competes with requests.
                recorded = time.monotonic()
                async with sessions() as session, finish_on_exit(session):
                    await nodes_service.mark_node(session=session, node_id=node_id, status="online")


async def _send_queued(connection: AgentConnection, sessions: async_sessionmaker[AsyncSession]) -> None:
    """Send jobs queued while connected; also poll now and then (a job queued by another server process)."""
    wait = HEARTBEAT_INTERVAL
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(connection.wake.wait(), wait)
        connection.wake.clear()
        async with sessions() as session, finish_on_exit(session):
            commands = await agents_service.commands_for_node(session=session, node_id=connection.node_id, include_sent=False)
            due = await jobs_service.next_due(session=session, node_id=connection.node_id)
        for command in commands:
            await connection.send(command)
        # A delayed job (an auto-restart's backoff) is sent when due, not at the next poll.
        wait = HEARTBEAT_INTERVAL if due is None else min(HEARTBEAT_INTERVAL, due + 0.05)

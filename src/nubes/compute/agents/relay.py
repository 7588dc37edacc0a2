"""Agents across replicas: a node's socket sits on one replica; every other replica reaches it through the event bus.

With `NUBES_REDIS_URL`, each replica's `AgentHub` has a `Relay`. What the hub cannot do itself (the node is not
connected here) it asks every replica on the `agents` channel; the one holding the node's socket does it and
answers on the asker's own channel (`replica:<name>`), console output included, frame by frame. Nobody keeps a
registry of who holds what: a request nobody holds goes unanswered and times out as "not connected" does here.

Commands that change containers stay jobs (rows first, then a wake), so a lost message only delays them; what is
relayed here is what waits for an answer: logs, file requests, console streams and their input.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import TYPE_CHECKING, Any

import orjson
import structlog

from nubes.compute.agents import protocol
from nubes.core.events import Bus
from nubes.core.leases import HOLDER

if TYPE_CHECKING:
    from nubes.compute.agents.gateway import AgentHub, ConsoleFeed

log = structlog.get_logger("nubes.compute.relay")

AGENTS = "agents"
OPEN_WITHIN = 10.0  # seconds a replica waits for another to open a console stream
HELD_WITHIN = 3.0  # seconds to hear that some replica holds the node at all: "not connected" comes no later


def replica_channel(name: str) -> str:
    """The channel on which replica `name` receives answers and console output."""
    return f"replica:{name}"


class Relay:
    """This replica's side of the agents' relay: asks others for nodes it does not hold, and serves their asks."""

    def __init__(self, bus: Bus, hub: AgentHub, name: str = HOLDER) -> None:
        self.bus = bus
        self.hub = hub
        self.name = name
        self.answers: dict[str, asyncio.Future[Any]] = {}
        self.held: dict[str, asyncio.Future[None]] = {}  # asks some replica said it holds the node of
        self.feeds: dict[uuid.UUID, ConsoleFeed] = {}  # streams opened here, held elsewhere
        self.pumps: dict[uuid.UUID, asyncio.Task[None]] = {}  # streams held here, read elsewhere
        self.tasks: set[asyncio.Task[None]] = set()
        bus.subscribe(AGENTS, self._on_request)
        bus.subscribe(replica_channel(name), self._on_answer)

    # --- asking: the node is not connected here ---------------------------------------------------

    async def broadcast(self, op: str, node_id: uuid.UUID, **fields: Any) -> None:
        """Tell every replica about `node_id` (a wake, a disconnect, console input); no answer."""
        await self._publish(AGENTS, {"op": op, "node": str(node_id), "from": self.name, **fields})

    async def ask(self, op: str, node_id: uuid.UUID, within: float, **fields: Any) -> Any:
        """Ask whichever replica holds `node_id`; its answer, or None when none answers within `within` seconds.

        The replica holding the node says so at once, so a node connected nowhere is known in `HELD_WITHIN` seconds.
        """
        ask_id = uuid.uuid4().hex
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Any] = loop.create_future()
        held: asyncio.Future[None] = loop.create_future()
        self.answers[ask_id], self.held[ask_id] = answer, held
        try:
            await self.broadcast(op, node_id, id=ask_id, within=within, **fields)
            await asyncio.wait_for(asyncio.shield(held), min(within, HELD_WITHIN))
            return await asyncio.wait_for(answer, within)
        except (TimeoutError, ConnectionError, OSError):
            return None
        finally:
            self.answers.pop(ask_id, None)
            self.held.pop(ask_id, None)

    async def open_console(self, node_id: uuid.UUID, container_id: uuid.UUID, tail: int, feed: ConsoleFeed) -> uuid.UUID | None:
        """Open a console stream on the replica holding the node; its output arrives in `feed`. None: nobody holds it."""
        stream_id = uuid.uuid4()
        self.feeds[stream_id] = feed
        opened = await self.ask(
            "console_open", node_id, OPEN_WITHIN, stream=str(stream_id), container=str(container_id), tail=tail
        )
        if not opened:
            self.feeds.pop(stream_id, None)
            return None
        return stream_id

    def holds_feed(self, stream_id: uuid.UUID) -> bool:
        """Whether `stream_id` is a stream read here from another replica."""
        return stream_id in self.feeds

    async def close_console(self, node_id: uuid.UUID, stream_id: uuid.UUID) -> None:
        """Stop a stream read here from another replica."""
        if self.feeds.pop(stream_id, None) is not None:
            await self.broadcast("console_close", node_id, stream=str(stream_id))

    # --- serving: another replica asks ------------------------------------------------------------

    def _on_request(self, raw: str) -> None:
        message = orjson.loads(raw)
        node_id = uuid.UUID(message["node"])
        if not self.hub.is_connected(node_id):
            return  # held elsewhere, or nowhere
        if message["op"] == "wake":
            self._spawn(self.hub.wake(node_id))
        elif message["op"] == "replaced":
            if message["from"] != self.name:  # the node's agent said hello on another replica: this socket is stale
                self._spawn(self.hub.disconnect(node_id, code=4409, reason="the node connected to another replica", relay=False))
        elif message["op"] == "disconnect":
            code, reason = message.get("code", 4403), message.get("reason", "")
            self._spawn(self.hub.disconnect(node_id, code=code, reason=reason, relay=False))
        elif message["from"] != self.name:
            if "id" in message:
                self._spawn(self._publish(replica_channel(message["from"]), {"op": "held", "id": message["id"]}))
            self._spawn(self._serve(node_id, message))

    async def _serve(self, node_id: uuid.UUID, message: dict[str, Any]) -> None:
        op, asker = message["op"], message["from"]
        try:
            # No answer when this replica's socket failed too: another replica may hold a newer one, or the ask times out.
            if op == "ask":
                result = await self.hub.ask(node_id, protocol.Command.model_validate(message["command"]), message["within"])
                if result is not None:
                    await self._answer(asker, message["id"], result.model_dump(mode="json"))
            elif op == "files":
                request = protocol.FileRequest.model_validate(message["request"])
                file_result = await self.hub.files(node_id, request, message["within"])
                if file_result is not None:
                    await self._answer(asker, message["id"], file_result.model_dump(mode="json"))
            elif op == "console_open":
                await self._serve_console(node_id, message)
            elif op == "console_input":
                await self.hub.console_input(
                    node_id, uuid.UUID(message["stream"]), uuid.UUID(message["container"]), message["line"]
                )
            elif op == "console_close":
                pump = self.pumps.pop(uuid.UUID(message["stream"]), None)
                if pump is not None:
                    pump.cancel()
        except Exception:
            log.exception("relay.serve_failed", op=op, node=str(node_id))

    async def _serve_console(self, node_id: uuid.UUID, message: dict[str, Any]) -> None:
        stream_id = uuid.UUID(message["stream"])
        opened = await self.hub.open_console(node_id, uuid.UUID(message["container"]), message["tail"], stream_id=stream_id)
        if opened is not None:
            await self._answer(message["from"], message["id"], True)
            pump = asyncio.create_task(self._pump(node_id, stream_id, opened[1], message["from"]))
            self.pumps[stream_id] = pump

    async def _pump(self, node_id: uuid.UUID, stream_id: uuid.UUID, feed: ConsoleFeed, reader: str) -> None:
        """A stream held here, read on `reader`: its frames go there until it ends or the reader closes it."""
        try:
            while True:
                dropped, item = await feed.next()
                frame: dict[str, Any] = {"op": "console", "stream": str(stream_id), "dropped": dropped}
                if item is None:
                    frame.update(kind="end", item=None)
                elif isinstance(item, protocol.ConsoleStats):
                    frame.update(kind="stats", item=item.model_dump(mode="json"))
                else:
                    frame.update(kind="lines", item=item)
                await self._publish(replica_channel(reader), frame)
                if item is None:
                    return
        finally:
            self.pumps.pop(stream_id, None)
            await self.hub.close_console(node_id, stream_id)

    # --- answers and output arriving here ---------------------------------------------------------

    def _on_answer(self, raw: str) -> None:
        message = orjson.loads(raw)
        if message["op"] in {"answer", "held"}:
            held = self.held.get(message["id"])
            if held is not None and not held.done():
                held.set_result(None)
        if message["op"] == "answer":
            answer = self.answers.get(message["id"])
            if answer is not None and not answer.done():
                answer.set_result(message["result"])
        elif message["op"] == "console":
            feed = self.feeds.get(uuid.UUID(message["stream"]))
            if feed is None:
                return
            feed.dropped += message["dropped"]
            kind = message["kind"]
            if kind == "lines":
                feed.offer(message["item"])
            elif kind == "stats":
                feed.offer(protocol.ConsoleStats.model_validate(message["item"]))
            else:
                self.feeds.pop(uuid.UUID(message["stream"]), None)
                feed.offer(None)

    async def _answer(self, asker: str, ask_id: str, result: Any) -> None:
        await self._publish(replica_channel(asker), {"op": "answer", "id": ask_id, "result": result})

    async def _publish(self, channel: str, message: dict[str, Any]) -> None:
        await self.bus.publish(channel, orjson.dumps(message).decode())

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def close(self) -> None:
        """Stop serving streams and forget pending asks (at shutdown)."""
        for task in [*self.pumps.values(), *self.tasks]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for feed in self.feeds.values():
            feed.offer(None)
        self.feeds.clear()

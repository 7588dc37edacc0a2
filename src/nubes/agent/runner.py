"""The agent's connection to the server: register once, then one outbound WebSocket, reconnecting with backoff.

The object graph is built here, explicitly: a `DockerEnvironment` (the only thing that touches
Docker) and an `Agent` that turns commands into calls on it, one at a time per container.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import collections
import contextlib
import json
import os
import random
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import aiodocker
import aiohttp
import structlog
from pydantic import BaseModel, ValidationError

from nubes import __version__
from nubes.agent import metrics as agent_metrics
from nubes.agent.docker import DockerEnvironment, DriverError, DriverSettings
from nubes.agent.files import Entry, FileError, VolumeFiles
from nubes.agent.metrics import AgentMetrics
from nubes.compute.agents import protocol
from nubes.core import host

log = structlog.get_logger("nubes.agent")

CREDENTIAL_FILE = "credential.json"
MAX_BACKOFF = 30.0
_REMEMBERED_RESULTS = 2000


BATCH_LINES = 2000
# Characters of output a console message carries at most. JSON takes up to 6 bytes for a character (a control
# character as \u001b), so a message stays under the server's frame limit (1 MiB) whatever a container prints.
BATCH_CHARS = 128 * 1024
BATCH_LINGER = 0.01  # seconds a batch waits for more lines once it has some (and is not full)
# Read ahead of the sender by at most this many characters or lines, then reading pauses (Docker keeps the rest).
BATCH_BACKLOG = 4 * BATCH_CHARS
BATCH_BACKLOG_LINES = 4 * BATCH_LINES
CONSOLE_OUTBOX_CHARS = 2 * 1024 * 1024  # console output waiting for the socket, all consoles together, before they pause


async def _host_stats() -> protocol.HostStats | None:
    """The node's figures for a heartbeat (None when they cannot be read: the heartbeat still goes)."""
    try:
        reading = await asyncio.to_thread(host.read)
    except Exception:  # psutil on an odd platform; a heartbeat must not fail for it
        log.warning("agent.host_stats_failed", exc_info=True)
        return None
    return protocol.HostStats(
        cpu_percent=min(max(reading.cpu_percent, 0.0), 100.0),
        memory_used_bytes=max(reading.memory_used_bytes, 0),
        memory_total_bytes=reading.memory_total_bytes,
        load1=max(reading.load1, 0.0),
        network_rx_bytes=reading.network_rx_bytes,
        network_tx_bytes=reading.network_tx_bytes,
        disks=[protocol.DiskUse(mount=d.mount, used_bytes=d.used_bytes, total_bytes=d.total_bytes) for d in reading.disks],
    )


class LineBuffer:
    """Lines read and not yet sent, in order, cut into batches of at most BATCH_LINES lines and BATCH_CHARS characters."""

    def __init__(self) -> None:
        self.chunks: collections.deque[tuple[list[str], int]] = collections.deque()  # lines and their characters
        self.chars = 0
        self.lines = 0

    def add(self, lines: list[str]) -> None:
        """Lines at the end."""
        size = sum(map(len, lines))
        self.chunks.append((lines, size))
        self.chars += size
        self.lines += len(lines)

    def full(self) -> bool:
        """Whether a whole batch is waiting."""
        return self.chars >= BATCH_CHARS or self.lines >= BATCH_LINES

    def take(self) -> list[str]:
        """The next batch (the oldest lines): empty only when nothing waits."""
        batch: list[str] = []
        chars = 0
        while self.chunks:
            lines, size = self.chunks[0]
            if chars + size <= BATCH_CHARS and len(batch) + len(lines) <= BATCH_LINES:
                self.chunks.popleft()
                batch.extend(lines)
                chars += size
                continue
            # The first chunk does not fit whole: as many of its lines as do (an empty batch takes one at least).
            count, taken = 0, 0
            for line in lines:
                if len(batch) + count == BATCH_LINES or (chars + taken + len(line) > BATCH_CHARS and (batch or count)):
                    break
                count += 1
                taken += len(line)
            batch.extend(lines[:count])
            chars += taken
            if count == len(lines):
                self.chunks.popleft()
            else:
                self.chunks[0] = (lines[count:], size - taken)
            break
        self.chars -= chars
        self.lines -= len(batch)
        return batch


async def batched(source: AsyncIterator[list[str]]) -> AsyncGenerator[list[str]]:
    """Lines from `source` in fewer, larger batches, in order: what arrives within BATCH_LINGER goes in one message.

    A chatty container prints in many small chunks; one message each costs more than the lines themselves. A batch
    holds at most BATCH_LINES lines and BATCH_CHARS characters (lines are cut to MAX_OUTPUT_LINE, which is less).
    Reading runs ahead of the consumer by at most BATCH_BACKLOG characters (or BATCH_BACKLOG_LINES), then waits:
    a slow consumer slows the reading, it never makes memory grow. Errors of `source` come out here, after the
    lines read before them.
    """
    buffer = LineBuffer()
    ended: list[BaseException | None] = []  # None: the source ended; an exception: it failed
    arrived, full, room = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def produce() -> None:
        try:
            async for lines in source:
                if lines:
                    buffer.add(lines)
                    arrived.set()
                    if buffer.full():
                        full.set()
                while buffer.chars >= BATCH_BACKLOG or buffer.lines >= BATCH_BACKLOG_LINES:
                    room.clear()
                    await room.wait()
        except Exception as exc:
            ended.append(exc)
        else:
            ended.append(None)
        arrived.set()
        full.set()

    producer = asyncio.create_task(produce())
    try:
        while True:
            await arrived.wait()
            if not full.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(full.wait(), BATCH_LINGER)
            batch = buffer.take()
            if not ended:
                if not buffer.full():
                    full.clear()
                if not buffer.chunks:
                    arrived.clear()
            if buffer.chars < BATCH_BACKLOG and buffer.lines < BATCH_BACKLOG_LINES:
                room.set()
            if batch:
                yield batch
            elif ended:
                if ended[0] is not None:
                    raise ended[0]
                return
    finally:
        producer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await producer


class Outbox:
    """Messages for the server in the order they were made; console output may fill only a bounded share of it.

    Results, events and heartbeats are queued at once. Console output waits while CONSOLE_OUTBOX_CHARS of it are
    queued: a socket that cannot keep up pauses the consoles' reading (Docker keeps their logs), and the agent's
    memory stays bounded.
    """

    def __init__(self, console_limit: int = CONSOLE_OUTBOX_CHARS) -> None:
        self.queue: asyncio.Queue[tuple[str, int]] = asyncio.Queue()  # a message and its console characters
        self.console_limit = console_limit
        self.console_chars = 0
        self.console_room = asyncio.Event()
        self.console_room.set()

    async def put(self, message: BaseModel) -> None:
        """Queue a message now."""
        await self.queue.put((message.model_dump_json(), 0))

    async def put_console(self, message: protocol.ConsoleOutput) -> None:
        """Queue console output once there is room for it."""
        while self.console_chars >= self.console_limit:
            self.console_room.clear()
            await self.console_room.wait()
        text = message.model_dump_json()
        self.console_chars += len(text)
        await self.queue.put((text, len(text)))

    async def get(self) -> tuple[str, int]:
        """The next message and its console characters (0 for other messages)."""
        return await self.queue.get()

    def sent(self, console_chars: int) -> None:
        """A message left (or was given up): its console characters make room again."""
        if console_chars:
            self.console_chars -= console_chars
            if self.console_chars < self.console_limit:
                self.console_room.set()

    def keep(self, text: str, console_chars: int) -> None:
        """A message the socket failed to send: kept for the next connection, but for console output (its stream died)."""
        if console_chars:
            self.sent(console_chars)
        else:
            self.queue.put_nowait((text, 0))


class AgentError(Exception):
    """The agent cannot go on (a refused token or credential); the message says what to do."""


@dataclass(frozen=True, slots=True)
class Credential:
    """What the agent keeps on the node after registering: who it is and the secret proving it."""

    server: str
    node_id: uuid.UUID
    credential: str


def load_credential(state_dir: Path) -> Credential | None:
    """The saved credential, if the agent registered before."""
    path = state_dir / CREDENTIAL_FILE
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    return Credential(server=data["server"], node_id=uuid.UUID(data["node_id"]), credential=data["credential"])


def save_credential(state_dir: Path, credential: Credential) -> Path:
    """Write the credential readable by its owner only (mode 0600, in a 0700 directory)."""
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = state_dir / CREDENTIAL_FILE
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as output:
        json.dump({"server": credential.server, "node_id": str(credential.node_id), "credential": credential.credential}, output)
    temporary.replace(path)
    return path


async def register(server: str, token: str) -> Credential:
    """Trade the one-time registration token for the node's credential."""
    async with aiohttp.ClientSession() as http, http.post(f"{server}/api/nodes/register", json={"token": token}) as response:
        body = await response.json(content_type=None)
        if response.status != 200:
            detail = body.get("detail") if isinstance(body, dict) else None
            raise AgentError(f"the server refused the registration token ({response.status}): {detail or 'no detail'}")
    return Credential(server=server, node_id=uuid.UUID(body["node_id"]), credential=body["credential"])


def websocket_url(server: str) -> str:
    """`/api/ws/agent` on the server, over ws:// or wss://."""
    parts = urlsplit(server)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + "/api/ws/agent", "", ""))


class Agent:
    """Carries out the server's commands on the node's Docker Engine and reports what happens there."""

    def __init__(
        self,
        credential: Credential,
        environment: DockerEnvironment,
        *,
        disk_check_seconds: float = 30.0,
        metrics: AgentMetrics | None = None,
    ) -> None:
        self.credential = credential
        self.metrics = metrics or AgentMetrics()
        self.environment = environment
        self.disk_check_seconds = disk_check_seconds
        self.locks: dict[uuid.UUID, asyncio.Lock] = {}
        # Results by idempotency key: a command re-sent after a reconnect gets the same answer, not a second run.
        self.results: OrderedDict[str, protocol.CommandResult] = OrderedDict()
        self.running: dict[str, asyncio.Task[protocol.CommandResult]] = {}
        self.outbox = Outbox()
        self.consoles: dict[uuid.UUID, asyncio.Task[None]] = {}
        self.metrics.consoles.set_function(lambda: len(self.consoles))

    async def run(self) -> None:
        """Connect, serve, reconnect with exponential backoff and jitter; stops only on a refused credential."""
        attempt = 0
        watcher = asyncio.create_task(self._watch_docker())
        disk_guard = asyncio.create_task(self._enforce_disk_limits())
        try:
            while True:
                try:
                    await self._connect_once(on_open=lambda: None)
                    attempt = 0
                except AgentError:
                    raise
                except (aiohttp.ClientError, OSError, TimeoutError, ValidationError) as exc:
                    log.warning("agent.connection_failed", error=str(exc) or type(exc).__name__)
                attempt += 1
                delay = min(MAX_BACKOFF, 0.5 * 2 ** min(attempt, 6)) * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not a secret
                log.info("agent.reconnecting", in_seconds=round(delay, 1))
                await asyncio.sleep(delay)
        finally:
            for task in (watcher, disk_guard):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _connect_once(self, on_open: Callable[[], None]) -> None:
        headers = {"Authorization": f"Bearer {self.credential.credential}", "User-Agent": f"nubes-agent/{__version__}"}
        async with aiohttp.ClientSession() as http:
            try:
                url = websocket_url(self.credential.server)
                socket = await http.ws_connect(url, headers=headers, heartbeat=30, max_msg_size=4 * 1024 * 1024)
            except aiohttp.WSServerHandshakeError as exc:
                if exc.status in {401, 403}:
                    raise AgentError(
                        "the server refused this node's credential (the node was revoked or deleted); "
                        "register it again with a new token from POST /api/nodes"
                    ) from None
                raise
            async with socket:
                welcome = protocol.server_message.validate_json(await socket.receive_str(timeout=15))
                if not isinstance(welcome, protocol.Welcome):
                    raise AgentError("the server did not greet this agent; is the URL a Nubes server?")
                on_open()
                hello = protocol.Hello(agent_version=__version__, containers=await self.environment.inventory())
                await socket.send_str(hello.model_dump_json())
                log.info("agent.connected", node=str(welcome.node_id), containers=len(hello.containers))
                self.metrics.connections.inc()
                self.metrics.connected.set(1)
                sender = asyncio.create_task(self._drain_outbox(socket))
                heart = asyncio.create_task(self._heartbeat(welcome.heartbeat_interval))
                try:
                    await self._receive(socket)
                finally:
                    self.metrics.connected.set(0)
                    for task in [sender, heart, *self.consoles.values()]:
                        task.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await task
                if socket.close_code == 4403:
                    raise AgentError("the server revoked this node; register it again with a new token")

    async def _drain_outbox(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        while True:
            text, console_chars = await self.outbox.get()
            try:
                await socket.send_str(text)
            except (ConnectionError, RuntimeError):
                self.outbox.keep(text, console_chars)
                raise
            self.outbox.sent(console_chars)

    async def _heartbeat(self, interval: float) -> None:
        host.start_cpu_measure()
        while True:
            await asyncio.sleep(interval)
            host_stats, containers = await asyncio.gather(_host_stats(), self._container_usage(interval / 2))
            beat = protocol.Heartbeat(host=host_stats, containers=containers)
            await self.outbox.put(beat)
            self.metrics.heartbeat(beat)

    async def _container_usage(self, within: float) -> list[protocol.ContainerUsage]:
        """The running containers' use for a heartbeat; none when Docker does not answer in time (it still goes)."""
        usage = getattr(self.environment, "usage", None)
        if usage is None:
            return []
        try:
            found: list[protocol.ContainerUsage] = await asyncio.wait_for(usage(), within)
        except Exception:  # Docker busy or away: the heartbeat matters more than the figures
            log.warning("agent.container_usage_failed", exc_info=True)
            return []
        return found

    async def _receive(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        async for frame in socket:
            if frame.type != aiohttp.WSMsgType.TEXT:
                break
            try:
                message = protocol.server_message.validate_json(frame.data)
            except ValidationError:
                log.warning("agent.bad_message")
                continue
            if isinstance(message, protocol.Command):
                asyncio.create_task(self._answer(message))  # noqa: RUF006 - _answer reports its own end
            elif isinstance(message, protocol.Ping):
                await self.outbox.put(protocol.Heartbeat())
            elif isinstance(message, protocol.ConsoleOpen):
                self.consoles[message.stream_id] = asyncio.create_task(self._console(message))
            elif isinstance(message, protocol.ConsoleInput):
                asyncio.create_task(self._console_input(message))  # noqa: RUF006 - it reports its own failure
            elif isinstance(message, protocol.ConsoleClose):
                task = self.consoles.pop(message.stream_id, None)
                if task is not None:
                    task.cancel()
            elif isinstance(message, protocol.FileRequest):
                asyncio.create_task(self._answer_file(message))  # noqa: RUF006 - it reports its own end

    async def _answer_file(self, request: protocol.FileRequest) -> None:
        result = await asyncio.to_thread(self.file_operation, request)
        await self.outbox.put(result)

    def file_operation(self, request: protocol.FileRequest) -> protocol.FileResult:
        """Carry out one file request beneath the container's volume (blocking: run it in a thread)."""
        try:
            volume = VolumeFiles(
                self.environment.volume_of(request.container_id),
                uid=self.environment.settings.uid,
                gid=self.environment.settings.gid,
            )
            return _file_result(volume, request)
        except FileError as exc:
            return protocol.FileResult(request_id=request.request_id, ok=False, status=exc.status, error=exc.message)
        except binascii.Error:
            return protocol.FileResult(request_id=request.request_id, ok=False, status=400, error="The chunk is not base64.")
        except (DriverError, OSError, ValueError) as exc:
            return protocol.FileResult(request_id=request.request_id, ok=False, status=500, error=str(exc)[:500])

    async def _console(self, request: protocol.ConsoleOpen) -> None:
        """Stream a container's output; across its restarts, until the server closes the stream."""
        tail, since = request.tail, 0
        try:
            while True:
                # A container still installing does not exist yet: wait for it like for a stopped one.
                state = await self.environment.observe(request.container_id)
                if state == "running" or (tail and state != "missing"):
                    stats = asyncio.create_task(self._console_stats(request)) if state == "running" else None
                    try:
                        follow = self.environment.follow(request.container_id, tail=tail, since=since)
                        async for lines in batched(follow):
                            await self.outbox.put_console(protocol.ConsoleOutput(stream_id=request.stream_id, lines=lines))
                    finally:
                        if stats is not None:
                            stats.cancel()
                    tail, since = 0, int(time.time())
                await asyncio.sleep(1)  # stopped: look again for a start
        except (DriverError, aiodocker.DockerError, aiohttp.ClientError, OSError) as exc:
            ended = protocol.ConsoleEnded(stream_id=request.stream_id, reason=str(exc)[:500])
            await self.outbox.put(ended)
        finally:
            self.consoles.pop(request.stream_id, None)

    async def _console_stats(self, request: protocol.ConsoleOpen) -> None:
        """Resource figures for a console, about once a second, until the container stops."""
        with contextlib.suppress(DriverError, aiodocker.DockerError, aiohttp.ClientError, OSError, ValueError):
            async for figures in self.environment.stats(request.container_id):
                sample = protocol.ConsoleStats.model_validate({"stream_id": request.stream_id, **figures})
                await self.outbox.put(sample)

    async def _console_input(self, request: protocol.ConsoleInput) -> None:
        try:
            await self.environment.send_line(request.container_id, request.line)
        except (DriverError, aiodocker.DockerError, aiohttp.ClientError, OSError) as exc:
            notice = protocol.ConsoleOutput(stream_id=request.stream_id, lines=[f"[nubes] the line was not delivered: {exc}"])
            await self.outbox.put(notice)

    async def _answer(self, command: protocol.Command) -> None:
        result = await self.execute(command)
        await self.outbox.put(result)

    async def execute(self, command: protocol.Command) -> protocol.CommandResult:
        """Carry out a command once per idempotency key; a repeat gets the first run's result."""
        key = command.idempotency_key
        if command.action != "logs":
            if key in self.results:
                return self.results[key].model_copy(update={"command_id": command.id})
            if key in self.running:
                return (await self.running[key]).model_copy(update={"command_id": command.id})
        task = asyncio.create_task(self._run(command))
        self.running[key] = task
        try:
            result = await task
        finally:
            self.running.pop(key, None)
        if command.action != "logs":
            self.results[key] = result
            while len(self.results) > _REMEMBERED_RESULTS:
                self.results.popitem(last=False)
        return result

    async def _run(self, command: protocol.Command) -> protocol.CommandResult:
        lock = self.locks.setdefault(command.container_id, asyncio.Lock())
        async with lock:
            output, error, ok = "", "", True
            started = time.monotonic()
            try:
                output = await self._dispatch(command)
            except DriverError as exc:
                ok, error, output = False, str(exc), exc.output
            except (aiodocker.DockerError, OSError) as exc:
                ok, error = False, f"Docker failed: {exc}"
            state = None
            with contextlib.suppress(DriverError, aiodocker.DockerError, OSError):
                state = await self.environment.observe(command.container_id)
            log.info("agent.command", action=command.action, container=str(command.container_id), ok=ok, error=error or None)
            self.metrics.command(command.action, ok=ok, started=started)
            return protocol.CommandResult(
                command_id=command.id,
                idempotency_key=command.idempotency_key,
                container_id=command.container_id,
                ok=ok,
                state=state,
                output=output[-65_536:],
                error=error,
            )

    async def _dispatch(self, command: protocol.Command) -> str:
        environment, spec, container_id = self.environment, command.spec, command.container_id
        actions: dict[str, Callable[[], Awaitable[object]]] = {
            "start": lambda: environment.start(container_id),
            "kill": lambda: environment.kill(container_id),
            "delete": lambda: environment.delete(container_id),
        }
        if command.action == "create":
            if spec is None:
                raise DriverError("a create command needs a container spec")
            return await environment.create(spec)
        if command.action == "logs":
            return await environment.logs(container_id, command.tail)
        if command.action in {"stop", "restart"}:
            await environment.stop(container_id, spec.stop if spec else protocol.StopSpec())
            if command.action == "restart":
                await environment.start(container_id)
            return ""
        await actions[command.action]()
        return ""

    async def _enforce_disk_limits(self) -> None:
        """Measure volumes now and then; stop a container whose volume outgrew its disk limit, saying why."""
        while True:
            await asyncio.sleep(self.disk_check_seconds)
            try:
                over = await self.environment.over_disk_limit()
            except (aiodocker.DockerError, aiohttp.ClientError, OSError) as exc:
                log.warning("agent.disk_check_failed", error=str(exc))
                continue
            for container_id, used, limit in over:
                lock = self.locks.setdefault(container_id, asyncio.Lock())
                async with lock:
                    with contextlib.suppress(DriverError, aiodocker.DockerError, OSError):
                        await self.environment.stop(container_id, protocol.StopSpec(signal="SIGTERM", timeout=10))
                reason = f"stopped: its volume uses {used // 1048576} MiB, over its disk limit of {limit // 1048576} MiB"
                log.warning("agent.disk_limit", container=str(container_id), used=used, limit=limit)
                event = protocol.Event(container_id=container_id, state="stopped", reason=reason, enforced=True)
                await self.outbox.put(event)

    async def _watch_docker(self) -> None:
        """Report every start and exit; the server ignores those a job of its own caused, and sees crashes in the rest.

        Events share the outbox with command results, so the server reads them in the order they happened.
        """
        while True:
            try:
                async for container_id, state, code in self.environment.events():
                    reason = f"exited with code {code}" if state == "crashed" else ""
                    event = protocol.Event(container_id=container_id, state=state, exit_code=code, reason=reason)
                    await self.outbox.put(event)
            except (aiodocker.DockerError, aiohttp.ClientError, OSError) as exc:
                log.warning("agent.docker_events_failed", error=str(exc))
            await asyncio.sleep(2)


def _entry(entry: Entry) -> protocol.FileEntry:
    return protocol.FileEntry(name=entry.name, kind=entry.kind, size=entry.size, mode=entry.mode, modified=entry.modified)


def _upload_id(request: protocol.FileRequest) -> uuid.UUID:
    if request.upload_id is None:
        raise FileError(400, "An upload needs an upload id.")
    return request.upload_id


def _target(request: protocol.FileRequest) -> str:
    if request.target is None:
        raise FileError(400, "A rename needs a target path.")
    return request.target


def _read(volume: VolumeFiles, request: protocol.FileRequest) -> dict[str, object]:
    data, size = volume.read(request.path, request.offset, request.length)
    return {"data": base64.b64encode(data).decode(), "size": size}


def _write(volume: VolumeFiles, request: protocol.FileRequest) -> dict[str, object]:
    chunk = base64.b64decode(request.data, validate=True)
    return {"size": volume.write_chunk(request.path, _upload_id(request), request.offset, chunk)}


def _done(operation: Callable[..., None], *arguments: object) -> dict[str, object]:
    operation(*arguments)
    return {}


_FILE_OPS: dict[str, Callable[[VolumeFiles, protocol.FileRequest], dict[str, object]]] = {
    "list": lambda volume, request: {"entries": [_entry(entry) for entry in volume.list(request.path)]},
    "stat": lambda volume, request: {"entry": _entry(volume.stat(request.path))},
    "read": _read,
    "mkdir": lambda volume, request: {"entry": _entry(volume.mkdir(request.path))},
    "delete": lambda volume, request: _done(volume.delete, request.path),
    "rename": lambda volume, request: {"entry": _entry(volume.rename(request.path, _target(request)))},
    "write": _write,
    "commit": lambda volume, request: {"entry": _entry(volume.commit(request.path, _upload_id(request)))},
    "abort": lambda volume, request: _done(volume.abort, request.path, _upload_id(request)),
}


def _file_result(volume: VolumeFiles, request: protocol.FileRequest) -> protocol.FileResult:
    changes = _FILE_OPS[request.op](volume, request)
    return protocol.FileResult(request_id=request.request_id, ok=True).model_copy(update=changes)


async def run_agent(
    *,
    server: str | None,
    token: str | None,
    state_dir: Path,
    volume_root: Path,
    docker_url: str | None,
    disk_check_seconds: float = 30.0,
    metrics_address: str | None = None,
    metrics_token: str | None = None,
) -> None:
    """Register when needed, then serve the server's commands until the credential is refused (and the agent's own
    figures on `metrics_address` meanwhile, when given)."""
    if metrics_address:
        try:
            agent_metrics.parse_address(metrics_address, metrics_token)
        except agent_metrics.MetricsAddressError as exc:
            raise AgentError(str(exc)) from None
    credential = load_credential(state_dir)
    if credential is None or (token and server and server.rstrip("/") != credential.server):
        if not token or not server:
            raise AgentError(f"no credential in {state_dir}; pass --server URL --token TOKEN (from POST /api/nodes) once")
        credential = await register(server.rstrip("/"), token)
        path = save_credential(state_dir, credential)
        log.info("agent.registered", node=str(credential.node_id), credential_file=str(path))
    await asyncio.to_thread(volume_root.mkdir, parents=True, exist_ok=True, mode=0o711)
    docker = aiodocker.Docker(url=docker_url)
    try:
        try:
            await docker.version()
        except (aiodocker.DockerError, aiohttp.ClientError, OSError) as exc:
            raise AgentError(f"no Docker Engine answers ({exc}); start dockerd or set DOCKER_HOST") from None
        environment = DockerEnvironment(docker, DriverSettings(node_id=credential.node_id, volume_root=volume_root))
        figures = AgentMetrics()
        stop_metrics = None
        if metrics_address:
            try:
                stop_metrics = await agent_metrics.serve(figures, metrics_address, metrics_token)
            except OSError as exc:
                raise AgentError(f"cannot serve metrics on {metrics_address}: {exc}") from None
            log.info("agent.metrics", address=metrics_address, token=bool(metrics_token))
        try:
            await Agent(credential, environment, disk_check_seconds=disk_check_seconds, metrics=figures).run()
        finally:
            if stop_metrics is not None:
                await stop_metrics()
    finally:
        await docker.close()

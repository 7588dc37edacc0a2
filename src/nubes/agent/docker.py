"""The Docker Engine behind the agent: every method says what it does when the work is already done.

Containers run unprivileged (all capabilities dropped but those named, no-new-privileges, an init,
limits on CPU, memory and processes) with one bind mount: their volume, a directory the agent makes
under its volume root. The Docker socket and other host paths are never mounted.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import json
import os
import shutil
import struct
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiodocker
import aiohttp
from aiodocker.containers import DockerContainer
from aiodocker.exceptions import DockerError

from nubes.compute.agents.protocol import (
    LABEL_CONTAINER,
    LABEL_DISK_MB,
    LABEL_NODE,
    LABEL_ROLE,
    ContainerSpec,
    ContainerUsage,
    InstallSpec,
    ObservedContainer,
    ObservedState,
    StopSpec,
)

CONTAINER_HOME = "/home/container"
INSTALL_MOUNT = "/mnt/server"
INSTALL_SCRIPT_DIR = "/mnt/install"
# Exit codes of a process ended by SIGINT, SIGKILL or SIGTERM: a stop, not a crash (unless the kernel's OOM killer did it).
_STOP_EXIT_CODES = {0, 130, 137, 143}
_INSTALL_CAPS = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETUID", "SETGID"]
DISK_MEASURE_SECONDS = 10.0
MAX_USAGE_CONTAINERS = 1000  # containers reported per heartbeat (the protocol's cap)
# A line of output longer than this (characters) is cut: a container that never prints a newline must not make the
# agent hold its output, and a console message must stay well under the server's frame limit. Docker itself hands
# longer lines over in 16 KiB pieces, which are joined again up to this length.
MAX_OUTPUT_LINE = 65_536
# After a read smaller than READ_PIECE bytes the log stream rests READ_REST seconds: less than the socket's buffer
# fills meanwhile (Docker does not wait), and a read then brings a hundred lines instead of one or two.
READ_PIECE = 65_536
READ_REST = 0.001
_STREAM_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=30)  # a console follows for hours
_FRAME_HEADER = struct.Struct(">BxxxL")  # Docker's multiplexed stream: stream number, 3 bytes padding, payload length


class DriverError(Exception):
    """A Docker operation failed; the message tells the operator what to do."""

    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(message)
        self.output = output


@dataclass(frozen=True, slots=True)
class DriverSettings:
    """Where volumes live and who containers run as."""

    node_id: uuid.UUID
    volume_root: Path
    uid: int = 1000
    gid: int = 1000
    install_timeout: float = 1800.0


def container_name(container_id: uuid.UUID) -> str:
    """The Docker name of a Nubes container."""
    return f"nubes-{container_id}"


def install_name(container_id: uuid.UUID) -> str:
    """The Docker name of a container's install container."""
    return f"nubes-install-{container_id}"


class DockerEnvironment:
    """Nubes containers on one Docker Engine."""

    def __init__(self, docker: aiodocker.Docker, settings: DriverSettings) -> None:
        self.docker = docker
        self.settings = settings
        self.root = settings.volume_root.resolve()
        # Containers the agent itself is stopping: their exit is a stop, not a crash.
        self.stopping: set[uuid.UUID] = set()

    # --- paths ---------------------------------------------------------------------------------------

    def volume_of(self, container_id: uuid.UUID) -> Path:
        """The container's volume directory, which is always directly under the volume root."""
        path = (self.root / str(uuid.UUID(str(container_id)))).resolve()
        if path.parent != self.root:
            raise DriverError("refusing a volume path outside the volume root")
        return path

    def _install_dir(self, container_id: uuid.UUID) -> Path:
        path = (self.root / ".install" / str(container_id)).resolve()
        if path.parent.parent != self.root:
            raise DriverError("refusing an install path outside the volume root")
        return path

    # --- lookups -------------------------------------------------------------------------------------

    async def _find(self, name: str) -> DockerContainer | None:
        try:
            return await self.docker.containers.get(name)
        except DockerError as exc:
            if exc.status == 404:
                return None
            raise DriverError(f"Docker could not look up {name}: {exc.message}") from None

    async def _require_image(self, image: str) -> None:
        try:
            await self.docker.images.inspect(image)
        except DockerError as exc:
            if exc.status == 404:
                raise DriverError(
                    f"The image {image} is not on this node and no registry is used: load it on the node "
                    f"(`docker load -i image.tar`, or `docker import rootfs.tar {image}`), then retry."
                ) from None
            raise DriverError(f"Docker could not inspect the image {image}: {exc.message}") from None

    async def observe(self, container_id: uuid.UUID) -> ObservedState:
        """The container's state as Docker sees it (`missing` when there is none)."""
        found = await self._find(container_name(container_id))
        if found is None:
            return "missing"
        return _state_of(await found.show(), stopping=container_id in self.stopping)

    async def inventory(self) -> list[ObservedContainer]:
        """Every Nubes container of this node, found by its labels."""
        labels = [f"{LABEL_NODE}={self.settings.node_id}", f"{LABEL_ROLE}=server"]
        found = await self.docker.containers.list(all=True, filters=json.dumps({"label": labels}))
        observed = []
        for item in found:
            details = await item.show()
            try:
                container_id = uuid.UUID(details["Config"]["Labels"][LABEL_CONTAINER])
            except (KeyError, ValueError):
                continue
            observed.append(
                ObservedContainer(container_id=container_id, state=_state_of(details), exit_code=details["State"].get("ExitCode"))
            )
        return observed

    # --- lifecycle -----------------------------------------------------------------------------------

    async def create(self, spec: ContainerSpec) -> str:
        """Install (when the egg has a script) and create the container; a container that exists is kept as it is."""
        if await self._find(container_name(spec.container_id)) is not None:
            return "The container exists already; nothing to do."
        await self._require_image(spec.image)
        if spec.install is not None:
            await self._require_image(spec.install.image)
        volume = self.volume_of(spec.container_id)
        volume.mkdir(mode=0o750, exist_ok=True)
        volume.chmod(0o750)  # not narrowed by the server's umask (077) when the node is embedded
        output = await self._install(spec, spec.install, volume) if spec.install is not None else ""
        await asyncio.to_thread(_chown_tree, volume, self.settings.uid, self.settings.gid)
        try:
            await self.docker.containers.create(self._config(spec, volume), name=container_name(spec.container_id))
        except DockerError as exc:
            raise DriverError(f"Docker refused to create the container: {exc.message}", output) from None
        return output

    async def _install(self, spec: ContainerSpec, install: InstallSpec, volume: Path) -> str:
        """Run the egg's install script in its own container on the volume; its output, or DriverError."""
        leftover = await self._find(install_name(spec.container_id))
        if leftover is not None:  # an install interrupted by an agent restart starts over
            await leftover.delete(force=True)
        script_dir = self._install_dir(spec.container_id)
        script_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        (script_dir / "install.sh").write_text(install.script)
        config: dict[str, Any] = {
            "Image": install.image,
            "Entrypoint": [install.entrypoint],
            "Cmd": [f"{INSTALL_SCRIPT_DIR}/install.sh"],
            "Env": [f"{key}={value}" for key, value in spec.environment.items()],
            "WorkingDir": INSTALL_MOUNT,
            "Labels": self._labels(spec.container_id, "install"),
            "HostConfig": {
                "Binds": [f"{volume}:{INSTALL_MOUNT}", f"{script_dir}:{INSTALL_SCRIPT_DIR}:ro"],
                "Memory": spec.memory_mb * 1024 * 1024,
                "MemorySwap": spec.memory_mb * 1024 * 1024,
                "NanoCpus": spec.cpu * 10_000_000,
                "PidsLimit": spec.pids,
                "CapDrop": ["ALL"],
                "CapAdd": _INSTALL_CAPS,
                "SecurityOpt": ["no-new-privileges"],
                "NetworkMode": "bridge",
            },
        }
        try:
            container = await self.docker.containers.create(config, name=install_name(spec.container_id))
            await container.start()
            try:
                status = await container.wait(timeout=self.settings.install_timeout)
            except TimeoutError:
                await container.kill()
                limit = f"{self.settings.install_timeout:.0f} s"
                raise DriverError(f"The install script ran longer than {limit} and was stopped.") from None
            lines = await container.log(stdout=True, stderr=True)
            output = "".join(lines)
            await container.delete(force=True)
        except DockerError as exc:
            raise DriverError(f"Docker could not run the install script: {exc.message}") from None
        finally:
            shutil.rmtree(script_dir, ignore_errors=True)
        code = int(status.get("StatusCode", -1))
        if code != 0:
            raise DriverError(f"The install script exited with code {code}; see the job output.", output)
        return output

    def _labels(self, container_id: uuid.UUID, role: str) -> dict[str, str]:
        return {LABEL_CONTAINER: str(container_id), LABEL_NODE: str(self.settings.node_id), LABEL_ROLE: role}

    def _config(self, spec: ContainerSpec, volume: Path) -> dict[str, Any]:
        exposed: dict[str, dict[str, str]] = {}
        bindings: dict[str, list[dict[str, str]]] = {}
        for port in spec.ports:
            for protocol_name in ("tcp", "udp"):
                key = f"{port.port}/{protocol_name}"
                exposed[key] = {}
                bindings.setdefault(key, []).append({"HostIp": port.ip, "HostPort": str(port.port)})
        memory = spec.memory_mb * 1024 * 1024
        return {
            "Image": spec.image,
            # Pterodactyl images read STARTUP from the environment in their entrypoint; plain images run the command.
            "Cmd": ["/bin/sh", "-c", spec.startup],
            "Env": [f"{key}={value}" for key, value in spec.environment.items()],
            "WorkingDir": CONTAINER_HOME,
            "User": f"{self.settings.uid}:{self.settings.gid}",
            "OpenStdin": True,
            "StdinOnce": False,
            "Tty": False,
            "ExposedPorts": exposed,
            "Labels": self._labels(spec.container_id, "server") | {LABEL_DISK_MB: str(spec.disk_mb)},
            "HostConfig": {
                "Binds": [f"{volume}:{CONTAINER_HOME}"],
                "PortBindings": bindings,
                "Memory": memory,
                "MemorySwap": memory,
                "NanoCpus": spec.cpu * 10_000_000,
                "PidsLimit": spec.pids,
                "CapDrop": ["ALL"],
                "CapAdd": list(spec.cap_add),
                "SecurityOpt": ["no-new-privileges"],
                "Init": True,
                "RestartPolicy": {"Name": "no"},
                "LogConfig": {"Type": "json-file", "Config": {"max-size": "10m", "max-file": "2"}},
            },
        }

    async def _get(self, container_id: uuid.UUID) -> DockerContainer:
        found = await self._find(container_name(container_id))
        if found is None:
            raise DriverError("The container does not exist on this node; create it again.")
        return found

    async def start(self, container_id: uuid.UUID) -> None:
        """Start; starting a running container does nothing."""
        container = await self._get(container_id)
        details = await container.show()
        if details["State"]["Running"]:
            return
        self.stopping.discard(container_id)
        try:
            await container.start()
        except DockerError as exc:
            raise DriverError(f"Docker could not start the container: {exc.message}") from None

    async def stop(self, container_id: uuid.UUID, how: StopSpec) -> None:
        """The egg's stop command (stdin line or signal), then SIGKILL after the timeout; a stopped container is left alone."""
        container = await self._get(container_id)
        if not (await container.show())["State"]["Running"]:
            return
        self.stopping.add(container_id)
        try:
            if how.command is not None:
                await self.send_line(container_id, how.command)
            else:
                await container.kill(signal=how.signal or "SIGTERM")
            try:
                await container.wait(timeout=how.timeout)
            except TimeoutError:
                await container.kill(signal="SIGKILL")
                await container.wait(timeout=30)
        except DockerError as exc:
            if exc.status not in {404, 409}:  # 409: it stopped on its own meanwhile
                raise DriverError(f"Docker could not stop the container: {exc.message}") from None

    async def kill(self, container_id: uuid.UUID) -> None:
        """SIGKILL now; a stopped container is left alone."""
        container = await self._get(container_id)
        if not (await container.show())["State"]["Running"]:
            return
        self.stopping.add(container_id)
        with contextlib.suppress(DockerError):
            await container.kill(signal="SIGKILL")
        await container.wait(timeout=30)

    async def delete(self, container_id: uuid.UUID) -> None:
        """Remove the container, its install container and its volume; what is already gone is skipped."""
        self.stopping.add(container_id)
        for name in (container_name(container_id), install_name(container_id)):
            found = await self._find(name)
            if found is not None:
                try:
                    await found.delete(force=True)
                except DockerError as exc:
                    if exc.status != 404:
                        raise DriverError(f"Docker could not remove {name}: {exc.message}") from None
        volume = self.volume_of(container_id)
        await asyncio.to_thread(shutil.rmtree, volume, True)
        self.stopping.discard(container_id)

    async def send_line(self, container_id: uuid.UUID, line: str) -> None:
        """Write one line to the container's stdin."""
        container = await self._get(container_id)
        stream = container.attach(stdin=True, stdout=False, stderr=False)
        async with stream:
            await stream.write_in(line.encode() + b"\n")

    async def logs(self, container_id: uuid.UUID, tail: int) -> str:
        """The last `tail` lines the container printed (stdout and stderr)."""
        container = await self._get(container_id)
        chunks = await container.log(stdout=True, stderr=True, tail=tail)
        return "".join(chunks)

    async def follow(self, container_id: uuid.UUID, *, tail: int, since: int) -> AsyncIterator[list[str]]:
        """The container's output as it comes, in whole lines: the last `tail` lines (after `since`), then live ones.

        The stream ends when the container stops (or Docker drops the connection); it has no time limit.
        Docker writes a message per line: the stream is read over HTTP/1.0 (no chunk per message to take apart)
        and rests a moment after a small read, so that a chatty container's lines come many to a read.
        """
        container = await self._get(container_id)  # resolves the API version too
        lines = OutputLines(multiplexed=not container["Config"].get("Tty", False))
        url = f"{self.docker.docker_host}/{self.docker.api_version}/containers/{container.id}/logs"
        params = {"stdout": "1", "stderr": "1", "follow": "1", "tail": str(tail), "since": str(since)}
        async with (
            aiohttp.ClientSession(
                connector=self.docker.connector, connector_owner=False, version=aiohttp.HttpVersion10, timeout=_STREAM_TIMEOUT
            ) as http,
            http.get(url, params=params) as response,
        ):
            if response.status != 200:
                raise DriverError(f"Docker could not follow the container's output: {(await response.text())[:300]}")
            transport = response.connection.transport if response.connection is not None else None
            with contextlib.suppress(aiohttp.ClientConnectionError, aiohttp.ClientPayloadError):
                async for data in response.content.iter_any():
                    found = lines.feed(data)
                    if found:
                        yield found
                    if transport is not None and len(data) < READ_PIECE:
                        transport.pause_reading()
                        try:
                            await asyncio.sleep(READ_REST)
                        finally:
                            transport.resume_reading()
        rest = lines.end()
        if rest:
            yield rest

    async def over_disk_limit(self) -> list[tuple[uuid.UUID, int, int]]:
        """Running containers whose volume holds more than their disk limit: (id, bytes used, limit in bytes)."""
        labels = [f"{LABEL_NODE}={self.settings.node_id}", f"{LABEL_ROLE}=server"]
        found = await self.docker.containers.list(filters=json.dumps({"label": labels, "status": ["running"]}))
        over = []
        for item in found:
            item_labels = item._container.get("Labels") or {}
            try:
                container_id = uuid.UUID(item_labels[LABEL_CONTAINER])
                limit = int(item_labels[LABEL_DISK_MB]) * 1024 * 1024
            except (KeyError, ValueError):
                continue
            used = await asyncio.to_thread(disk_use, self.volume_of(container_id))
            if used > limit:
                over.append((container_id, used, limit))
        return over

    async def stats(self, container_id: uuid.UUID) -> AsyncIterator[dict[str, float | int]]:
        """CPU percent, memory, network and volume size about once a second, while the container runs."""
        container = await self._get(container_id)
        volume = self.volume_of(container_id)
        disk, measured = 0, 0.0
        stream: AsyncIterator[dict[str, Any]] = container.stats(stream=True)
        async for sample in stream:
            if not sample.get("memory_stats"):
                continue  # the container stopped
            now = asyncio.get_running_loop().time()
            if now - measured >= DISK_MEASURE_SECONDS:
                disk, measured = await asyncio.to_thread(disk_use, volume), now
            yield _figures(sample) | {"disk_bytes": disk}

    async def usage(self) -> list[ContainerUsage]:
        """CPU percent and memory of each running Nubes container of this node: one Docker stats sample each, asked
        for all at once (Docker answers one after about a second, with the previous reading for the CPU)."""
        labels = [f"{LABEL_NODE}={self.settings.node_id}", f"{LABEL_ROLE}=server"]
        found = await self.docker.containers.list(filters=json.dumps({"label": labels, "status": ["running"]}))

        async def one(item: DockerContainer) -> ContainerUsage | None:
            try:
                container_id = uuid.UUID((item._container.get("Labels") or {})[LABEL_CONTAINER])
                samples = await item.stats(stream=False)
            except (KeyError, ValueError, DockerError):
                return None
            sample = samples[0] if isinstance(samples, list) and samples else samples
            if not isinstance(sample, dict) or not sample.get("memory_stats"):
                return None  # it stopped meanwhile
            figures = _figures(sample)
            return ContainerUsage(
                container_id=container_id, cpu_percent=float(figures["cpu_percent"]), memory_bytes=int(figures["memory_bytes"])
            )

        answered = await asyncio.gather(*(one(item) for item in found[:MAX_USAGE_CONTAINERS]))
        return [usage for usage in answered if usage is not None]

    async def events(self) -> AsyncIterator[tuple[uuid.UUID, ObservedState, int | None]]:
        """State changes of this node's containers as Docker reports them (start, die)."""
        labels = [f"{LABEL_NODE}={self.settings.node_id}", f"{LABEL_ROLE}=server"]
        filters = {"type": ["container"], "event": ["start", "die"], "label": labels}
        subscriber = self.docker.events.subscribe(filters=json.dumps(filters))  # type: ignore[no-untyped-call]
        while True:
            event = await subscriber.get()
            if event is None:
                return
            attributes = event.get("Actor", {}).get("Attributes", {})
            try:
                container_id = uuid.UUID(attributes.get(LABEL_CONTAINER, ""))
            except ValueError:
                continue
            if event.get("Action") == "start":
                yield container_id, "running", None
                continue
            code = int(attributes.get("exitCode", "0") or 0)
            stopped = container_id in self.stopping or code in {0}
            self.stopping.discard(container_id)
            yield container_id, "stopped" if stopped else "crashed", code


class OutputLines:
    """Docker's log stream cut into lines of text: frames taken apart (no TTY), UTF-8 decoded, split at newlines.

    Works on whatever pieces the socket gives: a frame, a character or a line may straddle two of them.
    Bytes that are not UTF-8 become U+FFFD; a line longer than MAX_OUTPUT_LINE is cut into pieces of that length.
    """

    def __init__(self, *, multiplexed: bool, max_line: int = MAX_OUTPUT_LINE) -> None:
        self.multiplexed = multiplexed
        self.max_line = max_line
        self.frames = bytearray()  # the start of a frame whose end has not come yet
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.pending = ""  # text after the last newline

    def feed(self, data: bytes) -> list[str]:
        """The lines that `data` completes, in order."""
        text = self.pending + self.decoder.decode(self._payload(data) if self.multiplexed else data)
        lines = text.split("\n")
        self.pending = lines.pop()
        if len(text) > self.max_line:
            lines = self._cut(lines)
            while len(self.pending) >= self.max_line:
                lines.append(self.pending[: self.max_line])
                self.pending = self.pending[self.max_line :]
        return lines

    def end(self) -> list[str]:
        """What is left when the stream ends: a last line without its newline, if any."""
        rest = self.pending + self.decoder.decode(b"", final=True)
        self.pending = ""
        return self._cut([rest]) if rest else []

    def _payload(self, data: bytes) -> bytes:
        """The frames' contents, joined; an incomplete last frame waits for the next piece."""
        frames = self.frames
        frames += data
        parts, position, size = [], 0, len(frames)
        unpack = _FRAME_HEADER.unpack_from
        while position + 8 <= size:
            end = position + 8 + unpack(frames, position)[1]
            if end > size:
                break
            parts.append(frames[position + 8 : end])
            position = end
        del frames[:position]
        return b"".join(parts)

    def _cut(self, lines: list[str]) -> list[str]:
        limit = self.max_line
        if max(map(len, lines), default=0) <= limit:
            return lines
        return [line[start : start + limit] for line in lines for start in range(0, max(len(line), 1), limit)]


def _figures(sample: dict[str, Any]) -> dict[str, float | int]:
    """Docker's stats sample as the few figures a console shows (CPU percent as `docker stats` computes it)."""
    cpu, previous = sample.get("cpu_stats") or {}, sample.get("precpu_stats") or {}
    cpu_delta = cpu.get("cpu_usage", {}).get("total_usage", 0) - previous.get("cpu_usage", {}).get("total_usage", 0)
    system_delta = cpu.get("system_cpu_usage", 0) - previous.get("system_cpu_usage", 0)
    cores = cpu.get("online_cpus") or len(cpu.get("cpu_usage", {}).get("percpu_usage") or []) or 1
    percent = cpu_delta / system_delta * cores * 100 if cpu_delta > 0 and system_delta > 0 else 0.0
    memory = sample.get("memory_stats") or {}
    cache = (memory.get("stats") or {}).get("total_inactive_file", 0)
    networks = (sample.get("networks") or {}).values()
    return {
        "cpu_percent": round(percent, 2),
        "memory_bytes": max(int(memory.get("usage", 0)) - int(cache), 0),
        "memory_limit_bytes": int(memory.get("limit", 0)),
        "network_rx_bytes": sum(int(network.get("rx_bytes", 0)) for network in networks),
        "network_tx_bytes": sum(int(network.get("tx_bytes", 0)) for network in (sample.get("networks") or {}).values()),
    }


def disk_use(root: Path) -> int:
    """Bytes used under a volume (symlinks not followed, each hard-linked file counted once)."""
    total, seen = 0, set()
    for directory, _, files in os.walk(root):
        for name in files:
            with contextlib.suppress(OSError):
                info = (Path(directory) / name).lstat()
                if (info.st_dev, info.st_ino) not in seen:
                    seen.add((info.st_dev, info.st_ino))
                    total += info.st_blocks * 512
    return total


def _state_of(details: dict[str, Any], *, stopping: bool = False) -> ObservedState:
    state = details["State"]
    if state.get("Running"):
        return "running"
    code = int(state.get("ExitCode") or 0)
    if stopping or (code in _STOP_EXIT_CODES and not state.get("OOMKilled")):
        return "stopped"
    return "crashed"


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    """Give the container's user its volume (the install ran as root); symlinks are not followed."""
    if os.geteuid() != 0:
        return
    os.chown(root, uid, gid)
    for directory, subdirs, files in os.walk(root):
        for name in subdirs + files:
            os.chown(Path(directory) / name, uid, gid, follow_symlinks=False)

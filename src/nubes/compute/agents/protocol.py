"""The messages between the server and a node agent over `/api/ws/agent`: typed, versioned JSON.

The agent imports only this module from the server's code. Every message carries `type`; a peer
that receives a `protocol` it does not speak closes the socket with a message saying so.

- server -> agent: `welcome` (after authentication), `command` (with an id and an idempotency key:
  a command re-sent after a reconnect is carried out once), `ping`, and for consoles
  `console_open` / `console_input` / `console_close`, and `file_request` (a container's files).
- agent -> server: `hello` (version and the containers it finds by their labels), `command_result`,
  `event` (a container's state changed: started, exited, crashed), `heartbeat`, and
  `console_output` / `console_stats` / `console_ended`, and `file_result`.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

PROTOCOL_VERSION = 2
"""2: heartbeats carry the node's host figures and its containers' use. Messages refuse fields they do not know, so an
agent and a server of different versions are told so at the hello (closed with the version spoken), not failed later."""

# The label every Docker container made by Nubes carries; the agent adopts containers by it after a restart.
LABEL_CONTAINER = "io.nubes.container"
LABEL_NODE = "io.nubes.node"
LABEL_ROLE = "io.nubes.role"  # "server" for the container itself, "install" for its install container
LABEL_DISK_MB = "io.nubes.disk-mb"  # the volume's limit, enforced by the agent
Action = Literal["create", "start", "stop", "restart", "kill", "delete", "logs"]
ObservedState = Literal["running", "stopped", "crashed", "missing"]


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    protocol: int = PROTOCOL_VERSION


class Port(BaseModel):
    """One host address a container port is published on (same port inside and outside, as Pterodactyl does)."""

    model_config = ConfigDict(frozen=True)

    ip: str
    port: int = Field(ge=1, le=65535)


class InstallSpec(BaseModel):
    """The egg's install script and the container it runs in, on the container's volume at /mnt/server."""

    model_config = ConfigDict(frozen=True)

    image: str
    entrypoint: str = "sh"
    script: str


class StopSpec(BaseModel):
    """How to stop gracefully: a signal (`^C` in eggs is SIGINT) or a line written to stdin; then kill after `timeout`."""

    model_config = ConfigDict(frozen=True)

    signal: str | None = None
    command: str | None = None
    timeout: float = Field(default=30, gt=0, le=3600)


class ContainerSpec(BaseModel):
    """Everything an agent needs to create a container; it never names a host path (the agent picks the volume)."""

    model_config = ConfigDict(frozen=True)

    container_id: uuid.UUID
    name: str
    image: str
    startup: str
    environment: dict[str, str] = Field(default_factory=dict)
    cpu: int = Field(ge=1, description="Percent of one core.")
    memory_mb: int = Field(ge=4)
    disk_mb: int = Field(ge=1)
    pids: int = Field(ge=16)
    ports: list[Port] = Field(default_factory=list)
    install: InstallSpec | None = None
    stop: StopSpec = Field(default_factory=StopSpec)
    cap_add: list[str] = Field(default_factory=list)


# --- server -> agent -------------------------------------------------------------------------------


class Welcome(_Message):
    """The server accepted the agent's credential."""

    type: Literal["welcome"] = "welcome"
    node_id: uuid.UUID
    heartbeat_interval: float


class Command(_Message):
    """Do `action` to a container; `idempotency_key` is the job id, the same on every re-send."""

    type: Literal["command"] = "command"
    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    idempotency_key: str
    action: Action
    container_id: uuid.UUID
    spec: ContainerSpec | None = None
    tail: int = Field(default=100, ge=0, le=10_000)


class Ping(_Message):
    """Are you there; the agent answers with a heartbeat."""

    type: Literal["ping"] = "ping"


MAX_CONSOLE_LINE = 4096


class ConsoleOpen(_Message):
    """Stream a container's output (the last `tail` lines, then live ones) under `stream_id` until closed."""

    type: Literal["console_open"] = "console_open"
    stream_id: uuid.UUID
    container_id: uuid.UUID
    tail: int = Field(default=100, ge=0, le=10_000)


class ConsoleInput(_Message):
    """A line for the container's stdin."""

    type: Literal["console_input"] = "console_input"
    stream_id: uuid.UUID
    container_id: uuid.UUID
    line: str = Field(max_length=MAX_CONSOLE_LINE)


class ConsoleClose(_Message):
    """Stop streaming."""

    type: Literal["console_close"] = "console_close"
    stream_id: uuid.UUID


FILE_CHUNK = 262_144  # bytes of file data per message (base64 in JSON: about 350 KB a frame)
FileOp = Literal["list", "stat", "read", "write", "commit", "abort", "mkdir", "rename", "delete"]


class FileRequest(_Message):
    """One operation on a container's files, beneath its volume; `path` is relative to the volume root.

    An upload is `write` chunks at growing offsets into a hidden part file (`upload_id`), then
    `commit` (renamed over `path` at once) or `abort`. `read` returns at most FILE_CHUNK bytes.
    """

    type: Literal["file_request"] = "file_request"
    request_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    container_id: uuid.UUID
    op: FileOp
    path: str = Field(max_length=4096)
    target: str | None = Field(default=None, max_length=4096)
    offset: int = Field(default=0, ge=0)
    length: int = Field(default=FILE_CHUNK, ge=0, le=FILE_CHUNK)
    upload_id: uuid.UUID | None = None
    data: str = Field(default="", max_length=(FILE_CHUNK * 4) // 3 + 8, description="base64")


_ServerMessages = Welcome | Command | Ping | ConsoleOpen | ConsoleInput | ConsoleClose | FileRequest
ServerMessage = Annotated[_ServerMessages, Field(discriminator="type")]
server_message = TypeAdapter[_ServerMessages](ServerMessage)


# --- agent -> server -------------------------------------------------------------------------------


class ObservedContainer(BaseModel):
    """A Nubes container an agent found on its Docker Engine, by label."""

    model_config = ConfigDict(frozen=True)

    container_id: uuid.UUID
    state: ObservedState
    exit_code: int | None = None


class Hello(_Message):
    """First message after `welcome`: who is speaking and what runs on the node right now."""

    type: Literal["hello"] = "hello"
    agent_version: str
    containers: list[ObservedContainer] = Field(default_factory=list)


class CommandResult(_Message):
    """How a command ended; `state` is the container's state afterwards, `output` the install log or log lines."""

    type: Literal["command_result"] = "command_result"
    command_id: uuid.UUID
    idempotency_key: str
    container_id: uuid.UUID
    ok: bool
    state: ObservedState | None = None
    output: str = ""
    error: str = ""


class Event(_Message):
    """A container changed state on its own (it exited, crashed or was started outside a command)."""

    type: Literal["event"] = "event"
    container_id: uuid.UUID
    state: ObservedState
    exit_code: int | None = None
    reason: str = ""
    enforced: bool = Field(default=False, description="The agent stopped it to enforce a limit: it should stay stopped.")


class DiskUse(BaseModel):
    """One filesystem of the node: where it is mounted, its size and use."""

    model_config = ConfigDict(frozen=True)

    mount: str = Field(max_length=200)
    used_bytes: int = Field(ge=0)
    total_bytes: int = Field(ge=0)


class HostStats(BaseModel):
    """The node's own figures at a heartbeat (network: bytes since boot)."""

    model_config = ConfigDict(frozen=True)

    cpu_percent: float = Field(ge=0, le=100)
    memory_used_bytes: int = Field(ge=0)
    memory_total_bytes: int = Field(ge=0)
    load1: float = Field(ge=0)
    network_rx_bytes: int = Field(ge=0)
    network_tx_bytes: int = Field(ge=0)
    disks: list[DiskUse] = Field(default_factory=list, max_length=20)


class ContainerUsage(BaseModel):
    """One running container's CPU and memory use at a heartbeat."""

    model_config = ConfigDict(frozen=True)

    container_id: uuid.UUID
    cpu_percent: float = Field(ge=0)
    memory_bytes: int = Field(ge=0)


class Heartbeat(_Message):
    """The agent is alive; it carries the node's figures and its running containers' use (ops/metrics stores them)."""

    type: Literal["heartbeat"] = "heartbeat"
    host: HostStats | None = None
    containers: list[ContainerUsage] = Field(default_factory=list, max_length=1000)


class ConsoleOutput(_Message):
    """Lines a container printed, for one console stream."""

    type: Literal["console_output"] = "console_output"
    stream_id: uuid.UUID
    lines: list[str]


class ConsoleStats(_Message):
    """A container's resource use, about once a second while it runs."""

    type: Literal["console_stats"] = "console_stats"
    stream_id: uuid.UUID
    cpu_percent: float
    memory_bytes: int
    memory_limit_bytes: int
    network_rx_bytes: int
    network_tx_bytes: int
    disk_bytes: int


class ConsoleEnded(_Message):
    """A console stream ended on the agent's side (the container is gone)."""

    type: Literal["console_ended"] = "console_ended"
    stream_id: uuid.UUID
    reason: str = ""


class FileEntry(BaseModel):
    """One entry of a container's files, as `lstat` sees it (symlinks are shown, never followed)."""

    model_config = ConfigDict(frozen=True)

    name: str
    kind: Literal["file", "directory", "symlink", "other"]
    size: int
    mode: int
    modified: float


class FileResult(_Message):
    """How a file request ended: `status` is the HTTP status the server answers with when not `ok`."""

    type: Literal["file_result"] = "file_result"
    request_id: uuid.UUID
    ok: bool
    status: int = 200
    error: str = ""
    entries: list[FileEntry] = Field(default_factory=list)
    entry: FileEntry | None = None
    data: str = ""  # base64
    size: int = 0


AgentMessageType = Hello | CommandResult | Event | Heartbeat | ConsoleOutput | ConsoleStats | ConsoleEnded | FileResult
AgentMessage = Annotated[AgentMessageType, Field(discriminator="type")]
agent_message = TypeAdapter[AgentMessageType](AgentMessage)

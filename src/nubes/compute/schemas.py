"""Request and response bodies of the compute API."""

from __future__ import annotations

import ipaddress
import re
import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[\w .@-]+$")]
_PORTS = re.compile(r"^(\d{1,5})(?:-(\d{1,5}))?$")
MAX_PORTS_PER_REQUEST = 1000


class _Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ClusterCreate(BaseModel):
    """A new cluster."""

    name: Name
    description: str = Field(default="", max_length=500)


class ClusterRead(_Read):
    """A cluster."""

    id: uuid.UUID
    name: str
    description: str
    created_at: datetime


class NodeCreate(BaseModel):
    """A node to register: where it belongs and what it can hold."""

    name: Name
    cluster_id: uuid.UUID
    labels: dict[Annotated[str, StringConstraints(max_length=63)], Annotated[str, StringConstraints(max_length=200)]] = Field(
        default_factory=dict, max_length=50
    )
    cpu: int = Field(ge=1, le=100_000, description="Percent of one core: 400 means four cores.")
    memory_mb: int = Field(ge=64, le=100_000_000)
    disk_mb: int = Field(ge=64, le=1_000_000_000)
    overallocate_percent: int = Field(default=0, ge=0, le=1000, description="How far limits may exceed capacity.")


class NodeUsage(BaseModel):
    """What a node's containers reserve out of its capacity, and its ports in use."""

    containers: int = 0
    cpu: int = 0
    memory_mb: int = 0
    disk_mb: int = 0
    allocations: int = 0
    allocations_used: int = 0


class NodeRead(_Read):
    """A node, its capacity and whether its agent is connected."""

    id: uuid.UUID
    name: str
    cluster_id: uuid.UUID
    labels: dict[str, str]
    cpu: int
    memory_mb: int
    disk_mb: int
    overallocate_percent: int
    status: str
    last_heartbeat_at: datetime | None
    agent_version: str
    created_at: datetime
    allocated: NodeUsage = Field(default_factory=NodeUsage, description="Reserved by its containers (lists and reads only).")


class NodeCreated(NodeRead):
    """A new node with its one-time registration token (shown only in this answer)."""

    registration_token: str
    registration_expires_at: datetime
    agent_command: str


class NodeRegister(BaseModel):
    """What `nubes agent` sends once: the registration token."""

    token: str = Field(min_length=1, max_length=200)


class NodeCredential(BaseModel):
    """The node's long-lived credential, given once to its agent."""

    node_id: uuid.UUID
    credential: str


class AllocationCreate(BaseModel):
    """Addresses a node may give containers: an IP and ports or port ranges ("25565", "25600-25610")."""

    ip: str = Field(max_length=45)
    ports: list[Annotated[str, StringConstraints(max_length=11)]] = Field(min_length=1, max_length=100)

    @field_validator("ip")
    @classmethod
    def _ip(cls, value: str) -> str:
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            raise ValueError("must be an IP address such as 0.0.0.0 or 192.0.2.10") from None

    def port_numbers(self) -> list[int]:
        """Every port named, ranges expanded; ValueError on a malformed or too large set."""
        numbers: set[int] = set()
        for item in self.ports:
            match = _PORTS.fullmatch(item.strip())
            if not match:
                raise ValueError(f"{item!r} is not a port or a range like 25600-25610")
            low = int(match.group(1))
            high = int(match.group(2) or low)
            if not 1024 <= low <= high <= 65535:
                raise ValueError(f"{item!r}: ports must be between 1024 and 65535, low to high")
            numbers.update(range(low, high + 1))
            if len(numbers) > MAX_PORTS_PER_REQUEST:
                raise ValueError(f"at most {MAX_PORTS_PER_REQUEST} ports per request")
        return sorted(numbers)


class AllocationRead(_Read):
    """One ip:port of a node and the container using it, if any."""

    id: uuid.UUID
    node_id: uuid.UUID
    ip: str
    port: int
    container_id: uuid.UUID | None


class EggVariableRead(BaseModel):
    """A variable a user may see (and perhaps set) when creating a container."""

    name: str
    description: str
    env_variable: str
    default_value: str
    user_editable: bool
    rules: str


class EggRead(BaseModel):
    """An egg, with the variables users see."""

    id: uuid.UUID
    name: str
    author: str
    description: str
    category_id: uuid.UUID | None
    images: list[str]
    startup: str
    variables: list[EggVariableRead]
    created_at: datetime


class EggCategoryCreate(BaseModel):
    """A new egg category."""

    name: Name
    description: str = Field(default="", max_length=500)


class EggCategoryUpdate(BaseModel):
    """Changes to an egg category."""

    name: Name | None = None
    description: str | None = Field(default=None, max_length=500)


class EggCategoryRead(BaseModel):
    """An egg category and how many eggs it holds."""

    id: uuid.UUID
    name: str
    description: str
    eggs: int


class EggUpdate(BaseModel):
    """Changes to an egg's name, author, description (written into its file too, so an export carries them) or category."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None
    author: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    category_id: uuid.UUID | None = Field(default=None, description="The category to move it to.")
    uncategorized: bool = Field(default=False, description="Take it out of its category.")


class Limits(BaseModel):
    """What a container may use."""

    cpu: int = Field(default=100, ge=1, le=100_000, description="Percent of one core.")
    memory_mb: int = Field(default=512, ge=4, le=10_000_000)
    disk_mb: int = Field(default=1024, ge=1, le=100_000_000)
    pids: int = Field(default=256, ge=16, le=100_000)


EnvValue = str | int | bool


class RestartPolicy(BaseModel):
    """What happens when the container crashes (exits on its own with an error code)."""

    mode: Literal["never", "on-crash"] = "never"
    max_retries: int = Field(default=3, ge=1, le=100, description="Restarts allowed within the window; then it stays crashed.")
    window_seconds: int = Field(default=600, ge=10, le=86_400, description="The window the restarts are counted in.")
    backoff_seconds: int = Field(
        default=5, ge=0, le=3600, description="Wait before the first restart; doubled for each next one (at most 5 minutes)."
    )


class ContainerCreate(BaseModel):
    """A new container from an egg, placed on a node of `cluster_id`."""

    name: Name
    egg_id: uuid.UUID
    cluster_id: uuid.UUID
    image: str | None = Field(default=None, max_length=500, description="One of the egg's images; its first by default.")
    environment: dict[Annotated[str, StringConstraints(max_length=100)], EnvValue] = Field(default_factory=dict, max_length=200)
    limits: Limits = Field(default_factory=Limits)
    start: bool = Field(default=False, description="Start the container once it is installed.")
    restart: RestartPolicy = Field(default_factory=RestartPolicy)
    allocations: int | None = Field(
        default=None, ge=1, le=20, description="How many ip:port allocations to bind (1 when absent; the lowest is SERVER_PORT)."
    )
    allocation_ids: list[uuid.UUID] | None = Field(
        default=None, min_length=1, max_length=20, description="Exactly these free allocations (all of one node) instead."
    )
    node_id: uuid.UUID | None = Field(default=None, description="Place it on this node of the cluster (any that fits if absent).")


class ContainerUpdate(BaseModel):
    """Settings of a container that change without recreating it."""

    name: Name | None = None
    restart: RestartPolicy | None = None


class PortRead(BaseModel):
    """Where a container can be reached."""

    ip: str
    port: int


class ContainerRead(_Read):
    """A container and its lifecycle state."""

    id: uuid.UUID
    name: str
    egg_id: uuid.UUID
    node_id: uuid.UUID
    image: str
    cpu: int
    memory_mb: int
    disk_mb: int
    pids: int
    environment: dict[str, str]
    startup: str
    state: str
    desired_state: str
    state_reason: str
    ports: list[PortRead] = Field(default_factory=list)
    restart: RestartPolicy = Field(default_factory=RestartPolicy)
    created_at: datetime


class ContainerPage(BaseModel):
    """A page of containers."""

    items: list[ContainerRead]
    total: int


class JobRead(_Read):
    """One operation and how it ended."""

    id: uuid.UUID
    action: str
    target_type: str
    target_id: str
    container_id: uuid.UUID | None
    node_id: uuid.UUID | None
    actor_name: str
    status: str
    output: str
    error: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class JobPage(BaseModel):
    """A page of jobs."""

    items: list[JobRead]
    total: int


class ContainerAccepted(BaseModel):
    """The container as it is now, and the job that carries the change out."""

    container: ContainerRead
    job: JobRead


class PowerRequest(BaseModel):
    """A power action."""

    action: Literal["start", "stop", "restart", "kill"]


class ContainerLogs(BaseModel):
    """The last lines a container printed."""

    lines: list[str]


class ConsoleTicket(BaseModel):
    """A single-use ticket for one container's console, and the socket URL that uses it."""

    ticket: str
    expires_in: int
    url: str

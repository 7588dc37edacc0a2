"""Request and response bodies of containers."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from nubes.compute.jobs.schemas import JobRead
from nubes.compute.schemas import Name, Read


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


class ContainerRead(Read):
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

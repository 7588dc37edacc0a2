"""Request and response bodies of nodes and allocations."""

from __future__ import annotations

import ipaddress
import re
import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, field_validator

from nubes.compute.schemas import Name, Read

_PORTS = re.compile(r"^(\d{1,5})(?:-(\d{1,5}))?$")
MAX_PORTS_PER_REQUEST = 1000


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


class NodeRead(Read):
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


class AllocationRead(Read):
    """One ip:port of a node and the container using it, if any."""

    id: uuid.UUID
    node_id: uuid.UUID
    ip: str
    port: int
    container_id: uuid.UUID | None

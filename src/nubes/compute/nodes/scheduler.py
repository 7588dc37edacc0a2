"""Placement: which node takes a new container, and which of its allocations (a pure function, no I/O).

The service loads the candidates (a cluster's nodes, what their containers reserve, their free
allocations) and claims what `choose` picked; the rules of choosing live here alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Candidate:
    """A node placement may choose: its capacity, what its containers reserve, and its free allocations."""

    id: uuid.UUID
    name: str
    status: str  # pending | online | offline | revoked
    cpu: int  # percent of one core
    memory_mb: int
    disk_mb: int
    overallocate_percent: int = 0
    used_cpu: int = 0
    used_memory_mb: int = 0
    used_disk_mb: int = 0
    free_allocations: Sequence[uuid.UUID] = ()  # in the order they are handed out (ip, then port)


@dataclass(frozen=True, slots=True)
class Request:
    """What a new container asks for: its limits and how many allocations (or exactly which ones)."""

    cpu: int
    memory_mb: int
    disk_mb: int
    allocations: int = 1
    node_id: uuid.UUID | None = None  # only this node may take it
    chosen: Sequence[uuid.UUID] = ()  # these free allocations of one node, none other (then `allocations` is ignored)


@dataclass(frozen=True, slots=True)
class Choice:
    """The node that takes the container and the allocations it gets (the first is SERVER_IP:SERVER_PORT)."""

    node: Candidate
    allocations: tuple[uuid.UUID, ...]


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why no node can take the container, in words for the user."""

    reason: str


def choose(candidates: Sequence[Candidate], request: Request) -> Choice | Refusal:
    """The best node with room for the request's limits and allocations, or why there is none.

    Revoked nodes never take a container. Limits count against capacity raised by the node's
    overallocation; online nodes come before the others, then the node with the most free memory,
    then the name (so equal nodes are chosen the same way every time). With `node_id` only that node
    is considered; with `chosen` allocations only the node that holds them, and exactly they are given.
    Shortages are reported in the order of `candidates`.
    """
    nodes = [node for node in candidates if node.status != "revoked"]
    if request.node_id is not None:
        nodes = [node for node in nodes if node.id == request.node_id]
    if request.chosen:
        nodes = [node for node in nodes if set(request.chosen) <= set(node.free_allocations)]
    if not nodes:
        return Refusal("This cluster has no usable node; an administrator must add and register one.")
    count = 0 if request.chosen else request.allocations
    shortages: list[str] = []
    fitting: list[tuple[bool, int, str, Candidate]] = []
    for node in nodes:
        short, free_memory = _shortages(node, request, count)
        if short:
            shortages.append(f"{node.name}: {', '.join(short)}")
        else:
            fitting.append((node.status != "online", -free_memory, node.name, node))
    if not fitting:
        return Refusal("No node of this cluster can take the container; short of " + "; ".join(shortages) + ".")
    best = min(fitting, key=lambda item: item[:3])[3]
    allocations = tuple(request.chosen) if request.chosen else tuple(best.free_allocations[:count])
    return Choice(node=best, allocations=allocations)


def _shortages(node: Candidate, request: Request, count: int) -> tuple[list[str], int]:
    """What the node lacks for the request (empty when it fits), and its free memory."""
    factor = 1 + node.overallocate_percent / 100
    room = {
        "CPU": (int(node.cpu * factor) - node.used_cpu, request.cpu, "%"),
        "memory": (int(node.memory_mb * factor) - node.used_memory_mb, request.memory_mb, " MiB"),
        "disk": (int(node.disk_mb * factor) - node.used_disk_mb, request.disk_mb, " MiB"),
    }
    short = [
        f"{what} (needs {need}{unit}, {max(free, 0)}{unit} free)" for what, (free, need, unit) in room.items() if free < need
    ]
    free_ports = len(node.free_allocations)
    if free_ports < count:
        short.append("a free allocation (ip:port)" if count == 1 else f"{count} free allocations ({free_ports} free)")
    return short, room["memory"][0]

"""What feeds the recorder: the requests middleware, this replica's host figures, and the install-wide figures
(job queues, storage per tenant, failed sign-ins, nodes, containers' auto-restarts, the last backup) gathered by one
process of the install.

Labels stay bounded: routes are templates (`/api/files/{file_id}`, never a raw path), statuses are classes (2xx),
tenants and nodes are ids; no label names a user or a file.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nubes.compute.agents import protocol
from nubes.compute.containers import service as containers_service
from nubes.compute.jobs import service as jobs_service
from nubes.compute.nodes import service as nodes_service
from nubes.core import host
from nubes.core.audit import AuditEvent
from nubes.core.leases import REPLICA
from nubes.core.mail import OutboxMail
from nubes.files.quota import service as quota_service
from nubes.identity.tenants import service as tenants_service
from nubes.ops.backups import service as backups_service
from nubes.ops.metrics.recorder import UNMATCHED_ROUTE, Recorder

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SIGNIN_FAILURES = ("auth.login", "auth.mfa", "auth.passkey")
"""Audited actions whose failures count as failed sign-ins."""

STORAGE_EVERY = 300.0
"""Seconds between two readings of the storage used per tenant."""


def _route_of(scope: Scope) -> str:
    """The matched route's full template: FastAPI keeps a route of an included router with its own (unprefixed) path
    in `scope["route"]`, and the effective one, prefixes included, in its part of the scope."""
    chosen = scope.get("fastapi", {}).get("effective_route_context")
    path = getattr(chosen, "path_format", None) or getattr(scope.get("route"), "path_format", None)
    return path if isinstance(path, str) and path else UNMATCHED_ROUTE


class RequestMetrics:
    """Pure ASGI middleware: each HTTP request counted by route template, method and status class, with its latency;
    open WebSockets counted per route template."""

    def __init__(self, app: ASGIApp, recorder: Recorder) -> None:
        self.app = app
        self.recorder = recorder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the exchange on, noting it in the recorder."""
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        status = 500

        async def noting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting_send)
        finally:
            self.recorder.request(_route_of(scope), scope["method"], status, time.perf_counter() - started)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        counted: list[str] = []
        sockets = self.recorder.websockets

        async def noting_send(message: Message) -> None:
            if message["type"] == "websocket.accept" and not counted:
                route = _route_of(scope)
                counted.append(route)
                sockets[route] = sockets.get(route, 0) + 1
            await send(message)

        try:
            await self.app(scope, receive, noting_send)
        finally:
            for route in counted:
                sockets[route] -= 1


class HostFigures:
    """A host's figures as samples: CPU, memory, disk per mount, load, and network as deltas between readings (a
    replica's CPU too is measured between readings: its first one is left out)."""

    def __init__(self, *, host: str = REPLICA, source: str = "replica") -> None:
        self.labels = {"host": host, "source": source}
        self._network: tuple[int, int] | None = None

    def samples(self, reading: host.HostReading) -> list[tuple[str, float, dict[str, str], str]]:
        """The reading as (name, value, labels, kind)."""
        labels = self.labels
        figures: list[tuple[str, float, dict[str, str], str]] = [
            ("host_memory_used_bytes", float(reading.memory_used_bytes), labels, "gauge"),
            ("host_memory_total_bytes", float(reading.memory_total_bytes), labels, "gauge"),
            ("host_load1", reading.load1, labels, "gauge"),
        ]
        for disk in reading.disks:
            mount = {**labels, "mount": disk.mount}
            figures.append(("host_disk_used_bytes", float(disk.used_bytes), mount, "gauge"))
            figures.append(("host_disk_total_bytes", float(disk.total_bytes), mount, "gauge"))
        now = (reading.network_rx_bytes, reading.network_tx_bytes)
        if self._network is not None or labels["source"] == "node":  # an agent measures its CPU between heartbeats
            figures.append(("host_cpu_percent", reading.cpu_percent, labels, "gauge"))
        if self._network is not None:
            figures.append(("host_network_rx_bytes", float(max(now[0] - self._network[0], 0)), labels, "counter"))
            figures.append(("host_network_tx_bytes", float(max(now[1] - self._network[1], 0)), labels, "counter"))
        self._network = now
        return figures


class NodeFigures:
    """The nodes' own figures, from their agents' heartbeats (a listener of the agent hub), into the recorder: each
    flush stores a node's latest reading, and its network traffic since the previous flush."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self._nodes: dict[uuid.UUID, HostFigures] = {}
        self._containers: dict[uuid.UUID, tuple[uuid.UUID, protocol.ContainerUsage]] = {}
        self._tenants: dict[uuid.UUID, uuid.UUID] = {}

    def heard(self, node_id: uuid.UUID, heartbeat: protocol.Heartbeat) -> None:
        """Note the figures a heartbeat carries: the node's own now, its containers' at the next `note_containers`."""
        for usage in heartbeat.containers:
            self._containers[usage.container_id] = (node_id, usage)
        stats = heartbeat.host
        if stats is None:
            return
        figures = self._nodes.get(node_id)
        if figures is None:
            figures = self._nodes[node_id] = HostFigures(host=str(node_id), source="node")
        reading = host.HostReading(
            cpu_percent=stats.cpu_percent,
            memory_used_bytes=stats.memory_used_bytes,
            memory_total_bytes=stats.memory_total_bytes,
            load1=stats.load1,
            network_rx_bytes=stats.network_rx_bytes,
            network_tx_bytes=stats.network_tx_bytes,
            disks=[host.Disk(mount=d.mount, used_bytes=d.used_bytes, total_bytes=d.total_bytes) for d in stats.disks],
        )
        note_process(self.recorder, figures.samples(reading), sockets=False)

    async def note_containers(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        """Note the containers' latest use, labelled with their node and tenant (looked up once per container)."""
        heard, self._containers = self._containers, {}
        unknown = [container_id for container_id in heard if container_id not in self._tenants]
        if unknown:
            async with sessions() as session:
                self._tenants.update(await containers_service.tenants_of(session=session, container_ids=unknown))
        for container_id, (node_id, usage) in heard.items():
            tenant_id = self._tenants.get(container_id)
            if tenant_id is None:
                continue  # deleted meanwhile
            labels = {"container": str(container_id), "node": str(node_id), "tenant": str(tenant_id)}
            self.recorder.record("container_cpu_percent", usage.cpu_percent, labels)
            self.recorder.record("container_memory_bytes", float(usage.memory_bytes), labels)


def note_process(recorder: Recorder, figures: list[tuple[str, float, dict[str, str], str]], *, sockets: bool = True) -> None:
    """Note a host's figures (read beforehand) and, with `sockets`, this process's open WebSockets."""
    for name, value, labels, kind in figures:
        recorder.record(name, value, labels, kind="counter" if kind == "counter" else "gauge")
    if not sockets:
        return
    for route, count in list(recorder.websockets.items()):
        recorder.record("websocket_connections", float(count), {"host": REPLICA, "route": route})


class InstallFigures:
    """The figures one process of the install gathers for all: job queues, storage per tenant, failed sign-ins,
    whether each node's agent is connected, containers' auto-restarts and the outcome of the last backup."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self._signins_since: datetime | None = None
        self._restarts_since: datetime | None = None
        self._storage_at = 0.0

    async def gather(self, session: AsyncSession) -> None:
        """Read every figure (in one read-only session) into the recorder."""
        now = datetime.now(UTC)
        await self._queues(session, now)
        await self._signins(session, now)
        await self._nodes(session)
        await self._restarts(session, now)
        await self._backups(session)
        if time.monotonic() - self._storage_at >= STORAGE_EVERY:
            await self._storage(session)
            self._storage_at = time.monotonic()

    async def _queues(self, session: AsyncSession, now: datetime) -> None:
        mail = (
            await session.execute(select(func.count(), func.min(OutboxMail.created_at)).where(OutboxMail.sent_at.is_(None)))
        ).one()
        containers = await jobs_service.queue_depth(session=session)
        for queue, (count, oldest) in (("mail", (int(mail[0]), mail[1])), ("containers", containers)):
            self.recorder.record("jobs_queued", float(count), {"queue": queue})
            age = (now - oldest).total_seconds() if oldest is not None else 0.0
            self.recorder.record("jobs_oldest_age_seconds", max(age, 0.0), {"queue": queue})

    async def _signins(self, session: AsyncSession, now: datetime) -> None:
        since = self._signins_since or now - timedelta(minutes=1)
        failed = await session.execute(
            select(AuditEvent.tenant_id, func.count())
            .where(
                AuditEvent.created_at >= since,
                AuditEvent.created_at < now,
                AuditEvent.action.in_(SIGNIN_FAILURES),
                AuditEvent.outcome == "failure",
                AuditEvent.tenant_id.is_not(None),
            )
            .group_by(AuditEvent.tenant_id)
        )
        for tenant_id, count in failed:
            self.recorder.record("signin_failures", float(count), {"tenant": str(tenant_id)}, kind="counter")
        self._signins_since = now

    async def _nodes(self, session: AsyncSession) -> None:
        for node in await nodes_service.list_nodes(session=session):
            if node.status != "revoked":
                self.recorder.record("node_up", 1.0 if node.status == "online" else 0.0, {"node": str(node.id)})

    async def _restarts(self, session: AsyncSession, now: datetime) -> None:
        since = self._restarts_since or now - timedelta(minutes=1)
        for container_id, node_id, tenant_id, count in await jobs_service.restarts_between(session=session, start=since, end=now):
            labels = {"container": str(container_id), "node": str(node_id or ""), "tenant": str(tenant_id)}
            self.recorder.record("container_restarts", float(count), labels, kind="counter")
        self._restarts_since = now

    async def _backups(self, session: AsyncSession) -> None:
        last_ok, succeeded_at = await backups_service.last_outcomes(session=session)
        if last_ok is not None:
            self.recorder.record("backup_last_status", 1.0 if last_ok else 0.0)
        if succeeded_at is not None:
            at = succeeded_at if succeeded_at.tzinfo is not None else succeeded_at.replace(tzinfo=UTC)
            self.recorder.record("backup_last_success_timestamp", at.timestamp())

    async def _storage(self, session: AsyncSession) -> None:
        for tenant, _users in await tenants_service.list_tenants(session=session):
            used, _quota = await quota_service.tenant_usage(session=session, tenant_id=tenant.id)
            self.recorder.record("storage_used_bytes", float(used), {"tenant": str(tenant.id)})

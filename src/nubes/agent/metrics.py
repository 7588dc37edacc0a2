"""The agent's own figures for Prometheus (`nubes agent --metrics-address`): its connection to the server, the
commands it ran, its heartbeats and consoles, the containers it runs and the node's host figures.

The figures live in a registry of the agent's own (never prometheus-client's global one). Labels stay bounded:
command actions are the protocol's few, outcomes ok/failed, mounts at most `host.MAX_MOUNTS`; no container, user or
file is a label (the server stores per-container figures from the heartbeats).

The endpoint answers `GET /metrics` only. Bound to a loopback address it is open to the host; bound anywhere else it
needs a bearer token (`NUBES_AGENT_METRICS_TOKEN`), so a node's figures are never open to its network by accident.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from nubes import __version__
from nubes.compute.agents import protocol
from nubes.core.crypto import equal

COMMAND_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
"""Seconds buckets of the command duration histogram (a create pulls and installs: minutes)."""


class MetricsAddressError(ValueError):
    """The metrics address cannot be used as given (unparsable, or open to the network without a token)."""


class AgentMetrics:
    """Every figure the agent exposes, updated by the agent as things happen."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        Info("nubes_agent", "The agent's version and protocol", registry=registry).info(
            {"version": __version__, "protocol": str(protocol.PROTOCOL_VERSION)}
        )
        self.connected = Gauge("nubes_agent_connected", "Whether the agent's socket to the server is open", registry=registry)
        self.connections = Counter("nubes_agent_connections", "Connections opened to the server", registry=registry)
        self.heartbeats = Counter("nubes_agent_heartbeats", "Heartbeats sent to the server", registry=registry)
        self.commands = Counter(
            "nubes_agent_commands", "Commands carried out, by action and outcome", ["action", "outcome"], registry=registry
        )
        self.command_seconds = Histogram(
            "nubes_agent_command_seconds", "How long commands took", ["action"], buckets=COMMAND_BUCKETS, registry=registry
        )
        self.consoles = Gauge("nubes_agent_consoles_open", "Console streams open", registry=registry)
        self.containers = Gauge("nubes_agent_containers_running", "Containers running on the node", registry=registry)
        self.cpu = Gauge("nubes_agent_host_cpu_percent", "The node's CPU use", registry=registry)
        self.memory_used = Gauge("nubes_agent_host_memory_used_bytes", "The node's memory in use", registry=registry)
        self.memory_total = Gauge("nubes_agent_host_memory_total_bytes", "The node's memory", registry=registry)
        self.load1 = Gauge("nubes_agent_host_load1", "The node's 1-minute load average", registry=registry)
        self.disk_used = Gauge("nubes_agent_host_disk_used_bytes", "Disk in use per mount", ["mount"], registry=registry)
        self.disk_total = Gauge("nubes_agent_host_disk_total_bytes", "Disk size per mount", ["mount"], registry=registry)

    def heartbeat(self, sent: protocol.Heartbeat) -> None:
        """A heartbeat went out: count it and keep its figures."""
        self.heartbeats.inc()
        self.containers.set(len(sent.containers))
        stats = sent.host
        if stats is None:
            return
        self.cpu.set(stats.cpu_percent)
        self.memory_used.set(stats.memory_used_bytes)
        self.memory_total.set(stats.memory_total_bytes)
        self.load1.set(stats.load1)
        self.disk_used.clear()
        self.disk_total.clear()
        for disk in stats.disks:
            self.disk_used.labels(mount=disk.mount).set(disk.used_bytes)
            self.disk_total.labels(mount=disk.mount).set(disk.total_bytes)

    def command(self, action: str, *, ok: bool, started: float) -> None:
        """A command ended (`started`: its time.monotonic() at the start)."""
        self.commands.labels(action=action, outcome="ok" if ok else "failed").inc()
        self.command_seconds.labels(action=action).observe(max(time.monotonic() - started, 0.0))

    def exposition(self) -> bytes:
        """The text format a Prometheus server scrapes."""
        return generate_latest(self.registry)


def parse_address(address: str, token: str | None) -> tuple[str, int]:
    """`HOST:PORT` (`[v6]:PORT` too) as a host and port; MetricsAddressError when unusable or open without a token."""
    host, separator, port_text = address.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not separator or not host or not port_text.isdigit() or not 0 < int(port_text) < 65_536:
        raise MetricsAddressError(f"--metrics-address {address!r} is not HOST:PORT (e.g. 127.0.0.1:9108)")
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        raise MetricsAddressError(f"--metrics-address needs an IP address or localhost, not {host!r}") from None
    if not loopback and not token:
        raise MetricsAddressError(
            f"--metrics-address {address} is reachable from the network: set NUBES_AGENT_METRICS_TOKEN (Prometheus "
            "sends it as a bearer token) or bind to 127.0.0.1"
        )
    return host, int(port_text)


def application(metrics: AgentMetrics, token: str | None) -> web.Application:
    """The metrics endpoint as an aiohttp application (a bearer token checked when one is set)."""

    async def scrape(request: web.Request) -> web.Response:
        if token:
            given = request.headers.get("Authorization", "").removeprefix("Bearer ")
            if not equal(token, given):
                return web.Response(status=401, text="a bearer token is needed\n", headers={"WWW-Authenticate": "Bearer"})
        return web.Response(body=metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/metrics", scrape)
    return app


async def serve(metrics: AgentMetrics, address: str, token: str | None) -> Callable[[], Awaitable[None]]:
    """Start the endpoint on `address`; returns what stops it."""
    host, port = parse_address(address, token)
    runner = web.AppRunner(application(metrics, token), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner.cleanup

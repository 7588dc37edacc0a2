"""The embedded node: when `nubes serve` finds a Docker Engine, node `local` runs an agent inside the server.

On start-up (single process, the app owning its database, NUBES_LOCAL_AGENT=auto) the server pings
the Docker Engine (`/_ping` on DOCKER_HOST or the local socket). When it answers, cluster `default`
and node `local` are made if missing (idempotent across restarts), the node gets a credential kept
in `<data dir>/local-agent/credential.json` (mode 0600; a fresh one when the file is lost), and the
ordinary agent runs as a task of the server, connected over loopback to the server's own
`/api/ws/agent` like any remote agent: the same protocol, the same checks. No Docker: nothing happens.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from pathlib import Path

import aiodocker
import aiohttp
import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nubes.agent.docker import DockerEnvironment, DriverSettings
from nubes.agent.runner import Agent, AgentError, Credential, load_credential, save_credential
from nubes.compute.clusters.models import Cluster
from nubes.compute.nodes import service as nodes_service
from nubes.compute.nodes.models import Allocation, Node
from nubes.config import Settings
from nubes.core.db import finish_on_exit

log = structlog.get_logger("nubes.compute.local")

CLUSTER_NAME = "default"
NODE_NAME = "local"
LOCAL_PORTS = range(25565, 25575)  # ten allocations on 0.0.0.0 when the node is first made
PING_TIMEOUT = 3.0


async def docker_answers(docker_url: str | None = None) -> bool:
    """Whether a Docker Engine answers `/_ping` (DOCKER_HOST or the local socket)."""
    try:
        docker = aiodocker.Docker(url=docker_url)
    except (ValueError, OSError, aiodocker.DockerError):
        return False
    try:
        async with asyncio.timeout(PING_TIMEOUT), docker._query("_ping", versioned_api=False) as response:
            return response.status == 200
    except (TimeoutError, OSError, aiohttp.ClientError, aiodocker.DockerError):
        return False
    finally:
        await docker.close()


def _capacity(data_dir: Path) -> tuple[int, int, int]:
    """CPU (percent of one core), memory and disk (MiB) of this machine."""
    cpu = (os.cpu_count() or 1) * 100
    memory_mb = 1024
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_mb = int(line.split()[1]) // 1024
    disk_mb = shutil.disk_usage(data_dir).total // (1024 * 1024)
    return cpu, max(memory_mb, 64), max(disk_mb, 64)


async def ensure_local_node(*, sessions: async_sessionmaker[AsyncSession], state_dir: Path, server_url: str) -> Credential:
    """Cluster `default` and node `local`, made if missing, and a credential for the node's agent (saved 0600).

    `sessions` are writer sessions (`Database.writer_sessions`): on SQLite the transaction begins IMMEDIATE.
    """
    saved = load_credential(state_dir)
    async with sessions() as session, finish_on_exit(session):
        node = await session.scalar(select(Node).where(Node.name == NODE_NAME))
        if node is None:
            cluster = await session.scalar(select(Cluster).where(Cluster.name == CLUSTER_NAME))
            if cluster is None:
                cluster = Cluster(name=CLUSTER_NAME, description="Made by the server for its embedded node.")
                session.add(cluster)
                await session.flush()
            cpu, memory_mb, disk_mb = _capacity(state_dir.parent)
            node = Node(
                cluster_id=cluster.id,
                name=NODE_NAME,
                labels={"embedded": "true"},
                cpu=cpu,
                memory_mb=memory_mb,
                disk_mb=disk_mb,
                status="offline",
            )
            session.add(node)
            await session.flush()
            session.add_all(Allocation(node_id=node.id, ip="0.0.0.0", port=port) for port in LOCAL_PORTS)  # noqa: S104 - published ports
            log.info("local_node.created", node=str(node.id), cluster=CLUSTER_NAME)
        if node.status == "revoked":
            raise AgentError("node `local` was revoked by an administrator; the embedded agent stays off")
        known = saved is not None and saved.node_id == node.id and node.credential_hash is not None
        if known and saved is not None and await nodes_service.node_by_credential(session=session, credential=saved.credential):
            return Credential(server=server_url, node_id=node.id, credential=saved.credential)
        secret = nodes_service.issue_node_credential(node)
        await session.flush()
    credential = Credential(server=server_url, node_id=node.id, credential=secret)
    save_credential(state_dir, credential)
    return credential


async def run_local_agent(*, settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> None:
    """The embedded node's agent, for the server's whole life (returns at once when no Docker Engine answers)."""
    try:
        await _run_local_agent(settings=settings, sessions=sessions)
    except Exception:
        log.exception("local_node.failed")


async def _run_local_agent(*, settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> None:
    docker_url = os.environ.get("DOCKER_HOST") or None
    if not await docker_answers(docker_url):
        log.info("local_node.no_docker", hint="start dockerd or set DOCKER_HOST to run containers on this machine")
        return
    state_dir = settings.data_dir / "local-agent"
    host = "127.0.0.1" if settings.host in {"0.0.0.0", "::", ""} else settings.host  # noqa: S104 - what is bound, not a bind
    server_url = f"http://{'[' + host + ']' if ':' in host else host}:{settings.port}"
    try:
        credential = await ensure_local_node(sessions=sessions, state_dir=state_dir, server_url=server_url)
    except AgentError as exc:
        log.warning("local_node.disabled", reason=str(exc))
        return
    volume_root = state_dir / "volumes"
    await asyncio.to_thread(volume_root.mkdir, parents=True, exist_ok=True, mode=0o711)
    await asyncio.to_thread(volume_root.chmod, 0o711)  # `nubes serve` runs with umask 077; volumes keep their mode
    docker = aiodocker.Docker(url=docker_url)
    try:
        environment = DockerEnvironment(docker, DriverSettings(node_id=credential.node_id, volume_root=volume_root))
        log.info("local_node.agent_starting", node=str(credential.node_id), server=server_url)
        await Agent(credential, environment).run()
    except AgentError as exc:
        log.warning("local_node.agent_stopped", reason=str(exc))
    finally:
        await docker.close()

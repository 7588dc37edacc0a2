"""Agents across replicas: two `nubes serve` on one database and one Redis, a real `nubes agent` connected to replica A,
and everything done through replica B: the container's job, its logs, its volume files and a browser console whose
output and input travel between the replicas (compute/agents/relay.py)."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from tests.compute.eggs import ECHO_EGG
from tests.compute.test_docker import AgentProcess, Api, docker_engine, wait_for
from tests.conftest import empty_database
from tests.serving import Server, free_port, redis_server, serve

pytestmark = [pytest.mark.docker, pytest.mark.timeout(300)]
__all__ = ["docker_engine"]  # the fixture, imported for this module


@pytest.fixture(scope="module")
async def shared_database_url(engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """An empty database both replicas use."""
    async with empty_database(engine_name, tmp_path_factory.mktemp("agent-replicas-db") / "nubes.db") as url:
        yield url


@pytest.fixture(scope="module")
def replicas(
    docker_engine: None, shared_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Server]]:
    """Replicas A and B: same database, secret and Redis; their own data dirs, ports and no embedded node."""
    with contextlib.ExitStack() as stack:
        redis_url = stack.enter_context(redis_server(tmp_path_factory.mktemp("agent-replicas-redis")))
        shared = {"NUBES_REDIS_URL": redis_url, "NUBES_SECRET_KEY": "one-secret-for-both-replicas-of-this-install"}
        first = stack.enter_context(serve(shared_database_url, tmp_path_factory.mktemp("agent-replica-a"), **shared))
        second = stack.enter_context(serve(shared_database_url, tmp_path_factory.mktemp("agent-replica-b"), **shared))
        yield first, second


def _has_line(frame: dict[str, Any], text: str) -> bool:
    return frame.get("type") == "output" and any(text in line for line in frame["lines"])


def _until(ws: Any, wanted: Any) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = json.loads(ws.recv(timeout=60))
        if wanted(frame):
            return frame


def test_a_node_on_one_replica_is_driven_through_the_other(replicas: tuple[Server, Server], tmp_path: Path) -> None:
    a, b = replicas
    with httpx.Client(base_url=b.url, headers={"Authorization": f"Bearer {b.admin_token()}"}, timeout=30) as http:
        api = Api(http, b)
        suffix = uuid.uuid4().hex[:6]
        cluster = api.call("POST", "/api/clusters", 201, json={"name": f"replicas-{suffix}"})
        node = api.call(
            "POST",
            "/api/nodes",
            201,
            json={"name": f"node-{suffix}", "cluster_id": cluster["id"], "cpu": 200, "memory_mb": 2048, "disk_mb": 10_000},
        )
        port = free_port()
        api.call("POST", f"/api/nodes/{node['id']}/allocations", 201, json={"ip": "127.0.0.1", "ports": [str(port)]})
        egg_id = api.call("POST", "/api/eggs/import", 201, json=ECHO_EGG)["id"]
        agent = AgentProcess(a, tmp_path / "agent", node["registration_token"]).start()  # its socket is on A
        try:
            wait_for("the agent to connect to A", lambda: api.call("GET", f"/api/nodes/{node['id']}", 200)["status"] == "online")
            body = {
                "name": "echo",
                "egg_id": egg_id,
                "cluster_id": cluster["id"],
                "environment": {"GREETING": "across"},
                "limits": {"cpu": 50, "memory_mb": 96, "disk_mb": 100, "pids": 64},
                "start": True,
            }
            container_id = api.call("POST", "/api/containers", 202, json=body)["container"]["id"]
            wait_for(
                "the container to run",
                lambda: api.call("GET", f"/api/containers/{container_id}", 200)["state"] == "running",
            )

            # A command waiting for its answer (logs) and a file request, asked on B, answered by the agent on A.
            def started() -> list[str]:
                lines: list[str] = api.call("GET", f"/api/containers/{container_id}/logs", 200)["lines"]
                return [line for line in lines if "started across" in line]

            assert wait_for("the logs through B", started)
            listing = api.call("GET", f"/api/containers/{container_id}/files", 200)
            assert "installed.txt" in {entry["name"] for entry in listing["entries"]}

            # A browser console on B: output from the agent on A, input typed on B reaching the container.
            login = http.post(
                "/api/auth/login",
                json={"username": b.admin_username, "password": b.admin_password},
                headers={"Origin": b.url, "Authorization": ""},
            )
            assert login.status_code == 200, login.text
            cookies = "; ".join(f"{name}={value}" for name, value in login.cookies.items())
            url = b.url.replace("http://", "ws://") + f"/api/ws/containers/{container_id}"
            with connect(url, additional_headers={"Cookie": cookies, "Origin": b.url}, open_timeout=10) as ws:
                assert _until(ws, lambda frame: frame.get("type") == "state")["state"] == "running"
                _until(ws, lambda frame: _has_line(frame, "started across"))
                ws.send(json.dumps({"type": "input", "line": "hello from B"}))
                _until(ws, lambda frame: _has_line(frame, "got hello from B"))
                stats = _until(ws, lambda frame: frame.get("type") == "stats")
                assert stats["memory_limit_bytes"] == 96 * 1024 * 1024

            api.call("POST", f"/api/containers/{container_id}/power", 202, json={"action": "stop"})
            wait_for(
                "the container to stop",
                lambda: api.call("GET", f"/api/containers/{container_id}", 200)["state"] in {"stopped", "crashed"},
            )
        finally:
            agent.stop()

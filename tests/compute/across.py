"""One container driven where its agent is not: the flow both multi-replica tests run (two replicas side by side,
and the reference deployment behind nginx). Everything goes through `api_url`; the agent connects to `agent_url`."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from nubes.core.websocket import CLOSE_UNAUTHORIZED
from tests.compute.eggs import ECHO_EGG
from tests.compute.test_docker import AgentProcess, Api, wait_for
from tests.serving import Server, free_port


def _has_line(frame: dict[str, Any], text: str) -> bool:
    return frame.get("type") == "output" and any(text in line for line in frame["lines"])


def _until(ws: ClientConnection, wanted: Any, *, within: float = 60) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = json.loads(ws.recv(timeout=within))
        if wanted(frame):
            return frame


def drive_a_container(
    *,
    api_url: str,
    agent_url: str,
    sign_out_url: str,
    admin: Server,
    workdir: Path,
    replica_urls: list[str] | None = None,
    agents: int = 1,
) -> None:
    """Register `agents` nodes of one cluster whose agents connect to `agent_url`, then through `api_url`: a container
    created and started (a job), its logs (a command awaiting its answer), its volume files (a file request), a browser
    console (output out, a stdin line in, stats) closed when its session is signed out through `sign_out_url`, a stop.

    With `replica_urls`, a second admin opens a console on each replica, and deactivating them through `api_url`
    closes every one of those consoles within seconds."""
    with httpx.Client(base_url=api_url, headers={"Authorization": f"Bearer {admin.admin_token()}"}, timeout=30) as http:
        api = Api(http, dataclasses.replace(admin, url=api_url))
        suffix = uuid.uuid4().hex[:6]
        cluster = api.call("POST", "/api/clusters", 201, json={"name": f"across-{suffix}"})
        nodes = []
        for index in range(agents):
            node = api.call(
                "POST",
                "/api/nodes",
                201,
                json={
                    "name": f"node-{suffix}-{index}",
                    "cluster_id": cluster["id"],
                    "cpu": 200,
                    "memory_mb": 2048,
                    "disk_mb": 10_000,
                },
            )
            api.call("POST", f"/api/nodes/{node['id']}/allocations", 201, json={"ip": "127.0.0.1", "ports": [str(free_port())]})
            nodes.append(node)
        egg_id = api.call("POST", "/api/eggs/import", 201, json=ECHO_EGG)["id"]
        running_agents = []
        try:
            for index, node in enumerate(nodes):
                agent_server = dataclasses.replace(admin, url=agent_url)
                running_agents.append(AgentProcess(agent_server, workdir / f"agent-{index}", node["registration_token"]).start())

            def online() -> bool:
                return all(api.call("GET", f"/api/nodes/{node['id']}", 200)["status"] == "online" for node in nodes)

            wait_for("the agents to connect", online)
            body = {
                "name": "echo",
                "egg_id": egg_id,
                "cluster_id": cluster["id"],
                "environment": {"GREETING": "across"},
                "limits": {"cpu": 50, "memory_mb": 96, "disk_mb": 100, "pids": 64},
                "start": True,
            }
            container_id = api.call("POST", "/api/containers", 202, json=body)["container"]["id"]
            wait_for("running", lambda: api.call("GET", f"/api/containers/{container_id}", 200)["state"] == "running")

            def started() -> list[str]:
                lines: list[str] = api.call("GET", f"/api/containers/{container_id}/logs", 200)["lines"]
                return [line for line in lines if "started across" in line]

            assert wait_for("the logs", started)
            listing = api.call("GET", f"/api/containers/{container_id}/files", 200)
            assert "installed.txt" in {entry["name"] for entry in listing["entries"]}

            login = http.post(
                "/api/auth/login",
                json={"username": admin.admin_username, "password": admin.admin_password},
                headers={"Origin": api_url, "Authorization": ""},
            )
            assert login.status_code == 200, login.text
            cookies = "; ".join(f"{name}={value}" for name, value in login.cookies.items())
            url = api_url.replace("http://", "ws://") + f"/api/ws/containers/{container_id}"
            with connect(url, additional_headers={"Cookie": cookies, "Origin": api_url}, open_timeout=10) as ws:
                assert _until(ws, lambda frame: frame.get("type") == "state")["state"] == "running"
                _until(ws, lambda frame: _has_line(frame, "started across"))
                ws.send(json.dumps({"type": "input", "line": "hello from afar"}))
                _until(ws, lambda frame: _has_line(frame, "got hello from afar"))
                stats = _until(ws, lambda frame: frame.get("type") == "stats")
                assert stats["memory_limit_bytes"] == 96 * 1024 * 1024
                # Signed out on another replica: this console, open on its own, is closed within seconds.
                signed_out = httpx.post(
                    f"{sign_out_url}/api/auth/logout",
                    json={"refresh_token": login.json()["refresh_token"]},
                    headers={"Origin": sign_out_url},
                )
                assert signed_out.status_code == 204, signed_out.text
                with pytest.raises(ConnectionClosed) as closed:
                    _until(ws, lambda frame: False)
                assert closed.value.rcvd is not None
                assert closed.value.rcvd.code == CLOSE_UNAUTHORIZED

            if replica_urls:
                _deactivation_closes_every_console(http, api_url, replica_urls, container_id)
            api.call("POST", f"/api/containers/{container_id}/power", 202, json={"action": "stop"})
            wait_for(
                "stopped",
                lambda: api.call("GET", f"/api/containers/{container_id}", 200)["state"] in {"stopped", "crashed"},
            )
        finally:
            for agent in running_agents:
                agent.stop()


def _deactivation_closes_every_console(http: httpx.Client, api_url: str, replica_urls: list[str], container_id: str) -> None:
    """A second admin's consoles, one on each replica, all closed within seconds of their deactivation."""
    username = f"console-{uuid.uuid4().hex[:8]}"
    password = "Granite-Meadow-Lantern-77"
    made = http.post("/api/admin/users", json={"username": username, "password": password, "roles": ["admin"]})
    assert made.status_code == 201, made.text
    sockets = []
    with contextlib.ExitStack() as stack:
        for replica_url in replica_urls:
            login = httpx.post(
                f"{replica_url}/api/auth/login", json={"username": username, "password": password}, headers={"Origin": api_url}
            )
            assert login.status_code == 200, login.text
            cookies = "; ".join(f"{name}={value}" for name, value in login.cookies.items())
            url = replica_url.replace("http://", "ws://") + f"/api/ws/containers/{container_id}"
            ws = stack.enter_context(connect(url, additional_headers={"Cookie": cookies, "Origin": api_url}, open_timeout=10))
            assert _until(ws, lambda frame: frame.get("type") == "state")["state"] == "running"
            sockets.append(ws)
        deactivated = http.patch(f"/api/admin/users/{made.json()['id']}", json={"is_active": False})
        assert deactivated.status_code == 200, deactivated.text
        for ws in sockets:  # "within seconds": a console still open after 15 s fails with a TimeoutError
            with pytest.raises(ConnectionClosed) as closed:
                _until(ws, lambda frame: False, within=15)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == CLOSE_UNAUTHORIZED

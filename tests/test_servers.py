"""`nubes serve` under each ASGI server it offers (`--server` / NUBES_SERVER): the same answers, logs and shutdown.

uvicorn, the default, serves every other test that starts a real server; here Granian serves the same checks:
security headers and request ids, a bearer request, a WebSocket handshake logged with its query redacted,
JSON log lines only, and a graceful stop that runs the lifespan's shutdown (the last token-use flush included).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import empty_database
from tests.serving import serve, websocket_handshake

SECRET = "do-not-log-this-ticket"


@pytest.fixture
async def served_database_url(engine_name: str, tmp_path: Path) -> AsyncIterator[str]:
    async with empty_database(engine_name, tmp_path / "nubes.db") as url:
        yield url


@pytest.mark.parametrize("server_name", ["granian"])
def test_serve_under_another_server_behaves_the_same(served_database_url: str, tmp_path: Path, server_name: str) -> None:
    """GIVEN `nubes serve` with NUBES_SERVER=granian WHEN it serves requests and a socket, then is stopped
    THEN the answers carry the security headers, the log is JSON lines with no secret, and the shutdown ran."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    container = uuid.uuid4()
    with serve(served_database_url, data_dir, NUBES_SERVER=server_name) as server:
        health = httpx.get(f"{server.url}/api/health", params={"token": SECRET})
        assert health.json() == {"status": "ok"}
        assert health.headers["x-content-type-options"] == "nosniff"
        assert len(health.headers["x-request-id"]) == 32
        me = httpx.get(f"{server.url}/api/users/me", headers={"Authorization": f"Bearer {server.admin_token()}"})
        assert me.status_code == 200, me.text
        missing = httpx.get(f"{server.url}/api/no-such-thing")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        assert websocket_handshake(server, f"/api/ws/containers/{container}?ticket={SECRET}").startswith(b"HTTP/1.1 ")
    lines = [json.loads(line) for line in server.log.read_text().splitlines() if line.startswith("{")]
    log = server.log.read_text()
    assert SECRET not in log
    assert f"/api/ws/containers/{container}?ticket=[redacted]" in log
    events = [line["event"] for line in lines]
    assert "request" in events
    assert "server.stopped" in events

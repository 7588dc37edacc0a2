"""Liveness, readiness and version, on each engine, and readiness when the database is down."""

from __future__ import annotations

import socket
from datetime import datetime
from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager

from nubes import API_VERSION, __version__
from nubes.config import Settings
from nubes.core.leases import REPLICA
from nubes.main import create_app
from tests.conftest import make_settings
from tests.serving import redis_server


async def test_health_is_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_when_the_database_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["database"]["latency_ms"] >= 0
    assert response.headers["cache-control"] == "no-store"


async def test_version_names_the_engine_in_use(client: httpx.AsyncClient, engine_name: str) -> None:
    response = await client.get("/api/version")
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == __version__
    assert body["api_version"] == API_VERSION
    assert body["database"] == engine_name
    assert datetime.fromisoformat(body["started_at"]).tzinfo is not None


async def _ready_status(settings: Settings) -> httpx.Response:
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            health = await http.get("/api/health")
            assert health.status_code == 200  # alive even when the database is not
            return await http.get("/api/ready")


async def test_ready_is_503_when_postgresql_is_down(tmp_path: Path, unused_tcp_port: int) -> None:
    """GIVEN a PostgreSQL URL where nothing listens WHEN readiness is asked THEN 503 naming the database."""
    settings = make_settings(tmp_path, database_url=f"postgresql+asyncpg://nubes:pw@127.0.0.1:{unused_tcp_port}/nubes")
    response = await _ready_status(settings)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["database"]["detail"].startswith("postgresql is unreachable")
    assert "pw" not in response.text


async def test_ready_is_503_when_sqlite_cannot_open(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path}/missing-dir/nubes.db")
    response = await _ready_status(settings)
    assert response.status_code == 503
    assert response.json()["checks"]["database"]["detail"].startswith("sqlite is unreachable")


async def test_version_names_the_replica_that_answered(client: httpx.AsyncClient) -> None:
    """A per-process name, not the host's: behind a load balancer it tells replicas apart without showing host names."""
    replica = (await client.get("/api/version")).json()["replica"]
    assert replica == REPLICA
    assert len(replica) == 12
    assert socket.gethostname()[:8] not in replica


async def test_ready_checks_redis_when_the_install_shares_one(tmp_path: Path, unused_tcp_port: int) -> None:
    """GIVEN NUBES_REDIS_URL THEN readiness round-trips Redis too; with Redis away, 503 naming it (requests still served)."""
    (tmp_path / "redis").mkdir()
    with redis_server(tmp_path / "redis") as redis_url:
        answer = await _ready_status(make_settings(tmp_path / "up", redis_url=redis_url))
    assert answer.status_code == 200, answer.text
    assert answer.json()["checks"]["redis"]["ok"] is True
    assert answer.json()["checks"]["redis"]["latency_ms"] >= 0

    away = await _ready_status(make_settings(tmp_path / "away", redis_url=f"redis://127.0.0.1:{unused_tcp_port}/0"))
    assert away.status_code == 503
    body = away.json()
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["redis"]["ok"] is False
    assert body["checks"]["redis"]["detail"].startswith("Redis is unreachable")


async def test_ready_has_no_redis_check_without_redis(client: httpx.AsyncClient) -> None:
    assert set((await client.get("/api/ready")).json()["checks"]) == {"database"}

"""The metrics API: who sees which series, bounded inputs; the requests middleware's route templates; /metrics."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import ASGIApp

from nubes.config import Settings
from nubes.core.db import Database
from nubes.main import create_app
from nubes.ops.metrics.recorder import Recorder
from tests.factories import SignedIn, login, make_tenant, make_user


async def _signed_in(client: httpx.AsyncClient, session: AsyncSession, settings: Settings, **kwargs: object) -> SignedIn:
    tenant = await make_tenant(session)
    user = await make_user(session, settings, tenant, **kwargs)  # type: ignore[arg-type]
    await session.commit()
    return await login(client, user)


def _recorder(app: FastAPI) -> Recorder:
    recorder: Recorder = app.state.metrics
    return recorder


async def test_tenant_admin_sees_only_their_tenants_series(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """GIVEN storage series of two tenants and a host series WHEN a tenant admin and a super-admin query THEN the admin
    gets their tenant's series only and no host metric; the super-admin gets everything."""
    admin = await _signed_in(client, session, settings, roles=("admin",))
    root = await _signed_in(client, session, settings, roles=("owner",), superadmin=True)
    other = uuid.uuid4()
    recorder = _recorder(app)
    recorder.record("storage_used_bytes", 100.0, {"tenant": str(admin.user.tenant_id)})
    recorder.record("storage_used_bytes", 200.0, {"tenant": str(other)})
    recorder.record("host_cpu_percent", 12.0, {"host": "h1", "source": "replica"})
    await recorder.flush(sessions, at=int(time.time()) - 30)

    catalog = (await client.get("/api/ops/metrics/catalog", headers=admin.headers)).json()
    assert {metric["scope"] for metric in catalog} == {"tenant", "container"}
    mine = await client.get("/api/ops/metrics/query", params={"name": "storage_used_bytes"}, headers=admin.headers)
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert body["unit"] == "bytes"
    assert [s["labels"] for s in body["series"]] == [{"tenant": str(admin.user.tenant_id)}]
    assert body["series"][0]["points"][0][1] == 100.0
    latest = (await client.get("/api/ops/metrics/latest", params={"name": "storage_used_bytes"}, headers=admin.headers)).json()
    assert [value["value"] for value in latest["values"]] == [100.0]
    host = await client.get("/api/ops/metrics/query", params={"name": "host_cpu_percent"}, headers=admin.headers)
    assert host.status_code == 404
    assert host.headers["content-type"].startswith("application/problem+json")

    every = (await client.get("/api/ops/metrics/query", params={"name": "storage_used_bytes"}, headers=root.headers)).json()
    assert len(every["series"]) == 2
    cpu = await client.get(
        "/api/ops/metrics/latest", params={"name": "host_cpu_percent", "label": "host:h1"}, headers=root.headers
    )
    assert cpu.json()["values"][0]["value"] == 12.0
    for range_, step in (("24h", 300), ("7d", 3600), ("30d", 10_800)):
        answer = (
            await client.get("/api/ops/metrics/query", params={"name": "host_cpu_percent", "range": range_}, headers=root.headers)
        ).json()
        assert answer["step_seconds"] == step


async def test_members_and_unknown_metrics_are_refused(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    member = await _signed_in(client, session, settings)
    assert (await client.get("/api/ops/metrics/catalog", headers=member.headers)).status_code == 403
    assert (await client.get("/api/ops/metrics/query", params={"name": "jobs_queued"}, headers=member.headers)).status_code == 403
    root = await _signed_in(client, session, settings, superadmin=True)
    unknown = await client.get("/api/ops/metrics/query", params={"name": "no_such_metric"}, headers=root.headers)
    assert unknown.status_code == 404
    assert "catalog" in unknown.json()["detail"]


@pytest.mark.parametrize(
    "params",
    [
        {"name": "jobs_queued", "label": [f"k{index}:v" for index in range(9)]},
        {"name": "jobs_queued", "label": "queue:" + "x" * 201},
        {"name": "jobs_queued", "label": "no-colon"},
        {"name": "jobs_queued", "label": "Bad Key:v"},
        {"name": "jobs_queued", "label": "queue:a\x00b"},
        {"name": "jobs_queued", "range": "1y"},
        {"name": "x" * 101},
        {"name": "'; drop table metric_series; --"},
    ],
)
async def test_hostile_inputs_are_422(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, params: dict[str, object]
) -> None:
    root = await _signed_in(client, session, settings, superadmin=True)
    response = await client.get("/api/ops/metrics/query", params=params, headers=root.headers)  # type: ignore[arg-type]
    assert response.status_code == 422, response.text


async def test_requests_are_counted_by_route_template(app: FastAPI, client: httpx.AsyncClient) -> None:
    """GIVEN two requests to two different files' URLs WHEN the recorder is read THEN one series, for the template."""
    recorder = _recorder(app)
    recorder.take()
    for _ in range(2):
        await client.get(f"/api/files/{uuid.uuid4()}")
    samples = [s for s in recorder.take() if s.name == "http_requests"]
    assert [(dict(s.labels), s.value) for s in samples] == [
        ({"method": "GET", "route": "/api/files/{file_id}", "status": "4xx"}, 2.0)
    ]
    assert all(str(uuid.UUID(int=0))[:4] not in str(s.labels) for s in samples)


async def _scrape(app: ASGIApp, *, client_ip: str = "127.0.0.1", token: str | None = None) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, client=(client_ip, 40000))
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        return await http.get("/metrics", headers=headers)


async def test_metrics_parse_and_stay_bounded(app: FastAPI, client: httpx.AsyncClient) -> None:
    """GIVEN requests for many files WHEN /metrics is scraped twice THEN it parses, and more files add no series."""
    _recorder(app).record("jobs_queued", 3.0, {"queue": "mail"})
    for _ in range(3):
        await client.get(f"/api/files/{uuid.uuid4()}")
    await _scrape(app)  # so that /metrics itself is counted from the first scrape on
    first = await _scrape(app)
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("text/plain")
    families = {family.name: family for family in text_string_to_metric_families(first.text)}
    assert families["jobs_queued"].samples[0].value == 3.0
    requests = families["http_requests"]
    assert {sample.labels["route"] for sample in requests.samples} >= {"/api/files/{file_id}"}
    for _ in range(20):
        await client.get(f"/api/files/{uuid.uuid4()}")
    second = await _scrape(app)
    again = {family.name: family for family in text_string_to_metric_families(second.text)}
    assert len(again["http_requests"].samples) == len(requests.samples)
    counted = [s.value for s in again["http_requests"].samples if s.labels["route"] == "/api/files/{file_id}"]
    assert counted == [23.0]


async def test_metrics_refuse_other_networks_without_the_token(settings: Settings, database: Database) -> None:
    """GIVEN /metrics from 203.0.113.7 WHEN no token is configured THEN 403; with one, 401 without it, 200 with it."""
    plain = create_app(settings, database=database)
    async with LifespanManager(plain) as manager:
        assert (await _scrape(manager.app, client_ip="203.0.113.7")).status_code == 403
        assert (await _scrape(manager.app)).status_code == 200
    guarded = create_app(settings.model_copy(update={"metrics_token": "s3cret-token"}), database=database)
    async with LifespanManager(guarded) as manager:
        refused = await _scrape(manager.app, client_ip="203.0.113.7")
        assert refused.status_code == 401
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert (await _scrape(manager.app, client_ip="203.0.113.7", token="wrong")).status_code == 401
        assert (await _scrape(manager.app, client_ip="203.0.113.7", token="s3cret-token")).status_code == 200

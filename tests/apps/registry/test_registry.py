"""The service registry with the real test service (a process of its own), on both engines: registration and its
refusals, the manifest schema, health checks going down and up with their history and event, a bad manifest keeping
the last good one, and each tenant's `<slug>-admin` group, made once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nubes.apps.registry import service as registry
from nubes.apps.registry.health import Answer, Fetcher
from nubes.apps.registry.models import AppService, AppServiceCheck
from nubes.apps.registry.schemas import AppServiceRegister
from nubes.config import Settings
from nubes.core.audit import AuditEvent, Origin
from nubes.core.events import Bus
from nubes.identity.groups.models import Group
from tests.apps.conftest import RunningService
from tests.apps.service_app import default_manifest
from tests.factories import SignedIn, login, make_tenant, make_user

REGISTER = "/api/apps/admin/services"


@pytest.fixture
async def superadmin(client: httpx.AsyncClient, session: AsyncSession, settings: Settings) -> SignedIn:
    tenant = await make_tenant(session)
    return await login(client, await make_user(session, settings, tenant, roles=("owner",), superadmin=True))


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    fetcher = Fetcher()
    yield fetcher
    await fetcher.stop()


async def _register(client: httpx.AsyncClient, who: SignedIn, url: str, status: int = 201) -> dict[str, Any]:
    response = await client.post(REGISTER, json={"base_url": url}, headers=who.headers)
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_the_manifest_schema_is_published_to_anyone(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/apps/manifest-schema")
    assert response.status_code == 200
    schema = response.json()
    assert schema["$id"] == "urn:nubes:apps:manifest:v1"
    assert {"manifest_version", "id", "name"} <= set(schema["required"])
    assert schema["properties"]["id"]["pattern"] == "^[a-z][a-z0-9-]{1,39}$"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://127.0.0.1/x", "must start with http"),
        ("http://user:pw@127.0.0.1:8080", "user name or password"),
        ("http://169.254.169.254", "link-local"),
        ("http://127.0.0.1:8080/?x=1", "no query"),
        ("http://127.0.0.1:1", "cannot be reached"),
    ],
)
async def test_a_bad_url_is_refused_with_its_reason(
    client: httpx.AsyncClient, superadmin: SignedIn, session: AsyncSession, url: str, reason: str
) -> None:
    problem = await _register(client, superadmin, url, 422)
    assert problem["type"] == "urn:nubes:problem:service-refused"
    assert reason in problem["detail"]
    assert await session.scalar(select(func.count()).select_from(AppService)) == 0


async def test_no_manifest_or_an_invalid_one_is_refused(
    client: httpx.AsyncClient, superadmin: SignedIn, test_service: RunningService
) -> None:
    test_service.set_manifest_status(404)
    assert "answered 404" in (await _register(client, superadmin, test_service.url, 422))["detail"]
    test_service.set_manifest({**default_manifest(), "id": "Not A Slug", "settings": [{"key": "x", "type": "select"}]})
    detail = (await _register(client, superadmin, test_service.url, 422))["detail"]
    assert detail.startswith("The manifest is not valid: id: String should match pattern")
    test_service.set_manifest({**default_manifest(), "required_permissions": ["nothing.such"]})
    assert "unknown permissions: nothing.such" in (await _register(client, superadmin, test_service.url, 422))["detail"]
    test_service.set_manifest({**default_manifest(), "id": "documents"})
    assert "taken by Nubes itself" in (await _register(client, superadmin, test_service.url, 422))["detail"]


async def test_registering_gives_every_tenant_one_admin_group(
    client: httpx.AsyncClient, superadmin: SignedIn, session: AsyncSession, settings: Settings, test_service: RunningService
) -> None:
    """GIVEN two tenants WHEN the service is registered, twice, and a tenant is made after THEN each tenant has one
    `echo-admin` group, and the registration is audited."""
    other = await make_tenant(session)
    created = await _register(client, superadmin, test_service.url + "/")
    assert (created["slug"], created["name"], created["status"]) == ("echo", "Echo", "unknown")
    assert created["base_url"] == test_service.url
    assert created["icon"] == "/apps/echo/icon.svg"
    assert created["manifest"]["settings"][0]["key"] == "greeting"
    conflict = await _register(client, superadmin, test_service.url, 409)
    assert "registered already" in conflict["detail"]
    later = await make_tenant(session)
    await registry.ensure_admin_groups(session=session, slug="echo")  # a second pass adds nothing
    counts = dict(
        (
            await session.execute(
                select(Group.tenant_id, func.count()).where(Group.name == "echo-admin").group_by(Group.tenant_id)
            )
        ).all()
    )
    assert counts[superadmin.user.tenant_id] == counts[other.id] == counts[later.id] == 1
    assert set(counts.values()) == {1}
    audit = await session.scalar(select(AuditEvent).where(AuditEvent.action == "app.service.register"))
    assert audit is not None
    assert audit.detail["slug"] == "echo"


async def test_only_platform_administrators_register(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, test_service: RunningService
) -> None:
    tenant = await make_tenant(session)
    owner = await login(client, await make_user(session, settings, tenant, roles=("owner",)))
    problem = await _register(client, owner, test_service.url, 403)
    assert "platform administrators" in problem["detail"]


async def test_health_goes_down_and_up_with_history_and_events(
    sessions: async_sessionmaker[AsyncSession], session: AsyncSession, fetcher: Fetcher, test_service: RunningService
) -> None:
    """GIVEN a registered service WHEN the health chore runs while it is up, down, then up THEN its status, last error
    and history follow, and each change is announced on the event bus."""
    service = await registry.register(
        session=session,
        principal=None,
        fetcher=fetcher,
        service_in=AppServiceRegister(base_url=test_service.url),
        origin=Origin(),
    )
    await session.commit()
    bus = Bus()
    heard: list[dict[str, Any]] = []
    bus.subscribe(registry.STATUS_CHANNEL, lambda message: heard.append(orjson.loads(message)))

    assert await registry.poll(sessions=sessions, fetcher=fetcher, events=bus) == 1
    await session.refresh(service)
    assert (service.status, service.last_error) == ("up", "")
    test_service.set_health(up=False)
    assert await registry.poll(sessions=sessions, fetcher=fetcher, events=bus) == 1
    await session.refresh(service)
    assert service.status == "down"
    assert service.last_error == "/health answered 503."
    down_since = service.status_since
    assert await registry.poll(sessions=sessions, fetcher=fetcher, events=bus) == 0  # still down: nothing announced
    test_service.set_health(up=True)
    assert await registry.poll(sessions=sessions, fetcher=fetcher, events=bus) == 1
    await session.refresh(service)
    assert (service.status, service.last_error) == ("up", "")
    assert service.status_since is not None
    assert down_since is not None
    assert service.status_since > down_since

    assert [(event["slug"], event["status"]) for event in heard] == [("echo", "up"), ("echo", "down"), ("echo", "up")]
    checks, total = await registry.list_checks(session=session, service=service, limit=10, offset=0)
    assert total == 4
    assert [(check.ok, check.status_code) for check in checks] == [(True, 200), (False, 503), (False, 503), (True, 200)]
    assert all(check.latency_ms is not None for check in checks)


async def test_a_bad_manifest_keeps_the_last_good_one(
    sessions: async_sessionmaker[AsyncSession], session: AsyncSession, fetcher: Fetcher, test_service: RunningService
) -> None:
    service = await registry.register(
        session=session,
        principal=None,
        fetcher=fetcher,
        service_in=AppServiceRegister(base_url=test_service.url),
        origin=Origin(),
    )
    await session.commit()
    await registry.poll(sessions=sessions, fetcher=fetcher, events=Bus())  # up
    test_service.set_manifest({**default_manifest(), "name": "Echo 2", "version": "2.0.0"})
    bus = Bus()
    heard: list[str] = []
    bus.subscribe(registry.STATUS_CHANNEL, heard.append)
    assert await registry.poll(sessions=sessions, fetcher=fetcher, events=bus) == 1  # the gateway rereads its routes
    await session.refresh(service)
    assert (service.name, service.manifest["version"]) == ("Echo 2", "2.0.0")
    assert len(heard) == 1

    test_service.set_manifest({**default_manifest(), "name": "", "routes": "everything"})
    assert await registry.poll(sessions=sessions, fetcher=fetcher, events=bus) == 0
    await session.refresh(service)
    assert (service.name, service.status) == ("Echo 2", "up")
    assert service.last_error.startswith("The manifest is not valid: name: String should have at least 1 character")
    test_service.set_manifest({**default_manifest(), "id": "other"})
    await registry.poll(sessions=sessions, fetcher=fetcher, events=Bus())
    await session.refresh(service)
    assert service.slug == "echo"
    assert "id changed from 'echo' to 'other'" in service.last_error
    latest = await session.scalar(select(AppServiceCheck).order_by(AppServiceCheck.checked_at.desc()).limit(1))
    assert latest is not None
    assert latest.ok
    assert "id changed" in latest.error


async def test_admins_refresh_disable_and_delete(
    client: httpx.AsyncClient, superadmin: SignedIn, session: AsyncSession, test_service: RunningService
) -> None:
    created = await _register(client, superadmin, test_service.url)
    url = f"{REGISTER}/{created['id']}"
    refreshed = await client.post(f"{url}/refresh", headers=superadmin.headers)
    assert refreshed.json()["status"] == "up"
    checks = await client.get(f"{url}/checks", params={"hours": 24}, headers=superadmin.headers)
    assert checks.json()["total"] == 1
    assert (await client.patch(url, json={"enabled": False}, headers=superadmin.headers)).json()["enabled"] is False
    listed = await client.get("/api/apps/services", headers=superadmin.headers)
    assert listed.json() == []
    assert (await client.delete(url, headers=superadmin.headers)).status_code == 204
    assert (await client.get(url, headers=superadmin.headers)).status_code == 404
    assert await session.scalar(select(func.count()).select_from(AppServiceCheck)) == 0


class WatchingFetcher(Fetcher):
    """The real fetcher, noting whether the caller's session was in a transaction while each request went out."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__()
        self.session = session
        self.in_transaction: list[bool] = []

    async def get(self, url: str) -> Answer:
        self.in_transaction.append(self.session.in_transaction())
        return await super().get(url)


async def test_no_transaction_is_open_while_a_service_is_fetched(session: AsyncSession, test_service: RunningService) -> None:
    """GIVEN a session that has read (SQLite: an IMMEDIATE transaction holding the install's writer) WHEN a service is
    registered and refreshed THEN its transaction ended before the requests went out (a slow service holds no lock)."""
    fetcher = WatchingFetcher(session)
    try:
        await session.scalar(select(func.count()).select_from(AppService))
        assert session.in_transaction()
        made = await registry.register(
            session=session, principal=None, fetcher=fetcher, service_in=AppServiceRegister(base_url=test_service.url),
            origin=Origin(user_agent="test"),
        )  # fmt: skip
        await session.flush()
        refreshed = await registry.refresh(session=session, fetcher=fetcher, service=made)
    finally:
        await fetcher.stop()
    assert refreshed.status == "up"
    assert len(fetcher.in_transaction) == 3  # the manifest at registration, then health and manifest
    assert fetcher.in_transaction == [False, False, False]

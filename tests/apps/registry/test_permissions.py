"""Who may use an app and who manages it, on both engines: open to everyone until something is granted, grants to a
group (its members see and reach the app, others get 403), required groups and permissions, super-admins only when
the manifest allows them, grants kept within a tenant, and the `<slug>-admin` group's settings (checked against the
manifest, secrets sealed and never returned)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.apps.registry import service as registry
from nubes.apps.registry.health import Fetcher
from nubes.apps.registry.models import AppService, AppServiceSettings
from nubes.apps.registry.schemas import AppServiceRegister
from nubes.config import Settings
from nubes.core.audit import AuditEvent, Origin
from nubes.core.crypto import unseal
from nubes.core.errors import Forbidden, NotFound
from nubes.core.principal import Principal
from nubes.identity.groups.models import Group, GroupMember
from nubes.identity.tenants.models import Tenant
from tests.apps.conftest import RunningService
from tests.apps.service_app import default_manifest
from tests.factories import SignedIn, login, make_tenant, make_user


@dataclass
class Org:
    """A tenant with an admin, two members (one in the group `readers`) and the registered test service."""

    tenant: Tenant
    admin: SignedIn
    reader: SignedIn
    other: SignedIn
    readers_id: uuid.UUID
    service: AppService


async def _add_member(session: AsyncSession, tenant: Tenant, name: str, user_id: uuid.UUID) -> uuid.UUID:
    group = await session.scalar(select(Group).where(Group.tenant_id == tenant.id, Group.name == name))
    if group is None:
        group = Group(tenant_id=tenant.id, name=name)
        session.add(group)
        await session.flush()
    session.add(GroupMember(group_id=group.id, user_id=user_id))
    await session.flush()
    return group.id


async def _register(session: AsyncSession, url: str) -> AppService:
    fetcher = Fetcher()
    try:
        return await registry.register(
            session=session, principal=None, fetcher=fetcher, service_in=AppServiceRegister(base_url=url), origin=Origin()
        )
    finally:
        await fetcher.stop()


@pytest.fixture
async def org(client: httpx.AsyncClient, session: AsyncSession, settings: Settings, test_service: RunningService) -> Org:
    service = await _register(session, test_service.url)
    tenant = await make_tenant(session)
    admin = await make_user(session, settings, tenant, roles=("admin",))
    reader = await make_user(session, settings, tenant)
    other = await make_user(session, settings, tenant)
    readers_id = await _add_member(session, tenant, "readers", reader.id)
    return Org(tenant, await login(client, admin), await login(client, reader), await login(client, other), readers_id, service)


def _principal(who: SignedIn, *, groups: frozenset[uuid.UUID] = frozenset(), superadmin: bool = False) -> Principal:
    return Principal(
        user_id=who.user.id, tenant_id=who.user.tenant_id, username=who.user.username, permissions=frozenset({"apps.use"}),
        group_ids=groups, is_superadmin=superadmin,
    )  # fmt: skip


async def _apps(client: httpx.AsyncClient, who: SignedIn) -> list[str]:
    response = await client.get("/api/apps/services", headers=who.headers)
    assert response.status_code == 200, response.text
    return [app["slug"] for app in response.json()]


async def test_a_service_is_open_to_everyone_until_it_is_granted(
    client: httpx.AsyncClient, org: Org, session: AsyncSession
) -> None:
    assert await _apps(client, org.reader) == await _apps(client, org.other) == ["echo"]
    listed = (await client.get("/api/apps/services", headers=org.reader.headers)).json()[0]
    assert listed["open_url"] == "/apps/echo/"
    assert listed["can_manage_settings"] is False
    url = f"/api/apps/services/{org.service.id}/permissions"
    permissions = await client.get(url, headers=org.admin.headers)
    assert permissions.json() == {"open_to_everyone": True, "required_groups": [], "items": []}

    granted = await client.post(url, json={"group_id": str(org.readers_id)}, headers=org.admin.headers)
    assert granted.status_code == 200, granted.text
    assert granted.json()["open_to_everyone"] is False
    [item] = granted.json()["items"]
    assert (item["kind"], item["name"], item["granted_by"]) == ("group", "readers", org.admin.user.username)
    again = await client.post(url, json={"group_id": str(org.readers_id)}, headers=org.admin.headers)
    assert len(again.json()["items"]) == 1  # granting twice changes nothing

    assert await _apps(client, org.reader) == ["echo"]
    assert await _apps(client, org.other) == []
    target = await registry.resolve_for_gateway(
        session=session, principal=_principal(org.reader, groups=frozenset({org.readers_id})), slug="echo"
    )
    assert (target.slug, target.base_url, target.status) == ("echo", org.service.base_url, "unknown")
    assert [(route.path, "DELETE" in route.methods) for route in target.routes] == [("/", True)]
    with pytest.raises(Forbidden, match="ask an admin to let you use Echo"):
        await registry.resolve_for_gateway(session=session, principal=_principal(org.other), slug="echo")

    revoked = await client.delete(f"{url}/{item['id']}", headers=org.admin.headers)
    assert revoked.status_code == 204
    assert await _apps(client, org.other) == ["echo"]
    actions = list(await session.scalars(select(AuditEvent.action).where(AuditEvent.target_id == str(org.service.id))))
    assert actions.count("app.permission.grant") == 1
    assert actions.count("app.permission.revoke") == 1


async def test_grants_stay_within_a_tenant(
    client: httpx.AsyncClient, org: Org, session: AsyncSession, settings: Settings
) -> None:
    tenant_b = await make_tenant(session)
    owner_b = await login(client, await make_user(session, settings, tenant_b, roles=("owner",)))
    stranger = await make_user(session, settings, tenant_b)
    url = f"/api/apps/services/{org.service.id}/permissions"
    refused = await client.post(url, json={"user_id": str(stranger.id)}, headers=org.admin.headers)
    assert refused.status_code == 404
    assert "in your organization" in refused.json()["detail"]
    granted = await client.post(url, json={"user_id": str(org.reader.user.id)}, headers=org.admin.headers)
    [item] = granted.json()["items"]
    # Tenant B neither sees tenant A's grant nor takes it back; its own list is empty and the app open to all of it.
    assert (await client.get(url, headers=owner_b.headers)).json()["items"] == []
    assert (await client.delete(f"{url}/{item['id']}", headers=owner_b.headers)).status_code == 404
    assert await _apps(client, owner_b) == ["echo"]
    assert await _apps(client, org.other) == []
    member = await client.post(url, json={"user_id": str(org.reader.user.id)}, headers=org.reader.headers)
    assert member.status_code == 403  # granting takes apps.manage


async def test_required_groups_permissions_and_super_admins(
    org: Org, session: AsyncSession, settings: Settings, test_service: RunningService
) -> None:
    org.service.manifest = {**default_manifest(), "required_groups": ["readers"]}
    org.service.manifest_fetched_at = org.service.manifest_fetched_at.replace(microsecond=1)  # a new parse
    await session.flush()
    reader = _principal(org.reader, groups=frozenset({org.readers_id}))
    assert (await registry.resolve_for_gateway(session=session, principal=reader, slug="echo")).slug == "echo"
    with pytest.raises(Forbidden):
        await registry.resolve_for_gateway(session=session, principal=_principal(org.other), slug="echo")
    root = _principal(org.other, superadmin=True)
    with pytest.raises(Forbidden):  # allow_superuser is off
        await registry.resolve_for_gateway(session=session, principal=root, slug="echo")
    org.service.manifest = {**default_manifest(), "required_groups": ["readers"], "allow_superuser": True}
    org.service.manifest_fetched_at = org.service.manifest_fetched_at.replace(microsecond=2)
    assert (await registry.resolve_for_gateway(session=session, principal=root, slug="echo")).slug == "echo"

    org.service.manifest = {**default_manifest(), "required_permissions": ["files.write"]}
    org.service.manifest_fetched_at = org.service.manifest_fetched_at.replace(microsecond=3)
    with pytest.raises(Forbidden):  # holds apps.use only
        await registry.resolve_for_gateway(session=session, principal=reader, slug="echo")
    no_apps = Principal(user_id=org.reader.user.id, tenant_id=org.tenant.id, username="x", permissions=frozenset())
    with pytest.raises(Forbidden):
        await registry.resolve_for_gateway(session=session, principal=no_apps, slug="echo")
    with pytest.raises(NotFound):
        await registry.resolve_for_gateway(session=session, principal=reader, slug="nothing")
    org.service.enabled = False
    with pytest.raises(NotFound):
        await registry.resolve_for_gateway(session=session, principal=reader, slug="echo")


async def test_the_admin_group_manages_settings_and_secrets_stay_hidden(
    client: httpx.AsyncClient, org: Org, session: AsyncSession, settings: Settings
) -> None:
    url = f"/api/apps/services/{org.service.id}/settings"
    denied = await client.get(url, headers=org.reader.headers)
    assert denied.status_code == 403
    assert "echo-admin" in denied.json()["detail"]
    await _add_member(session, org.tenant, "echo-admin", org.reader.user.id)
    reader = await login(client, org.reader.user)
    assert (await client.get("/api/apps/services", headers=reader.headers)).json()[0]["can_manage_settings"] is True

    current = await client.get(url, headers=reader.headers)
    assert current.status_code == 200, current.text
    body = current.json()
    assert body["values"] == {"greeting": "Hello", "retries": 3, "verbose": False, "mode": "safe"}
    assert body["secrets_set"] == {"api_key": False}

    bad = await client.put(
        url, json={"values": {"retries": 99, "mode": "slow", "nope": 1, "verbose": "yes"}}, headers=reader.headers
    )
    assert bad.status_code == 422
    errors = {tuple(error["loc"]): error["msg"] for error in bad.json()["errors"]}
    assert errors == {
        ("body", "values", "retries"): "Retries must be at most 10",
        ("body", "values", "mode"): "Mode must be one of fast, safe",
        ("body", "values", "nope"): "Echo has no setting 'nope'",
        ("body", "values", "verbose"): "Verbose logs is yes or no (true or false)",
        ("body", "values", "api_key"): "API key is required",
    }

    saved = await client.put(url, json={"values": {"api_key": "s3cret-key", "retries": 5}}, headers=reader.headers)
    assert saved.status_code == 200, saved.text
    assert saved.json()["secrets_set"] == {"api_key": True}
    assert "s3cret-key" not in saved.text
    assert "s3cret-key" not in (await client.get(url, headers=org.admin.headers)).text  # apps.manage reads too
    row = await session.scalar(select(AppServiceSettings).where(AppServiceSettings.tenant_id == org.tenant.id))
    assert row is not None
    assert row.values["retries"] == 5
    sealed = row.values["api_key"]
    assert sealed != "s3cret-key"
    assert unseal(settings.secret_key, f"apps-settings:{org.service.id}:api_key", sealed) == "s3cret-key"
    kept = await client.put(url, json={"values": {"greeting": "Hi"}}, headers=reader.headers)
    assert kept.json()["secrets_set"] == {"api_key": True}  # a secret left out is kept
    assert (await client.put(url, json={"values": {"api_key": None}}, headers=reader.headers)).status_code == 422

    other_tenant = await make_tenant(session)
    their_admin = await login(client, await make_user(session, settings, other_tenant, roles=("admin",)))
    theirs: dict[str, Any] = (await client.get(url, headers=their_admin.headers)).json()
    assert theirs["secrets_set"] == {"api_key": False}
    assert theirs["values"]["greeting"] == "Hello"

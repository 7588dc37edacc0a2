"""The feature flags and settings API on both engines: who may set what (a tenant admin their tenant's values only,
platform administrators the install's), audit rows, unknown keys, hostile input, and the settings overview."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core.audit import AuditEvent
from nubes.identity.tenants.models import Tenant
from tests.factories import SignedIn, login, make_tenant, make_user

TENANT_FLAG = "search.ocr_files"
INSTALL_FLAG = "files.dav_infinity"


class People:
    """Tenant A's admin and member, tenant B's admin, and a platform administrator (of tenant A)."""

    def __init__(self, tenant_a: Tenant, admin_a: SignedIn, member_a: SignedIn, admin_b: SignedIn, root: SignedIn) -> None:
        self.tenant_a, self.admin_a, self.member_a, self.admin_b, self.root = tenant_a, admin_a, member_a, admin_b, root


@pytest.fixture
async def people(client: httpx.AsyncClient, session: AsyncSession, settings: Settings) -> People:
    tenant_a, tenant_b = await make_tenant(session), await make_tenant(session)
    return People(
        tenant_a,
        await login(client, await make_user(session, settings, tenant_a, roles=("admin",))),
        await login(client, await make_user(session, settings, tenant_a, roles=("member",))),
        await login(client, await make_user(session, settings, tenant_b, roles=("admin",))),
        await login(client, await make_user(session, settings, tenant_a, superadmin=True)),
    )


async def flags_of(client: httpx.AsyncClient, who: SignedIn) -> dict[str, dict[str, Any]]:
    answer = await client.get("/api/ops/flags", headers=who.headers)
    assert answer.status_code == 200, answer.text
    return {flag["key"]: flag for flag in answer.json()["items"]}


async def test_a_tenant_admin_sets_their_tenants_value_only(client: httpx.AsyncClient, people: People) -> None:
    listed = await flags_of(client, people.admin_a)
    assert set(listed) == {TENANT_FLAG, INSTALL_FLAG}
    assert listed[TENANT_FLAG] | {"description": ""} == {
        "key": TENANT_FLAG, "title": listed[TENANT_FLAG]["title"], "description": "", "scope": "tenant", "since": "0.1.0",
        "default": False, "enabled": False, "source": "default", "tenant_value": None, "install_value": None,
    }  # fmt: skip

    turned = await client.put(f"/api/ops/flags/{TENANT_FLAG}", json={"enabled": True}, headers=people.admin_a.headers)
    assert turned.status_code == 200, turned.text
    assert (turned.json()["enabled"], turned.json()["source"], turned.json()["tenant_value"]) == (True, "tenant", True)
    assert (await flags_of(client, people.admin_b))[TENANT_FLAG]["enabled"] is False, "tenant B is untouched"

    # Tenant A's admin may not set install-wide values, nor an install-scope flag for the tenant.
    install = await client.put(f"/api/ops/flags/{TENANT_FLAG}/install", json={"enabled": True}, headers=people.admin_a.headers)
    assert install.status_code == 403
    scoped = await client.put(f"/api/ops/flags/{INSTALL_FLAG}", json={"enabled": True}, headers=people.admin_a.headers)
    assert scoped.status_code == 403
    assert "whole install" in scoped.json()["detail"]
    assert (await client.get(f"/api/ops/flags/{TENANT_FLAG}/tenants", headers=people.admin_a.headers)).status_code == 403

    # Tenant B's admin resetting "their" value leaves tenant A's alone.
    assert (await client.delete(f"/api/ops/flags/{TENANT_FLAG}", headers=people.admin_b.headers)).status_code == 204
    assert (await flags_of(client, people.admin_a))[TENANT_FLAG]["enabled"] is True

    reset = await client.delete(f"/api/ops/flags/{TENANT_FLAG}", headers=people.admin_a.headers)
    assert reset.status_code == 204
    assert (await flags_of(client, people.admin_a))[TENANT_FLAG]["source"] == "default"


async def test_a_member_cannot_read_or_set_flags(client: httpx.AsyncClient, people: People) -> None:
    assert (await client.get("/api/ops/flags", headers=people.member_a.headers)).status_code == 403
    changed = await client.put(f"/api/ops/flags/{TENANT_FLAG}", json={"enabled": True}, headers=people.member_a.headers)
    assert changed.status_code == 403
    assert (await client.get("/api/ops/settings", headers=people.member_a.headers)).status_code == 403


async def test_a_platform_administrator_sets_the_installs_value_and_sees_overrides(
    client: httpx.AsyncClient, people: People
) -> None:
    await client.put(f"/api/ops/flags/{TENANT_FLAG}", json={"enabled": False}, headers=people.admin_a.headers)
    turned = await client.put(f"/api/ops/flags/{TENANT_FLAG}/install", json={"enabled": True}, headers=people.root.headers)
    assert turned.status_code == 200, turned.text
    assert turned.json()["install_value"] is True

    seen_by_b = (await flags_of(client, people.admin_b))[TENANT_FLAG]
    assert (seen_by_b["enabled"], seen_by_b["source"], seen_by_b["install_value"]) == (True, "install", None)
    assert (await flags_of(client, people.admin_a))[TENANT_FLAG]["enabled"] is False, "tenant A chose its own value"

    overrides = await client.get(f"/api/ops/flags/{TENANT_FLAG}/tenants", headers=people.root.headers)
    assert overrides.status_code == 200, overrides.text
    assert overrides.json()["total"] == 1
    assert [(item["tenant_id"], item["tenant_name"], item["enabled"]) for item in overrides.json()["items"]] == [
        (str(people.tenant_a.id), people.tenant_a.name, False)
    ]
    assert (await client.delete(f"/api/ops/flags/{TENANT_FLAG}/install", headers=people.root.headers)).status_code == 204
    assert (await flags_of(client, people.admin_b))[TENANT_FLAG]["source"] == "default"


async def test_every_change_is_audited(client: httpx.AsyncClient, session: AsyncSession, people: People) -> None:
    await client.put(f"/api/ops/flags/{TENANT_FLAG}", json={"enabled": True}, headers=people.admin_a.headers)
    await client.delete(f"/api/ops/flags/{TENANT_FLAG}", headers=people.admin_a.headers)
    await client.put(f"/api/ops/flags/{INSTALL_FLAG}/install", json={"enabled": True}, headers=people.root.headers)
    await client.delete(f"/api/ops/flags/{INSTALL_FLAG}/install", headers=people.root.headers)
    rows = (await session.scalars(select(AuditEvent).where(AuditEvent.target_type == "feature_flag"))).all()
    assert sorted((row.action, row.actor_name, row.target_id, row.tenant_id) for row in rows) == sorted([
        ("ops.flag.tenant_set", people.admin_a.user.username, TENANT_FLAG, people.tenant_a.id),
        ("ops.flag.tenant_reset", people.admin_a.user.username, TENANT_FLAG, people.tenant_a.id),
        ("ops.flag.install_set", people.root.user.username, INSTALL_FLAG, people.tenant_a.id),
        ("ops.flag.install_reset", people.root.user.username, INSTALL_FLAG, people.tenant_a.id),
    ])  # fmt: skip
    set_row = next(row for row in rows if row.action == "ops.flag.tenant_set")
    assert set_row.detail == {"key": TENANT_FLAG, "enabled": True, "before": None}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/ops/flags/files.nothing_like_this"),
        ("PUT", "/api/ops/flags/nothing"),
        ("DELETE", "/api/ops/flags/nothing.here"),
        ("PUT", "/api/ops/flags/nothing.here/install"),
        ("GET", "/api/ops/flags/nothing.here/tenants"),
    ],
)
async def test_an_unknown_flag_is_404(client: httpx.AsyncClient, people: People, method: str, path: str) -> None:
    answer = await client.request(method, path, json={"enabled": True} if method == "PUT" else None, headers=people.root.headers)
    assert answer.status_code == 404, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "GET /api/ops/flags lists them" in answer.json()["detail"]


@pytest.mark.parametrize(
    ("key", "body"),
    [
        (TENANT_FLAG, {"enabled": "yes"}),
        (TENANT_FLAG, {"enabled": 1}),
        (TENANT_FLAG, {}),
        (TENANT_FLAG, {"enabled": True, "tenant_id": "00000000-0000-0000-0000-000000000000"}),
        ("x" * 101, {"enabled": True}),
    ],
)
async def test_hostile_input_is_422(client: httpx.AsyncClient, people: People, key: str, body: dict[str, Any]) -> None:
    answer = await client.put(f"/api/ops/flags/{key}", json=body, headers=people.admin_a.headers)
    assert answer.status_code == 422, answer.text
    assert (await flags_of(client, people.admin_a))[TENANT_FLAG]["tenant_value"] is None


async def test_the_settings_overview_lists_what_each_admin_may_open(client: httpx.AsyncClient, people: People) -> None:
    tenant = await client.get("/api/ops/settings", headers=people.admin_a.headers)
    assert tenant.status_code == 200, tenant.text
    groups = {group["key"]: group for group in tenant.json()["groups"]}
    assert {"flags", "links", "documents", "services"} <= set(groups)
    assert not {"registration", "backups", "files"} & set(groups), "platform groups and tenant.manage's are not theirs"
    assert groups["flags"]["summary"] == "0 of 2 on"
    assert tenant.json()["platform"] == []

    closed = {"enabled": False, "tenant_slug": people.tenant_a.slug}
    changed = await client.put("/api/admin/settings/registration", json=closed, headers=people.root.headers)
    assert changed.status_code == 200, changed.text
    root = await client.get("/api/ops/settings", headers=people.root.headers)
    groups = {group["key"]: group for group in root.json()["groups"]}
    assert {"registration", "backups", "files", "flags"} <= set(groups)
    assert groups["registration"]["summary"] == "Closed: only admins create accounts"
    # The platform settings say where each is changed; their values stay on those pages.
    assert root.json()["platform"] == [{"key": "identity.registration", "page": "/admin/registration"}]

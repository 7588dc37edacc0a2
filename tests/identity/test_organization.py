"""Tenants (super-admins), custom roles with inheritance, groups whose members hold the group's roles."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.identity.tenants.models import Tenant
from nubes.identity.users.models import User
from tests.factories import PASSWORD, SignedIn, login, make_tenant, make_user


@pytest.fixture
async def tenant(session: AsyncSession) -> Tenant:
    return await make_tenant(session)


@pytest.fixture
async def owner(client: httpx.AsyncClient, session: AsyncSession, settings: Settings, tenant: Tenant) -> SignedIn:
    return await login(client, await make_user(session, settings, tenant, roles=("owner",)))


@pytest.fixture
async def superadmin(client: httpx.AsyncClient, session: AsyncSession, settings: Settings, tenant: Tenant) -> SignedIn:
    return await login(client, await make_user(session, settings, tenant, roles=("owner",), superadmin=True))


async def test_superadmin_creates_a_tenant_with_builtin_roles_and_its_owner(
    client: httpx.AsyncClient, superadmin: SignedIn
) -> None:
    created = await client.post("/api/admin/tenants", json={"name": "Acme", "slug": "acme"}, headers=superadmin.headers)
    assert created.status_code == 201
    acme = created.json()
    assert acme["slug"] == "acme"
    assert acme["users"] == 0
    first_owner = await client.post(
        "/api/admin/users",
        json={"username": "acme-owner", "password": PASSWORD, "roles": ["owner"], "tenant_id": acme["id"]},
        headers=superadmin.headers,
    )
    assert first_owner.status_code == 201
    owner = await client.post("/api/auth/login", json={"username": "acme-owner", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {owner.json()['access_token']}"}
    roles = {role["name"] for role in (await client.get("/api/admin/roles", headers=headers)).json()}
    assert roles == {"owner", "admin", "member", "viewer", "documents-admin", "ai-service-admin"}
    me = (await client.get("/api/users/me", headers=headers)).json()
    assert me["tenant"]["slug"] == "acme"
    assert "tenant.manage" in me["permissions"]
    listed = {t["slug"]: t for t in (await client.get("/api/admin/tenants", headers=superadmin.headers)).json()}
    assert listed["acme"]["users"] == 1


async def test_slug_rules_and_clash(client: httpx.AsyncClient, superadmin: SignedIn, tenant: Tenant) -> None:
    bad = await client.post("/api/admin/tenants", json={"name": "X", "slug": "-Bad Slug-"}, headers=superadmin.headers)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"] == ["body", "slug"]
    clash = await client.post("/api/admin/tenants", json={"name": "X", "slug": tenant.slug}, headers=superadmin.headers)
    assert clash.status_code == 409


async def test_tenant_owner_is_not_a_platform_admin(client: httpx.AsyncClient, owner: SignedIn) -> None:
    response = await client.get("/api/admin/tenants", headers=owner.headers)
    assert response.status_code == 403
    assert "platform administrators" in response.json()["detail"]


async def test_suspending_a_tenant_ends_its_sessions_and_sign_ins(
    client: httpx.AsyncClient, superadmin: SignedIn, session: AsyncSession, settings: Settings
) -> None:
    other = await make_tenant(session)
    user = await make_user(session, settings, other)
    signed_in = await login(client, user)
    response = await client.patch(f"/api/admin/tenants/{other.id}", json={"status": "suspended"}, headers=superadmin.headers)
    assert response.status_code == 200
    assert response.json()["status"] == "suspended"
    assert (await client.get("/api/users/me", headers=signed_in.headers)).status_code == 401
    assert (await client.post("/api/auth/refresh", json={"refresh_token": signed_in.refresh_token})).status_code == 401
    again = await client.post("/api/auth/login", json={"username": user.username, "password": PASSWORD})
    assert again.status_code == 401
    assert "cannot sign in" in again.json()["detail"]


async def test_nobody_suspends_or_deletes_their_own_tenant(client: httpx.AsyncClient, superadmin: SignedIn) -> None:
    tenant_id = superadmin.user.tenant_id
    assert (
        await client.patch(f"/api/admin/tenants/{tenant_id}", json={"status": "suspended"}, headers=superadmin.headers)
    ).status_code == 409
    assert (await client.delete(f"/api/admin/tenants/{tenant_id}", headers=superadmin.headers)).status_code == 409


async def test_deleting_a_tenant_needs_its_slug_and_removes_its_data(
    client: httpx.AsyncClient, superadmin: SignedIn, session: AsyncSession, settings: Settings
) -> None:
    doomed = await make_tenant(session, "doomed")
    user = await make_user(session, settings, doomed)
    username, doomed_id = user.username, doomed.id
    await login(client, user)
    unconfirmed = await client.delete(f"/api/admin/tenants/{doomed_id}", headers=superadmin.headers)
    assert unconfirmed.status_code == 422
    assert "?confirm=doomed" in unconfirmed.json()["detail"]
    done = await client.delete(f"/api/admin/tenants/{doomed_id}", params={"confirm": "doomed"}, headers=superadmin.headers)
    assert done.status_code == 204
    session.expire_all()
    assert await session.scalar(select(User).where(User.username == username)) is None
    assert (await client.get(f"/api/admin/tenants/{doomed_id}", headers=superadmin.headers)).status_code == 404


async def test_custom_role_inherits_and_grants_its_permissions(
    client: httpx.AsyncClient, owner: SignedIn, session: AsyncSession, settings: Settings, tenant: Tenant
) -> None:
    created = await client.post(
        "/api/admin/roles",
        json={"name": "operator", "parent": "viewer", "permissions": ["containers.manage", "containers.console"]},
        headers=owner.headers,
    )
    assert created.status_code == 201
    role = created.json()
    assert role["permissions"] == ["containers.console", "containers.manage"]
    assert {"files.read", "containers.read", "containers.manage"} <= set(role["effective_permissions"])
    user = await make_user(session, settings, tenant, roles=("operator",))
    me = (await client.get("/api/users/me", headers=(await login(client, user)).headers)).json()
    assert "containers.manage" in me["permissions"]
    assert "files.read" in me["permissions"]
    assert "files.write" not in me["permissions"]


async def test_role_rules(client: httpx.AsyncClient, owner: SignedIn) -> None:
    roles = {role["name"]: role for role in (await client.get("/api/admin/roles", headers=owner.headers)).json()}
    builtin = await client.patch(f"/api/admin/roles/{roles['member']['id']}", json={"permissions": []}, headers=owner.headers)
    assert builtin.status_code == 409
    unknown = await client.post("/api/admin/roles", json={"name": "x", "permissions": ["files.fly"]}, headers=owner.headers)
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["loc"] == ["body", "permissions", 0]
    assert "GET /api/admin/permissions" in unknown.json()["errors"][0]["msg"]
    first = (await client.post("/api/admin/roles", json={"name": "first"}, headers=owner.headers)).json()
    second = (await client.post("/api/admin/roles", json={"name": "second", "parent": "first"}, headers=owner.headers)).json()
    cycle = await client.patch(f"/api/admin/roles/{first['id']}", json={"parent": "second"}, headers=owner.headers)
    assert cycle.status_code == 422
    assert "inherit from itself" in cycle.json()["detail"]
    assert (await client.delete(f"/api/admin/roles/{first['id']}", headers=owner.headers)).status_code == 204
    orphan = await client.get(f"/api/admin/roles/{second['id']}", headers=owner.headers)
    assert orphan.json()["parent_id"] is None


async def test_admin_cannot_make_a_role_above_themselves(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, tenant: Tenant
) -> None:
    admin = await login(client, await make_user(session, settings, tenant, roles=("admin",)))
    response = await client.post(
        "/api/admin/roles", json={"name": "crown", "permissions": ["tenant.manage"]}, headers=admin.headers
    )
    assert response.status_code == 403


async def test_group_members_hold_the_group_roles(
    client: httpx.AsyncClient, owner: SignedIn, session: AsyncSession, settings: Settings, tenant: Tenant
) -> None:
    viewer = await make_user(session, settings, tenant, roles=("viewer",))
    signed_in = await login(client, viewer)
    assert "admin.audit" not in (await client.get("/api/users/me", headers=signed_in.headers)).json()["permissions"]
    group = (await client.post("/api/admin/groups", json={"name": "Auditors", "roles": ["admin"]}, headers=owner.headers)).json()
    assert [role["name"] for role in group["roles"]] == ["admin"]
    added = await client.put(f"/api/admin/groups/{group['id']}/members/{viewer.id}", headers=owner.headers)
    assert added.status_code == 204
    assert (await client.put(f"/api/admin/groups/{group['id']}/members/{viewer.id}", headers=owner.headers)).status_code == 204
    me = (await client.get("/api/users/me", headers=signed_in.headers)).json()
    assert "admin.audit" in me["permissions"]
    mine = (await client.get("/api/users/me/groups", headers=signed_in.headers)).json()
    assert [(g["name"], g["members"]) for g in mine] == [("Auditors", 1)]
    members = (await client.get(f"/api/admin/groups/{group['id']}/members", headers=owner.headers)).json()
    assert [m["username"] for m in members] == [viewer.username]
    removed = await client.delete(f"/api/admin/groups/{group['id']}/members/{viewer.id}", headers=owner.headers)
    assert removed.status_code == 204
    assert "admin.audit" not in (await client.get("/api/users/me", headers=signed_in.headers)).json()["permissions"]


async def test_a_user_of_another_tenant_cannot_join(
    client: httpx.AsyncClient, owner: SignedIn, session: AsyncSession, settings: Settings
) -> None:
    stranger = await make_user(session, settings, await make_tenant(session))
    group = (await client.post("/api/admin/groups", json={"name": "Team"}, headers=owner.headers)).json()
    response = await client.put(f"/api/admin/groups/{group['id']}/members/{stranger.id}", headers=owner.headers)
    assert response.status_code == 404


async def test_organization_changes_are_audited(client: httpx.AsyncClient, owner: SignedIn) -> None:
    await client.post("/api/admin/roles", json={"name": "auditable"}, headers=owner.headers)
    await client.post("/api/admin/groups", json={"name": "Auditable"}, headers=owner.headers)
    actions = {row["action"] for row in (await client.get("/api/admin/audit", headers=owner.headers)).json()["items"]}
    assert {"role.create", "group.create"} <= actions

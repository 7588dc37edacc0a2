"""Every change of access takes effect on the caller's next request, also while the tenant's role graph is cached.

Each test first makes a request that reads (and caches) the role graph, then changes access, then expects the next
request to see the change: 401 for an ended session or account, 403 for a permission taken, 200 for one given.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import jwt
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core.db import utcnow
from nubes.identity.roles.service import cached_role_graph, role_graph
from nubes.identity.sessions.tokens import hash_token
from nubes.identity.tenants.models import Tenant
from nubes.identity.users.models import AccountToken
from tests.factories import SignedIn, login, make_tenant, make_user

pytestmark = pytest.mark.usefixtures("client")

AUDIT = "/api/admin/audit"  # needs admin.audit, which a member does not hold


async def owner_and_member(session: AsyncSession, settings: Settings, client: httpx.AsyncClient) -> tuple[SignedIn, SignedIn]:
    tenant = await make_tenant(session)
    owner = await login(client, await make_user(session, settings, tenant, roles=("owner",)))
    member = await login(client, await make_user(session, settings, tenant, roles=("member",)))
    return owner, member


async def status(client: httpx.AsyncClient, who: SignedIn, url: str = "/api/users/me") -> int:
    return (await client.get(url, headers=who.headers)).status_code


async def test_ended_sessions_are_401_at_once(client: httpx.AsyncClient, session: AsyncSession, settings: Settings) -> None:
    """GIVEN signed-in sessions WHEN one signs out, one is revoked, one's refresh token is reused THEN each is 401."""
    _, member = await owner_and_member(session, settings, client)
    laptop, phone, tablet = member, await login(client, member.user), await login(client, member.user)
    assert [await status(client, who) for who in (laptop, phone, tablet)] == [200, 200, 200]

    assert (await client.post("/api/auth/logout", json={"refresh_token": tablet.refresh_token})).status_code == 204
    assert await status(client, tablet) == 401

    phone_id = jwt.decode(phone.access_token, options={"verify_signature": False})["sid"]
    assert (await client.delete(f"/api/users/me/sessions/{phone_id}", headers=laptop.headers)).status_code == 204
    assert await status(client, phone) == 401
    assert await status(client, laptop) == 200

    rotated = await client.post("/api/auth/refresh", json={"refresh_token": laptop.refresh_token})
    assert rotated.status_code == 200
    newest = {"Authorization": f"Bearer {rotated.json()['access_token']}"}
    assert (await client.get("/api/users/me", headers=newest)).status_code == 200
    assert (await client.post("/api/auth/refresh", json={"refresh_token": laptop.refresh_token})).status_code == 401
    assert (await client.get("/api/users/me", headers=newest)).status_code == 401


async def test_deactivation_and_suspension_are_401_at_once(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    owner, member = await owner_and_member(session, settings, client)
    assert await status(client, member) == 200
    deactivated = await client.patch(f"/api/admin/users/{member.user.id}", json={"is_active": False}, headers=owner.headers)
    assert deactivated.status_code == 200, deactivated.text
    assert await status(client, member) == 401

    platform = await login(client, await make_user(session, settings, await make_tenant(session), superadmin=True))
    assert await status(client, owner) == 200
    tenant_id = owner.user.tenant_id
    suspended = await client.patch(f"/api/admin/tenants/{tenant_id}", json={"status": "suspended"}, headers=platform.headers)
    assert suspended.status_code == 200, suspended.text
    assert await status(client, owner) == 401


async def test_a_password_reset_is_401_at_once(client: httpx.AsyncClient, session: AsyncSession, settings: Settings) -> None:
    tenant = await make_tenant(session)
    user = await make_user(session, settings, tenant, email="forgot@example.org", email_verified=True)
    signed_in = await login(client, user)
    assert await status(client, signed_in) == 200
    session.add(
        AccountToken(
            tenant_id=tenant.id,
            user_id=user.id,
            purpose="reset_password",
            token_hash=hash_token("mailed-link"),
            email="forgot@example.org",
            expires_at=utcnow() + timedelta(hours=1),
        )
    )
    await session.flush()
    reset = await client.post(
        "/api/auth/password-reset", json={"token": "mailed-link", "new_password": "Violet-Harbour-Lantern-42"}
    )
    assert reset.status_code == 204, reset.text
    assert await status(client, signed_in) == 401


async def test_role_and_grant_changes_are_seen_at_once(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    """GIVEN a member whose tenant's role graph is cached WHEN roles and grants change THEN the next request sees it."""
    owner, member = await owner_and_member(session, settings, client)
    assert await status(client, member, AUDIT) == 403
    created = await client.post("/api/admin/roles", json={"name": "auditors", "permissions": []}, headers=owner.headers)
    assert created.status_code == 201, created.text
    role_id = created.json()["id"]
    given = await client.patch(
        f"/api/admin/users/{member.user.id}", json={"roles": ["member", "auditors"]}, headers=owner.headers
    )
    assert given.status_code == 200, given.text
    assert await status(client, member, AUDIT) == 403  # the role grants nothing yet

    granted = await client.patch(f"/api/admin/roles/{role_id}", json={"permissions": ["admin.audit"]}, headers=owner.headers)
    assert granted.status_code == 200, granted.text
    assert await status(client, member, AUDIT) == 200  # a new grant

    taken = await client.patch(f"/api/admin/roles/{role_id}", json={"permissions": []}, headers=owner.headers)
    assert taken.status_code == 200, taken.text
    assert await status(client, member, AUDIT) == 403  # a grant taken

    assert (
        await client.patch(f"/api/admin/roles/{role_id}", json={"permissions": ["admin.audit"]}, headers=owner.headers)
    ).status_code == 200
    assert await status(client, member, AUDIT) == 200
    removed = await client.patch(f"/api/admin/users/{member.user.id}", json={"roles": ["member"]}, headers=owner.headers)
    assert removed.status_code == 200, removed.text
    assert await status(client, member, AUDIT) == 403  # a role taken

    assert (
        await client.patch(f"/api/admin/users/{member.user.id}", json={"roles": ["member", "auditors"]}, headers=owner.headers)
    ).status_code == 200
    assert await status(client, member, AUDIT) == 200
    assert (await client.delete(f"/api/admin/roles/{role_id}", headers=owner.headers)).status_code == 204
    assert await status(client, member, AUDIT) == 403  # a role deleted


async def test_group_changes_are_seen_at_once(client: httpx.AsyncClient, session: AsyncSession, settings: Settings) -> None:
    owner, member = await owner_and_member(session, settings, client)
    assert (
        await client.post("/api/admin/roles", json={"name": "auditors", "permissions": ["admin.audit"]}, headers=owner.headers)
    ).status_code == 201
    created = await client.post("/api/admin/groups", json={"name": "audit-team", "roles": ["auditors"]}, headers=owner.headers)
    assert created.status_code == 201, created.text
    group = f"/api/admin/groups/{created.json()['id']}"
    assert await status(client, member, AUDIT) == 403

    assert (await client.put(f"{group}/members/{member.user.id}", headers=owner.headers)).status_code in (200, 204)
    assert await status(client, member, AUDIT) == 200  # joined a group
    assert created.json()["id"] in {g["id"] for g in (await client.get("/api/users/me/groups", headers=member.headers)).json()}

    assert (await client.patch(group, json={"roles": []}, headers=owner.headers)).status_code == 200
    assert await status(client, member, AUDIT) == 403  # the group's role taken
    assert (await client.patch(group, json={"roles": ["auditors"]}, headers=owner.headers)).status_code == 200
    assert await status(client, member, AUDIT) == 200  # and given again

    assert (await client.delete(f"{group}/members/{member.user.id}", headers=owner.headers)).status_code == 204
    assert await status(client, member, AUDIT) == 403  # left the group

    assert (await client.put(f"{group}/members/{member.user.id}", headers=owner.headers)).status_code in (200, 204)
    assert await status(client, member, AUDIT) == 200
    assert (await client.delete(group, headers=owner.headers)).status_code == 204
    assert await status(client, member, AUDIT) == 403  # the group deleted


async def test_becoming_and_ceasing_superadmin_is_seen_at_once(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    _, member = await owner_and_member(session, settings, client)
    assert await status(client, member, "/api/admin/tenants") == 403
    member.user.is_superadmin = True
    await session.flush()
    assert await status(client, member, "/api/admin/tenants") == 200
    member.user.is_superadmin = False
    await session.flush()
    assert await status(client, member, "/api/admin/tenants") == 403


async def test_the_cached_graph_is_used_only_at_the_tenants_version(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    owner, _ = await owner_and_member(session, settings, client)
    tenant_id = owner.user.tenant_id
    version = await session.scalar(select(Tenant.roles_version).where(Tenant.id == tenant_id))
    assert version is not None
    first = await cached_role_graph(session=session, tenant_id=tenant_id, version=version)
    assert await cached_role_graph(session=session, tenant_id=tenant_id, version=version) is first
    assert (await client.post("/api/admin/roles", json={"name": "newcomers"}, headers=owner.headers)).status_code == 201
    after = await session.scalar(select(Tenant.roles_version).where(Tenant.id == tenant_id))
    assert after is not None
    assert after > version
    fresh = await cached_role_graph(session=session, tenant_id=tenant_id, version=after)
    assert fresh is not first
    assert set(fresh.names.values()) == set((await role_graph(session, tenant_id)).names.values()) >= {"newcomers"}

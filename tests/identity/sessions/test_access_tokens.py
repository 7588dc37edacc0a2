"""Personal access tokens: scoped to a subset of the user's permissions, shown once, revocable, expiring."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core.db import utcnow
from nubes.identity.sessions.models import PersonalAccessToken
from nubes.identity.tenants.models import Tenant
from tests.factories import SignedIn, login, make_tenant, make_user


@pytest.fixture
async def tenant(session: AsyncSession) -> Tenant:
    return await make_tenant(session)


@pytest.fixture
async def admin(client: httpx.AsyncClient, session: AsyncSession, settings: Settings, tenant: Tenant) -> SignedIn:
    return await login(client, await make_user(session, settings, tenant, roles=("admin",)))


async def _make(client: httpx.AsyncClient, who: SignedIn, **body: object) -> httpx.Response:
    payload = {"name": "backup script", "scopes": ["files.read"], **body}
    return await client.post("/api/users/me/tokens", json=payload, headers=who.headers)


async def test_token_is_shown_once_and_carries_only_its_scopes(
    client: httpx.AsyncClient, admin: SignedIn, session: AsyncSession
) -> None:
    created = await _make(client, admin, scopes=["files.read", "admin.audit"])
    assert created.status_code == 201
    body = created.json()
    token = body["token"]
    assert token.startswith("nbp_")
    assert body["prefix"] == token[:12]
    assert created.headers["cache-control"] == "no-store"
    stored = await session.get(PersonalAccessToken, uuid.UUID(body["id"]))
    assert stored is not None
    assert token not in stored.token_hash
    listed = (await client.get("/api/users/me/tokens", headers=admin.headers)).json()
    assert [entry["name"] for entry in listed] == ["backup script"]
    assert "token" not in listed[0]
    bearer = {"Authorization": f"Bearer {token}"}
    me = (await client.get("/api/users/me", headers=bearer)).json()
    assert me["permissions"] == ["admin.audit", "files.read"]
    assert (await client.get("/api/admin/audit", headers=bearer)).status_code == 200
    # The user is an admin, the token is not: admin.users was not in its scopes.
    assert (await client.get("/api/admin/users", headers=bearer)).status_code == 403


async def test_scopes_beyond_your_permissions_are_refused(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, tenant: Tenant
) -> None:
    member = await login(client, await make_user(session, settings, tenant))
    response = await _make(client, member, scopes=["files.read", "admin.users"])
    assert response.status_code == 403
    assert "admin.users" in response.json()["detail"]
    unknown = await _make(client, member, scopes=["files.teleport"])
    assert unknown.status_code == 422


async def test_revoked_and_expired_tokens_stop_working(client: httpx.AsyncClient, admin: SignedIn, session: AsyncSession) -> None:
    revoked = (await _make(client, admin)).json()
    assert (await client.delete(f"/api/users/me/tokens/{revoked['id']}", headers=admin.headers)).status_code == 204
    response = await client.get("/api/users/me", headers={"Authorization": f"Bearer {revoked['token']}"})
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]
    expiring = (await _make(client, admin, expires_in_days=1)).json()
    row = await session.get(PersonalAccessToken, uuid.UUID(expiring["id"]))
    assert row is not None
    row.expires_at = utcnow() - timedelta(seconds=1)
    await session.flush()
    expired = await client.get("/api/users/me", headers={"Authorization": f"Bearer {expiring['token']}"})
    assert expired.status_code == 401
    assert "expired" in expired.json()["detail"]


async def test_a_token_cannot_make_tokens(client: httpx.AsyncClient, admin: SignedIn) -> None:
    token = (await _make(client, admin, scopes=["files.read"])).json()["token"]
    response = await client.post(
        "/api/users/me/tokens", json={"name": "child", "scopes": ["files.read"]}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 403
    assert response.json()["type"] == "urn:nubes:problem:session-required"  # tokens never manage credentials


async def test_deactivating_the_user_stops_their_tokens(
    client: httpx.AsyncClient, admin: SignedIn, session: AsyncSession, settings: Settings, tenant: Tenant
) -> None:
    member = await login(client, await make_user(session, settings, tenant))
    token = (await _make(client, member)).json()["token"]
    assert (await client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})).status_code == 200
    await client.patch(f"/api/admin/users/{member.user.id}", json={"is_active": False}, headers=admin.headers)
    assert (await client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})).status_code == 401


async def test_token_creation_is_audited(client: httpx.AsyncClient, admin: SignedIn) -> None:
    token = (await _make(client, admin)).json()["token"]
    rows = (await client.get("/api/admin/audit", params={"action": "token."}, headers=admin.headers)).json()["items"]
    assert [row["action"] for row in rows] == ["token.create"]
    assert token not in str(rows)


async def test_other_tenants_do_not_see_the_token(
    client: httpx.AsyncClient, admin: SignedIn, session: AsyncSession, settings: Settings
) -> None:
    created = (await _make(client, admin)).json()
    stranger = await login(client, await make_user(session, settings, await make_tenant(session), roles=("owner",)))
    assert (await client.delete(f"/api/users/me/tokens/{created['id']}", headers=stranger.headers)).status_code == 404
    assert (await client.get("/api/users/me/tokens", headers=stranger.headers)).json() == []

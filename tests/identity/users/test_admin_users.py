"""User administration: creating, changing and deactivating users, inside one tenant only."""

from __future__ import annotations

import csv
import io
import json

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.identity.tenants.models import Tenant
from tests.factories import PASSWORD, SignedIn, login, make_tenant, make_user


@pytest.fixture
async def tenant(session: AsyncSession) -> Tenant:
    return await make_tenant(session)


@pytest.fixture
async def admin(client: httpx.AsyncClient, session: AsyncSession, settings: Settings, tenant: Tenant) -> SignedIn:
    user = await make_user(session, settings, tenant, roles=("admin",))
    return await login(client, user)


async def test_admin_creates_a_user_who_can_sign_in(client: httpx.AsyncClient, admin: SignedIn) -> None:
    response = await client.post(
        "/api/admin/users",
        json={
            "username": "Grace.Hopper",
            "email": "Grace@Navy.test",
            "password": "Compiler-Moth-1947-cobol",
            "roles": ["member"],
        },
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["username"] == "grace.hopper"
    assert created["email"] == "grace@navy.test"
    assert created["tenant_id"] == str(admin.user.tenant_id)
    assert created["roles"] == ["member"]
    signed_in = await client.post("/api/auth/login", json={"username": "grace.hopper", "password": "Compiler-Moth-1947-cobol"})
    assert signed_in.status_code == 200

    listed = await client.get("/api/admin/users", params={"q": "grace"}, headers=admin.headers)
    assert [(user["username"], user["roles"]) for user in listed.json()["items"]] == [("grace.hopper", ["member"])]
    changed = await client.patch(f"/api/admin/users/{created['id']}", json={"roles": ["viewer", "admin"]}, headers=admin.headers)
    assert changed.json()["roles"] == ["admin", "viewer"]


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("password1234", "most common passwords"),
        ("linus-torvalds-99x", "must not contain your username"),
        ("aaaaaaaaaaaaaaaa", "Repeats like"),
    ],
)
async def test_password_policy_says_why(client: httpx.AsyncClient, admin: SignedIn, password: str, reason: str) -> None:
    response = await client.post(
        "/api/admin/users", json={"username": "linus-torvalds", "password": password}, headers=admin.headers
    )
    assert response.status_code == 422
    body = response.json()
    assert reason in body["detail"]
    assert all(error["loc"] == ["body", "password"] for error in body["errors"])


async def test_short_password_is_refused_by_the_schema(client: httpx.AsyncClient, admin: SignedIn) -> None:
    response = await client.post("/api/admin/users", json={"username": "shorty", "password": "short-1"}, headers=admin.headers)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"loc": ["body", "password"], "msg": "String should have at least 12 characters", "type": "string_too_short"}
    ]


async def test_taken_username_is_409(client: httpx.AsyncClient, admin: SignedIn) -> None:
    response = await client.post(
        "/api/admin/users", json={"username": admin.user.username, "password": PASSWORD}, headers=admin.headers
    )
    assert response.status_code == 409
    assert "taken" in response.json()["detail"]


async def test_unknown_role_is_422_naming_it(client: httpx.AsyncClient, admin: SignedIn) -> None:
    response = await client.post(
        "/api/admin/users", json={"username": "newbie", "password": PASSWORD, "roles": ["wizard"]}, headers=admin.headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["msg"] == "unknown role 'wizard'"


async def test_admin_cannot_grant_what_they_do_not_hold(client: httpx.AsyncClient, admin: SignedIn) -> None:
    response = await client.post(
        "/api/admin/users", json={"username": "newowner", "password": PASSWORD, "roles": ["owner"]}, headers=admin.headers
    )
    assert response.status_code == 403
    assert "cannot grant" in response.json()["detail"]


async def test_member_may_not_administer(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, tenant: Tenant
) -> None:
    member = await login(client, await make_user(session, settings, tenant))
    for response in (
        await client.get("/api/admin/users", headers=member.headers),
        await client.post("/api/admin/users", json={"username": "x1", "password": PASSWORD}, headers=member.headers),
        await client.get("/api/admin/audit", headers=member.headers),
    ):
        assert response.status_code == 403
        assert "permission" in response.json()["detail"]


async def test_deactivation_ends_every_session_at_once(
    client: httpx.AsyncClient, admin: SignedIn, session: AsyncSession, settings: Settings, tenant: Tenant
) -> None:
    victim = await login(client, await make_user(session, settings, tenant))
    response = await client.patch(f"/api/admin/users/{victim.user.id}", json={"is_active": False}, headers=admin.headers)
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert (await client.get("/api/users/me", headers=victim.headers)).status_code == 401
    assert (await client.post("/api/auth/refresh", json={"refresh_token": victim.refresh_token})).status_code == 401
    again = await client.post("/api/auth/login", json={"username": victim.user.username, "password": PASSWORD})
    assert again.status_code == 401


async def test_admin_cannot_deactivate_themselves(client: httpx.AsyncClient, admin: SignedIn) -> None:
    response = await client.patch(f"/api/admin/users/{admin.user.id}", json={"is_active": False}, headers=admin.headers)
    assert response.status_code == 409


async def test_admin_cannot_take_away_their_own_admin_rights(client: httpx.AsyncClient, admin: SignedIn) -> None:
    response = await client.patch(f"/api/admin/users/{admin.user.id}", json={"roles": ["member"]}, headers=admin.headers)
    assert response.status_code == 409
    assert "ask another admin" in response.json()["detail"]
    me = await client.get(f"/api/admin/users/{admin.user.id}", headers=admin.headers)
    assert me.json()["roles"] == ["admin"]
    kept = await client.patch(f"/api/admin/users/{admin.user.id}", json={"roles": ["admin", "viewer"]}, headers=admin.headers)
    assert kept.status_code == 200, kept.text


async def test_list_and_search_users(
    client: httpx.AsyncClient, admin: SignedIn, session: AsyncSession, settings: Settings, tenant: Tenant
) -> None:
    await make_user(session, settings, tenant, username="margaret-h")
    await make_user(session, settings, tenant, username="katherine-j")
    everyone = (await client.get("/api/admin/users", headers=admin.headers)).json()
    assert everyone["total"] == 3
    found = (await client.get("/api/admin/users", params={"q": "MARG"}, headers=admin.headers)).json()
    assert [user["username"] for user in found["items"]] == ["margaret-h"]
    paged = (await client.get("/api/admin/users", params={"limit": 1, "offset": 1}, headers=admin.headers)).json()
    assert len(paged["items"]) == 1
    assert paged["total"] == 3


async def test_audit_log_filters_and_exports_csv(client: httpx.AsyncClient, admin: SignedIn) -> None:
    await client.post("/api/auth/login", json={"username": admin.user.username, "password": "=HYPERLINK(bad)"})
    page = (await client.get("/api/admin/audit", params={"action": "auth.", "outcome": "failure"}, headers=admin.headers)).json()
    assert page["total"] >= 1
    assert {row["action"] for row in page["items"]} == {"auth.login"}
    assert {row["outcome"] for row in page["items"]} == {"failure"}
    exported = await client.get("/api/admin/audit", params={"format": "csv"}, headers=admin.headers)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0][:4] == ["created_at", "actor_name", "action", "outcome"]
    created = next(row for row in rows[1:] if row[2] == "user.create")
    assert json.loads(created[-1])["roles"] == ["admin"]


async def test_permission_catalog(client: httpx.AsyncClient, admin: SignedIn) -> None:
    catalog = (await client.get("/api/admin/permissions", headers=admin.headers)).json()
    codes = {entry["code"] for entry in catalog}
    assert {"admin.users", "files.read", "containers.manage"} <= codes
    assert all(entry["description"] for entry in catalog)


async def test_cookie_writes_need_the_csrf_token_and_our_origin(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, tenant: Tenant
) -> None:
    user = await make_user(session, settings, tenant, roles=("admin",))
    response = await client.post("/api/auth/login", json={"username": user.username, "password": PASSWORD})
    assert response.status_code == 200
    csrf = client.cookies["nubes_csrf"]
    body = {"username": "cookie-made", "password": PASSWORD}
    # Reads with the cookie work without the token.
    assert (await client.get("/api/users/me")).status_code == 200
    missing = await client.post("/api/admin/users", json=body)
    assert missing.status_code == 403
    assert "X-CSRF-Token" in missing.json()["detail"]
    wrong = await client.post("/api/admin/users", json=body, headers={"X-CSRF-Token": "guessed"})
    assert wrong.status_code == 403
    cross_site = await client.post("/api/admin/users", json=body, headers={"X-CSRF-Token": csrf, "Origin": "https://evil.test"})
    assert cross_site.status_code == 403
    assert "another site" in cross_site.json()["detail"]
    ok = await client.post("/api/admin/users", json=body, headers={"X-CSRF-Token": csrf, "Origin": "http://testserver"})
    assert ok.status_code == 201


async def test_login_from_another_site_is_refused(client: httpx.AsyncClient, admin: SignedIn) -> None:
    response = await client.post(
        "/api/auth/login", json={"username": admin.user.username, "password": PASSWORD}, headers={"Origin": "https://evil.test"}
    )
    assert response.status_code == 403

"""Sign-in, refresh rotation with reuse detection, sign-out, and what a token must be to be accepted."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import timedelta

import httpx
import jwt
import pytest
from asgi_lifespan import LifespanManager
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core.audit import AuditEvent
from nubes.core.db import utcnow
from nubes.identity.sessions.models import Session
from nubes.identity.sessions.tokens import AUDIENCE, ISSUER, KeyRing
from nubes.identity.users.models import User
from nubes.main import create_app
from tests.factories import PASSWORD, login, make_tenant, make_user


@pytest.fixture
async def user(session: AsyncSession, settings: Settings) -> User:
    tenant = await make_tenant(session)
    return await make_user(
        session, settings, tenant, username=f"ada-{uuid.uuid4().hex[:6]}", email=f"{uuid.uuid4().hex[:6]}@ada.test"
    )


async def test_login_returns_tokens_and_sets_cookies(client: httpx.AsyncClient, user: User) -> None:
    response = await client.post("/api/auth/login", json={"username": user.username, "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 300
    assert body["refresh_token"].startswith("nbr_")
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "EdDSA"
    cookies = response.headers.get_list("set-cookie")
    access = next(cookie for cookie in cookies if cookie.startswith("nubes_access="))
    refresh = next(cookie for cookie in cookies if cookie.startswith("nubes_refresh="))
    csrf = next(cookie for cookie in cookies if cookie.startswith("nubes_csrf="))
    assert "HttpOnly" in access
    assert "SameSite=lax" in access
    assert "HttpOnly" in refresh
    assert "Path=/api/auth" in refresh
    assert "HttpOnly" not in csrf
    assert response.headers["cache-control"] == "no-store"


async def test_login_by_email_and_by_oauth2_form(client: httpx.AsyncClient, user: User) -> None:
    assert user.email is not None
    by_email = await client.post("/api/auth/login", json={"username": user.email.upper(), "password": PASSWORD})
    assert by_email.status_code == 200
    by_form = await client.post(
        "/api/auth/login", data={"grant_type": "password", "username": user.username, "password": PASSWORD}
    )
    assert by_form.status_code == 200
    assert by_form.json()["access_token"]


async def test_wrong_password_and_unknown_user_look_the_same(client: httpx.AsyncClient, user: User) -> None:
    wrong = await client.post("/api/auth/login", json={"username": user.username, "password": "not-the-password-at-all"})
    unknown = await client.post("/api/auth/login", json={"username": "nobody-here", "password": "not-the-password-at-all"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"] == "Wrong username or password."
    assert "set-cookie" not in wrong.headers


async def test_logins_are_audited_success_and_failure(client: httpx.AsyncClient, user: User, session: AsyncSession) -> None:
    await client.post("/api/auth/login", json={"username": user.username, "password": "wrong-wrong-wrong"})
    await client.post(
        "/api/auth/login", json={"username": user.username, "password": PASSWORD}, headers={"user-agent": "Firefox/140"}
    )
    rows = list(
        await session.scalars(select(AuditEvent).where(AuditEvent.actor_id == user.id, AuditEvent.action == "auth.login"))
    )
    outcomes = sorted((row.outcome, row.user_agent) for row in rows)
    assert outcomes[0][0] == "failure"
    assert ("success", "Firefox/140") in outcomes
    assert all(row.tenant_id == user.tenant_id for row in rows)
    assert all(PASSWORD not in json.dumps(row.detail) for row in rows)


@pytest.mark.parametrize(
    ("body", "status", "kind"),
    [
        (b'{"username": "x", "password": }', 400, "bad-request"),
        (b'{"username": "x"}', 422, "validation-error"),
    ],
)
async def test_bad_login_bodies(client: httpx.AsyncClient, body: bytes, status: int, kind: str) -> None:
    response = await client.post("/api/auth/login", content=body, headers={"content-type": "application/json"})
    assert response.status_code == status
    assert response.json()["type"] == f"urn:nubes:problem:{kind}"


async def test_login_in_plain_text_is_415(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/auth/login", content=b"admin:secret", headers={"content-type": "text/plain"})
    assert response.status_code == 415


async def test_brute_force_hits_429_with_retry_after(client: httpx.AsyncClient, user: User) -> None:
    statuses = []
    for _ in range(12):
        response = await client.post("/api/auth/login", json={"username": user.username, "password": "guess-guess-guess"})
        statuses.append(response.status_code)
    assert statuses[:10] == [401] * 10
    assert statuses[10:] == [429, 429]
    assert int(response.headers["retry-after"]) >= 1
    # Even the right password waits now: the account is throttled, not just the guesses.
    right = await client.post("/api/auth/login", json={"username": user.username, "password": PASSWORD})
    assert right.status_code == 429


async def test_me_with_bearer_token(client: httpx.AsyncClient, user: User) -> None:
    signed_in = await login(client, user)
    response = await client.get("/api/users/me", headers=signed_in.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["user"]["username"] == user.username
    assert "password_hash" not in body["user"]
    assert [role["name"] for role in body["roles"]] == ["member"]
    assert "files.write" in body["permissions"]
    assert "files.read" in body["permissions"]  # inherited from viewer
    assert "admin.users" not in body["permissions"]


async def test_no_credentials_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/users/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_identity_headers_from_clients_are_ignored(client: httpx.AsyncClient, user: User) -> None:
    response = await client.get(
        "/api/users/me", headers={"X-Forwarded-User": user.username, "Remote-User": user.username, "X-Remote-User": "admin"}
    )
    assert response.status_code == 401


async def test_refresh_rotates_and_reuse_revokes_the_family(client: httpx.AsyncClient, user: User) -> None:
    first = await login(client, user)
    rotated = await client.post("/api/auth/refresh", json={"refresh_token": first.refresh_token})
    assert rotated.status_code == 200
    second = rotated.json()
    assert second["refresh_token"] != first.refresh_token
    # The stolen (already used) token comes back: the whole session ends, the newest token included.
    reuse = await client.post("/api/auth/refresh", json={"refresh_token": first.refresh_token})
    assert reuse.status_code == 401
    assert "already used" in reuse.json()["detail"]
    newest = await client.post("/api/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert newest.status_code == 401
    me = await client.get("/api/users/me", headers={"Authorization": f"Bearer {second['access_token']}"})
    assert me.status_code == 401


async def test_reuse_detection_survives_a_restart(
    client: httpx.AsyncClient, user: User, settings: Settings, app: FastAPI, session: AsyncSession
) -> None:
    """GIVEN a rotated token WHEN a new server process (fresh memory, same database) sees it again THEN it revokes."""
    first = await login(client, user)
    assert (await client.post("/api/auth/refresh", json={"refresh_token": first.refresh_token})).status_code == 200
    restarted = create_app(settings, database=app.state.db)
    restarted.dependency_overrides = app.dependency_overrides
    async with LifespanManager(restarted) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as fresh:
            reuse = await fresh.post("/api/auth/refresh", json={"refresh_token": first.refresh_token})
    assert reuse.status_code == 401
    device = await session.scalar(select(Session).where(Session.user_id == user.id))
    assert device is not None
    await session.refresh(device)
    assert device.revoke_reason == "refresh_token_reuse"


async def test_logout_ends_the_session(client: httpx.AsyncClient, user: User) -> None:
    signed_in = await login(client, user)
    response = await client.post("/api/auth/logout", json={"refresh_token": signed_in.refresh_token})
    assert response.status_code == 204
    assert (await client.post("/api/auth/refresh", json={"refresh_token": signed_in.refresh_token})).status_code == 401
    assert (await client.get("/api/users/me", headers=signed_in.headers)).status_code == 401


async def test_sessions_listed_and_revoked(client: httpx.AsyncClient, user: User) -> None:
    laptop = await login(client, user)
    phone = await login(client, user)
    listed = await client.get("/api/users/me/sessions", headers=laptop.headers)
    assert listed.status_code == 200
    sessions = listed.json()
    assert len(sessions) == 2
    assert [entry["current"] for entry in sessions].count(True) == 1
    phone_id = next(entry["id"] for entry in sessions if not entry["current"])
    assert (await client.delete(f"/api/users/me/sessions/{phone_id}", headers=laptop.headers)).status_code == 204
    assert (await client.get("/api/users/me", headers=phone.headers)).status_code == 401
    assert (await client.post("/api/auth/refresh", json={"refresh_token": phone.refresh_token})).status_code == 401
    assert (await client.get("/api/users/me", headers=laptop.headers)).status_code == 200


async def test_change_password_ends_other_sessions(client: httpx.AsyncClient, user: User) -> None:
    here = await login(client, user)
    elsewhere = await login(client, user)
    weak = await client.post(
        "/api/users/me/password", json={"current_password": PASSWORD, "new_password": "short"}, headers=here.headers
    )
    assert weak.status_code == 422
    assert weak.json()["errors"][0]["loc"] == ["body", "new_password"]
    wrong = await client.post(
        "/api/users/me/password",
        json={"current_password": "nope-nope-nope", "new_password": "Quiet-Harbor-Lantern-77"},
        headers=here.headers,
    )
    assert wrong.status_code == 403
    done = await client.post(
        "/api/users/me/password",
        json={"current_password": PASSWORD, "new_password": "Quiet-Harbor-Lantern-77"},
        headers=here.headers,
    )
    assert done.status_code == 204
    assert (await client.get("/api/users/me", headers=elsewhere.headers)).status_code == 401
    assert (await client.get("/api/users/me", headers=here.headers)).status_code == 200
    old = await client.post("/api/auth/login", json={"username": user.username, "password": PASSWORD})
    assert old.status_code == 401
    new = await client.post("/api/auth/login", json={"username": user.username, "password": "Quiet-Harbor-Lantern-77"})
    assert new.status_code == 200


def _forge(payload: dict[str, object], header: dict[str, object]) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(payload)}."


async def _claims(client: httpx.AsyncClient, user: User) -> tuple[dict[str, object], str]:
    signed_in = await login(client, user)
    payload = jwt.decode(signed_in.access_token, options={"verify_signature": False})
    return payload, jwt.get_unverified_header(signed_in.access_token)["kid"]


async def test_alg_none_is_rejected(client: httpx.AsyncClient, user: User) -> None:
    payload, kid = await _claims(client, user)
    token = _forge(payload, {"alg": "none", "typ": "JWT", "kid": kid})
    assert (await client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})).status_code == 401


async def test_token_signed_by_another_key_is_rejected(client: httpx.AsyncClient, user: User) -> None:
    payload, kid = await _claims(client, user)
    token = jwt.encode(payload, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": kid})
    assert (await client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})).status_code == 401


async def test_hs256_with_the_public_key_is_rejected(client: httpx.AsyncClient, user: User) -> None:
    """The classic algorithm-confusion attack: sign HS256 with the published public key."""
    payload, kid = await _claims(client, user)
    jwk = next(key for key in (await client.get("/api/auth/jwks.json")).json()["keys"] if key["kid"] == kid)
    token = jwt.encode(payload, jwk["x"].encode() * 2, algorithm="HS256", headers={"kid": kid})
    assert (await client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})).status_code == 401


@pytest.mark.parametrize("change", ["audience", "expired", "issuer"])
async def test_wrong_audience_issuer_or_expired_is_rejected(
    client: httpx.AsyncClient, user: User, app: FastAPI, session: AsyncSession, change: str
) -> None:
    payload, kid = await _claims(client, user)
    keyring = app.state.keyring
    private = keyring._keys[kid].private
    now = utcnow()
    claims = dict(payload, aud=AUDIENCE, iss=ISSUER, iat=now, exp=now + timedelta(minutes=5))
    if change == "audience":
        claims["aud"] = "some-other-app"
    elif change == "issuer":
        claims["iss"] = "someone-else"
    else:
        claims["iat"], claims["exp"] = now - timedelta(hours=2), now - timedelta(hours=1)
    token = jwt.encode(claims, private, algorithm="EdDSA", headers={"kid": kid})
    response = await client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    if change == "expired":
        assert "expired" in response.json()["detail"]


async def test_key_rotation_keeps_old_tokens_valid(
    client: httpx.AsyncClient, user: User, app: FastAPI, session: AsyncSession
) -> None:
    before = await login(client, user)
    old_kid = jwt.get_unverified_header(before.access_token)["kid"]
    new_kid = await app.state.keyring.rotate(session)
    after = await login(client, user)
    assert jwt.get_unverified_header(after.access_token)["kid"] == new_kid != old_kid
    assert (await client.get("/api/users/me", headers=before.headers)).status_code == 200
    assert (await client.get("/api/users/me", headers=after.headers)).status_code == 200
    published = {key["kid"] for key in (await client.get("/api/auth/jwks.json")).json()["keys"]}
    assert {old_kid, new_kid} <= published
    assert all("d" not in key for key in (await client.get("/api/auth/jwks.json")).json()["keys"])  # no private part


async def test_no_token_in_urls(client: httpx.AsyncClient, user: User) -> None:
    signed_in = await login(client, user)
    response = await client.get(f"/api/users/me?access_token={signed_in.access_token}")
    assert response.status_code == 401


async def test_a_server_with_another_secret_verifies_and_signs_with_its_own_key(
    client: httpx.AsyncClient, user: User, settings: Settings, session: AsyncSession
) -> None:
    """GIVEN a key encrypted with one server's secret WHEN a server with another secret starts THEN it does not crash.

    It verifies the existing tokens with the published public half and signs with a key of its own.
    """
    signed_in = await login(client, user)
    first_kid = jwt.get_unverified_header(signed_in.access_token)["kid"]
    other = KeyRing(settings.model_copy(update={"secret_key": "a-different-secret-on-another-replica"}))
    claims = await other.verify(session, signed_in.access_token)
    assert claims.user_id == user.id
    token, _ = await other.issue(session, claims=claims)
    assert jwt.get_unverified_header(token)["kid"] != first_kid
    assert (await client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})).status_code == 200

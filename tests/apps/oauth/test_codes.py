"""Authorization codes in-process: an expired code is refused, and a refused redemption spends nothing."""

from __future__ import annotations

import secrets
from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.apps.oauth.models import OAuthClient, OAuthCode
from nubes.config import Settings
from nubes.core.db import utcnow
from nubes.core.ratelimit import RateLimiter
from nubes.identity.sessions.tokens import hash_token
from tests.factories import make_tenant, make_user

REDIRECT = "https://notes.example/cb"


async def _client_and_code(session: AsyncSession, settings: Settings, *, age: timedelta) -> tuple[OAuthClient, str, str]:
    tenant = await make_tenant(session)
    user = await make_user(session, settings, tenant)
    secret = secrets.token_urlsafe(16)
    client = OAuthClient(
        tenant_id=tenant.id, client_id=secrets.token_urlsafe(12), name="Notes", confidential=True,
        secret_hash=hash_token(secret), redirect_uris=[REDIRECT], post_logout_redirect_uris=[], scopes=["openid"],
        grant_types=["authorization_code"],
    )  # fmt: skip
    session.add(client)
    await session.flush()
    code = secrets.token_urlsafe(24)
    session.add(
        OAuthCode(
            code_hash=hash_token(code), tenant_id=tenant.id, user_id=user.id, client_pk=client.id, redirect_uri=REDIRECT,
            scopes=["openid"], created_at=utcnow() - age, expires_at=utcnow() - age + timedelta(seconds=60),
        )
    )  # fmt: skip
    await session.flush()
    return client, secret, code


async def test_an_expired_code_is_refused(client: httpx.AsyncClient, session: AsyncSession, settings: Settings) -> None:
    oauth_client, secret, code = await _client_and_code(session, settings, age=timedelta(seconds=61))
    answer = await client.post(
        "/oauth/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
        auth=(oauth_client.client_id, secret),
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"
    assert "expired" in answer.json()["error_description"]


async def test_a_fresh_code_works_once_and_a_bad_form_is_an_oauth_error(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    oauth_client, secret, code = await _client_and_code(session, settings, age=timedelta(seconds=0))
    auth = (oauth_client.client_id, secret)
    as_json = await client.post("/oauth/token", json={"grant_type": "authorization_code"}, auth=auth)
    assert as_json.json()["error"] == "invalid_request"
    unknown = await client.post("/oauth/token", data={"grant_type": "password"}, auth=auth)
    assert unknown.json()["error"] == "unsupported_grant_type"
    body = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    first = await client.post("/oauth/token", data=body, auth=auth)
    assert first.status_code == 200, first.text
    assert "refresh_token" not in first.json()  # the client may not refresh
    assert (await client.post("/oauth/token", data=body, auth=auth)).json()["error"] == "invalid_grant"


async def test_guessing_client_secrets_is_slowed_to_the_sign_in_limit_and_a_good_client_is_not(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    """GIVEN an address that sends wrong client secrets WHEN it has failed `login_rate_limit` times (10 a minute) THEN the
    token, revocation and introspection endpoints answer it 429 with Retry-After, even with the right secret; GIVEN a
    client that only succeeds THEN it is never counted."""
    oauth_client, secret, code = await _client_and_code(session, settings, age=timedelta(seconds=0))
    body = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    for _ in range(12):  # successes and non-counted refusals (a malformed request) leave the budget alone
        refused = await client.post("/oauth/token", data={"grant_type": "password"}, auth=(oauth_client.client_id, secret))
        assert refused.json()["error"] == "unsupported_grant_type"
    for attempt in range(10):
        wrong = await client.post("/oauth/token", data=body, auth=(oauth_client.client_id, f"guess-{attempt}"))
        assert wrong.status_code == 401, wrong.text
        assert wrong.json()["error"] == "invalid_client"
    for path in ("/oauth/token", "/oauth/revoke", "/oauth/introspect"):
        limited = await client.post(path, data=body | {"token": "x"}, auth=(oauth_client.client_id, secret))
        assert limited.status_code == 429, (path, limited.text)
        assert int(limited.headers["retry-after"]) >= 1
    # The limited attempts never reached the code: it is still unused once the window has passed (a fresh count here).
    app.state.rate_limiter = RateLimiter()
    granted = await client.post("/oauth/token", data=body, auth=(oauth_client.client_id, secret))
    assert granted.status_code == 200, granted.text

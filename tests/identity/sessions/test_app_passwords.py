"""App passwords and HTTP Basic auth for WebDAV and sync clients.

App passwords are made, listed and revoked in the account page (a session with sudo, never a token); Basic auth
accepts them (and personal access tokens) as the password of their owner only, and the account password only when
the account has no second factor. Verified credentials are cached until access changes; failures count against the
sign-in limits and are audited, and no password is ever written to a log, an audit row or an answer after creation.
"""

from __future__ import annotations

import json
import logging
import uuid
from functools import partial
from typing import Any

import httpx
import pytest
import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nubes.config import Settings
from nubes.core.audit import AuditEvent, Origin
from nubes.core.db import READ_ONLY, finish_on_exit, utcnow
from nubes.core.errors import TooManyRequests, Unauthorized
from nubes.core.ratelimit import RateLimiter
from nubes.identity.mfa.models import Passkey, TotpSecret
from nubes.identity.sessions import cache
from nubes.identity.sessions.models import PersonalAccessToken
from nubes.identity.sessions.service import AppPasswordRequired, Identity, identity_from_basic
from nubes.identity.sessions.usage import token_use
from nubes.identity.tenants.models import Tenant
from nubes.identity.users.models import User
from tests.factories import PASSWORD, SignedIn, login, make_tenant, make_user

URL = "/api/users/me/app-passwords"
HERE = Origin(ip="198.51.100.7", user_agent="davfs2/1.7")


@pytest.fixture
async def tenant(session: AsyncSession) -> Tenant:
    return await make_tenant(session)


@pytest.fixture
async def member(client: httpx.AsyncClient, session: AsyncSession, settings: Settings, tenant: Tenant) -> SignedIn:
    user = await make_user(session, settings, tenant, email=f"m-{uuid.uuid4().hex[:6]}@example.org")
    return await login(client, user)


def fresh_cache() -> cache.PrincipalCache:
    """A principal cache of this process (the listeners bump `cache.local` on every change of access)."""
    return cache.PrincipalCache(ttl=30, generations=cache.local)


async def basic(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    username: str,
    password: str,
    *,
    limiter: RateLimiter | None = None,
    principal_cache: cache.PrincipalCache | None = None,
) -> Identity:
    """One request's Basic check: its own session, committed as a request's (a failure's audit row kept)."""
    async with sessions() as session, finish_on_exit(session):
        return await identity_from_basic(
            session=session,
            settings=settings,
            limiter=limiter or RateLimiter(),
            username=username,
            password=password,
            origin=HERE,
            cache=principal_cache,
        )


async def refused(coroutine: Any) -> Unauthorized:
    """The 401 a Basic attempt ends with; it always challenges for Basic credentials again."""
    with pytest.raises(Unauthorized) as raised:
        await coroutine
    assert raised.value.headers is not None
    assert raised.value.headers["WWW-Authenticate"].startswith('Basic realm="Nubes"')
    return raised.value


async def make_app_password(client: httpx.AsyncClient, who: SignedIn, **body: object) -> dict[str, Any]:
    made = await client.post(URL, json={"name": "laptop", **body}, headers=who.headers)
    assert made.status_code == 201, made.text
    created: dict[str, Any] = made.json()
    return created


# --- making, listing, revoking ---------------------------------------------------------------------------------


async def test_an_app_password_is_shown_once_with_the_webdav_address_listed_and_revoked(
    client: httpx.AsyncClient, session: AsyncSession, member: SignedIn
) -> None:
    made = await client.post(URL, json={"name": "laptop (Nextcloud client)"}, headers=member.headers)
    assert made.status_code == 201, made.text
    assert made.headers["cache-control"] == "no-store"
    body = made.json()
    password = body["password"]
    assert password.startswith("nba_")
    assert body["prefix"] == password[:12]
    assert body["scopes"] == ["files.read", "files.write"]  # the default: files, nothing else
    assert body["username"] == member.user.username
    assert body["webdav_url"] == f"http://testserver/dav/files/{member.user.username}/"
    stored = await session.get(PersonalAccessToken, uuid.UUID(body["id"]))
    assert stored is not None
    assert stored.kind == "app"
    assert password not in stored.token_hash

    token = await client.post("/api/users/me/tokens", json={"name": "script", "scopes": ["files.read"]}, headers=member.headers)
    assert token.status_code == 201
    listed = (await client.get(URL, headers=member.headers)).json()
    assert [entry["name"] for entry in listed] == ["laptop (Nextcloud client)"]  # tokens are listed apart
    assert set(listed[0]) == {"id", "name", "prefix", "scopes", "created_at", "last_used_at", "last_used_ip"}
    assert [entry["name"] for entry in (await client.get("/api/users/me/tokens", headers=member.headers)).json()] == ["script"]
    # Each list's revocation refuses the other kind.
    assert (await client.delete(f"{URL}/{token.json()['id']}", headers=member.headers)).status_code == 404
    assert (await client.delete(f"/api/users/me/tokens/{body['id']}", headers=member.headers)).status_code == 404

    assert (await client.delete(f"{URL}/{body['id']}", headers=member.headers)).status_code == 204
    assert (await client.get(URL, headers=member.headers)).json() == []
    actions = await session.scalars(
        select(AuditEvent.action).where(AuditEvent.actor_id == member.user.id, AuditEvent.action.like("app_password.%"))
    )
    assert sorted(actions) == ["app_password.create", "app_password.revoke"]


async def test_scopes_are_chosen_and_never_beyond_the_users(client: httpx.AsyncClient, member: SignedIn) -> None:
    chosen = await make_app_password(client, member, scopes=["files.read"])
    assert chosen["scopes"] == ["files.read"]
    beyond = await client.post(URL, json={"name": "x", "scopes": ["admin.users"]}, headers=member.headers)
    assert beyond.status_code == 403
    assert "admin.users" in beyond.json()["detail"]
    empty = await client.post(URL, json={"name": "x", "scopes": []}, headers=member.headers)
    assert empty.status_code == 422
    unnamed = await client.post(URL, json={"name": ""}, headers=member.headers)
    assert unnamed.status_code == 422
    unknown = await client.post(URL, json={"name": "x", "scopes": ["files.everything"]}, headers=member.headers)
    assert unknown.status_code == 422


async def test_only_a_session_makes_app_passwords_and_an_app_password_is_no_bearer_token(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, member: SignedIn
) -> None:
    token = await client.post("/api/users/me/tokens", json={"name": "s", "scopes": ["files.read"]}, headers=member.headers)
    bearer = {"Authorization": f"Bearer {token.json()['token']}"}
    assert (await client.post(URL, json={"name": "x"}, headers=bearer)).status_code == 403
    assert (await client.get(URL, headers=bearer)).status_code == 403
    app_password = (await make_app_password(client, member))["password"]
    as_bearer = {"Authorization": f"Bearer {app_password}"}
    assert (await client.get("/api/users/me", headers=as_bearer)).status_code == 401
    assert (await client.get(URL, headers=as_bearer)).status_code == 401


async def test_another_users_app_password_cannot_be_revoked_or_seen(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, member: SignedIn
) -> None:
    made = await make_app_password(client, member)
    stranger = await login(client, await make_user(session, settings, await make_tenant(session)))
    neighbour = await login(client, await make_user(session, settings, await session.get_one(Tenant, member.user.tenant_id)))
    for other in (stranger, neighbour):
        assert (await client.delete(f"{URL}/{made['id']}", headers=other.headers)).status_code == 404
        assert (await client.get(URL, headers=other.headers)).json() == []
    assert (await client.delete(f"{URL}/{uuid.uuid4()}", headers=member.headers)).status_code == 404
    assert (await client.delete(f"{URL}/not-an-id", headers=member.headers)).status_code == 422
    assert len((await client.get(URL, headers=member.headers)).json()) == 1


# --- Basic auth -------------------------------------------------------------------------------------------------


async def test_basic_takes_an_app_password_of_its_owner_by_username_or_email(
    client: httpx.AsyncClient,
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    member: SignedIn,
) -> None:
    made = await make_app_password(client, member)
    user = member.user
    identity = await basic(sessions, settings, user.username, made["password"])
    assert identity.principal.user_id == user.id
    assert identity.principal.permissions == frozenset({"files.read", "files.write"})
    assert identity.principal.credential == "token"  # it cannot manage credentials
    assert (await basic(sessions, settings, f"  {user.username.upper()} ", made["password"])).principal.user_id == user.id
    assert user.email is not None
    assert (await basic(sessions, settings, user.email, made["password"])).principal.user_id == user.id
    # A personal access token works too (for now), with its own scopes.
    token = await client.post("/api/users/me/tokens", json={"name": "s", "scopes": ["files.read"]}, headers=member.headers)
    by_token = await basic(sessions, settings, user.username, token.json()["token"])
    assert by_token.principal.permissions == frozenset({"files.read"})

    # The last use and its address are written later, in a batch, not by the request.
    row = await session.get_one(PersonalAccessToken, uuid.UUID(made["id"]))
    assert row.last_used_ip is None
    assert await token_use.flush(sessions) >= 1
    await session.refresh(row)
    assert row.last_used_at is not None
    assert row.last_used_ip == HERE.ip
    listed = (await client.get(URL, headers=member.headers)).json()
    assert listed[0]["last_used_ip"] == HERE.ip


async def test_basic_refuses_another_users_or_tenants_name_and_nonsense(  # noqa: PLR0917 - fixtures
    client: httpx.AsyncClient,
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    member: SignedIn,
    tenant: Tenant,
) -> None:
    password = (await make_app_password(client, member))["password"]
    neighbour = await make_user(session, settings, tenant)
    elsewhere = await make_user(session, settings, await make_tenant(session))
    for name in (neighbour.username, elsewhere.username, "nobody-at-all", ""):
        error = await refused(basic(sessions, settings, name, password))
        assert password not in str(error.detail)
    for wrong in (password + "x", password[:-1], "nba_", "nbp_guess", ""):
        await refused(basic(sessions, settings, member.user.username, wrong))


async def test_a_revoked_app_password_is_refused_at_once_though_it_was_cached(
    client: httpx.AsyncClient,
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    member: SignedIn,
) -> None:
    made = await make_app_password(client, member)
    principal_cache = fresh_cache()
    for _ in range(3):
        await basic(sessions, settings, member.user.username, made["password"], principal_cache=principal_cache)
    assert (principal_cache.misses, principal_cache.hits) == (1, 2)
    assert (await client.delete(f"{URL}/{made['id']}", headers=member.headers)).status_code == 204
    await refused(basic(sessions, settings, member.user.username, made["password"], principal_cache=principal_cache))


async def test_the_account_password_works_without_a_second_factor_and_is_verified_once(
    client: httpx.AsyncClient,
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    member: SignedIn,
) -> None:
    principal_cache = fresh_cache()
    limiter = RateLimiter()
    for _ in range(15):  # beyond the sign-in limit (10/minute): hits are neither verified nor counted
        identity = await basic(
            sessions, settings, member.user.username, PASSWORD, principal_cache=principal_cache, limiter=limiter
        )
    assert identity.principal.user_id == member.user.id
    assert identity.principal.credential == "token"
    assert not identity.principal.is_superadmin
    assert "files.write" in identity.principal.permissions
    assert (principal_cache.misses, principal_cache.hits) == (1, 14)
    await refused(basic(sessions, settings, member.user.username, PASSWORD + "!", principal_cache=principal_cache))


async def test_a_password_change_deactivation_or_new_second_factor_ends_a_cached_basic_caller(
    client: httpx.AsyncClient,
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    tenant: Tenant,
) -> None:
    owner = await login(client, await make_user(session, settings, tenant, roles=("owner",)))
    principal_cache = fresh_cache()

    changing = await login(client, await make_user(session, settings, tenant))
    await basic(sessions, settings, changing.user.username, PASSWORD, principal_cache=principal_cache)
    new_password = "Quiet-Harbor-Lantern-77"
    changed = await client.post(
        "/api/users/me/password", json={"current_password": PASSWORD, "new_password": new_password}, headers=changing.headers
    )
    assert changed.status_code == 204, changed.text
    await refused(basic(sessions, settings, changing.user.username, PASSWORD, principal_cache=principal_cache))
    await basic(sessions, settings, changing.user.username, new_password, principal_cache=principal_cache)

    leaving = await login(client, await make_user(session, settings, tenant))
    app_password = (await make_app_password(client, leaving))["password"]
    for password in (PASSWORD, app_password):
        await basic(sessions, settings, leaving.user.username, password, principal_cache=principal_cache)
    hits = principal_cache.hits
    await basic(sessions, settings, leaving.user.username, PASSWORD, principal_cache=principal_cache)
    assert principal_cache.hits == hits + 1
    deactivated = await client.patch(f"/api/admin/users/{leaving.user.id}", json={"is_active": False}, headers=owner.headers)
    assert deactivated.status_code == 200, deactivated.text
    for password in (PASSWORD, app_password):
        await refused(basic(sessions, settings, leaving.user.username, password, principal_cache=principal_cache))

    securing = await make_user(session, settings, tenant)
    await basic(sessions, settings, securing.username, PASSWORD, principal_cache=principal_cache)
    session.add(TotpSecret(user_id=securing.id, tenant_id=tenant.id, secret="sealed", confirmed_at=utcnow()))
    await session.flush()
    error = await refused(basic(sessions, settings, securing.username, PASSWORD, principal_cache=principal_cache))
    assert isinstance(error, AppPasswordRequired)


async def test_with_a_second_factor_the_account_password_is_refused_with_the_way_out(
    client: httpx.AsyncClient,
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    tenant: Tenant,
) -> None:
    with_totp = await login(client, await make_user(session, settings, tenant))
    enrolled = await client.post("/api/users/me/totp", headers=with_totp.headers)
    assert enrolled.status_code in {200, 201}, enrolled.text
    await basic(sessions, settings, with_totp.user.username, PASSWORD)  # not confirmed yet: not a second factor
    secret = await session.get_one(TotpSecret, with_totp.user.id)  # the API's enrollment, confirmed by hand
    secret.confirmed_at = utcnow()
    await session.flush()
    with_passkey = await make_user(session, settings, tenant)
    session.add(
        Passkey(
            tenant_id=tenant.id, user_id=with_passkey.id, credential_id=b"c-" + uuid.uuid4().bytes, public_key=b"k", name="key"
        )
    )
    await session.flush()

    for user in (with_totp.user, with_passkey):
        error = await refused(basic(sessions, settings, user.username, PASSWORD))
        assert isinstance(error, AppPasswordRequired)
        assert "app password" in str(error.detail)
        assert error.code == "app-password-required"
        reasons = await session.scalars(
            select(AuditEvent.detail).where(AuditEvent.actor_id == user.id, AuditEvent.outcome == "failure")
        )
        assert {"reason": "basic_with_second_factor", "via": "basic"} in list(reasons)
    # Their app passwords still work.
    password = (await make_app_password(client, with_totp))["password"]
    assert (await basic(sessions, settings, with_totp.user.username, password)).principal.user_id == with_totp.user.id


async def test_guessing_over_basic_meets_the_sign_in_limits(  # noqa: PLR0917 - fixtures
    client: httpx.AsyncClient,
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    member: SignedIn,
    tenant: Tenant,
) -> None:
    assert settings.login_rate_limit == "10/minute"
    limiter = RateLimiter()
    for attempt in range(10):
        await refused(basic(sessions, settings, member.user.username, f"guess-{attempt}", limiter=limiter))
    with pytest.raises(TooManyRequests):
        await basic(sessions, settings, member.user.username, "guess-10", limiter=limiter)
    with pytest.raises(TooManyRequests):  # the right password too, once the account is locked
        await basic(sessions, settings, member.user.username, PASSWORD, limiter=limiter)

    # Wrong app passwords count as well (per address here: another account, the same address).
    other = await make_user(session, settings, tenant)
    guessing = RateLimiter()
    for attempt in range(10):
        await refused(basic(sessions, settings, other.username, f"nba_guess{attempt}", limiter=guessing))
    with pytest.raises(TooManyRequests):
        await basic(sessions, settings, other.username, "nba_guess-last", limiter=guessing)
    # A valid app password is not counted: a sync client never locks its own office out.
    password = (await make_app_password(client, member))["password"]
    counted = RateLimiter()
    for _ in range(20):
        await basic(sessions, settings, member.user.username, password, limiter=counted)


async def test_basic_over_http_on_the_webdav_tree(
    client: httpx.AsyncClient, session: AsyncSession, sessions: async_sessionmaker[AsyncSession], member: SignedIn
) -> None:
    """GIVEN the WebDAV tree at /dav/files/<user>/ WHEN a client sends Basic credentials THEN an app password gets in
    (its use noted with the address), a wrong or revoked one gets a Basic challenge, and so does the account password
    once the account has a second factor, with the way out in the answer."""
    username = member.user.username
    home = f"/dav/files/{username}/"
    password = (await make_app_password(client, member))["password"]
    options = await client.options(home, auth=(username, password))
    assert options.status_code in {200, 204}, options.text
    listing = await client.request("PROPFIND", home, headers={"Depth": "0"}, auth=(username, password))
    assert listing.status_code == 207, listing.text
    anonymous = await client.request("PROPFIND", home, headers={"Depth": "0"})
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Basic")
    wrong = await client.request("PROPFIND", home, headers={"Depth": "0"}, auth=(username, password + "x"))
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"].startswith("Basic")
    assert password not in wrong.text
    await token_use.flush(sessions)
    listed = (await client.get(URL, headers=member.headers)).json()
    assert listed[0]["last_used_at"] is not None
    assert listed[0]["last_used_ip"] == "127.0.0.1"

    made = await make_app_password(client, member, name="phone")
    phone = (username, made["password"])
    assert (await client.request("PROPFIND", home, headers={"Depth": "0"}, auth=phone)).status_code == 207
    assert (await client.delete(f"{URL}/{made['id']}", headers=member.headers)).status_code == 204
    assert (await client.request("PROPFIND", home, headers={"Depth": "0"}, auth=phone)).status_code == 401

    account = (username, PASSWORD)
    assert (await client.request("PROPFIND", home, headers={"Depth": "0"}, auth=account)).status_code == 207
    session.add(TotpSecret(user_id=member.user.id, tenant_id=member.user.tenant_id, secret="sealed", confirmed_at=utcnow()))
    await session.flush()
    refused_answer = await client.request("PROPFIND", home, headers={"Depth": "0"}, auth=account)
    assert refused_answer.status_code == 401
    assert refused_answer.json()["type"] == "urn:nubes:problem:app-password-required"
    assert "app password" in refused_answer.json()["detail"]
    assert (await client.request("PROPFIND", home, headers={"Depth": "0"}, auth=(username, password))).status_code == 207


async def test_guessing_over_http_meets_the_sign_in_limit(client: httpx.AsyncClient, member: SignedIn) -> None:
    home = f"/dav/files/{member.user.username}/"
    answers = [
        (await client.request("PROPFIND", home, headers={"Depth": "0"}, auth=(member.user.username, f"guess-{n}"))).status_code
        for n in range(11)
    ]
    # The member's sign-in through the form counted too: one budget per address (10/minute), shared with POST /login.
    assert answers == [401] * 9 + [429] * 2
    later = await client.request("PROPFIND", home, headers={"Depth": "0"}, auth=(member.user.username, PASSWORD))
    assert later.status_code == 429
    assert int(later.headers["retry-after"]) > 0


# --- audit, logs, read-only requests ---------------------------------------------------------------------------


async def test_failures_are_audited_and_no_password_reaches_a_log_a_row_or_an_answer(  # noqa: PLR0917 - fixtures
    client: httpx.AsyncClient,
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    member: SignedIn,
    caplog: pytest.LogCaptureFixture,
) -> None:
    made = await make_app_password(client, member)
    secret = made["password"]
    listed = await client.get(URL, headers=member.headers)
    assert secret not in listed.text
    caplog.set_level(logging.DEBUG)
    with structlog.testing.capture_logs() as logs:
        await refused(basic(sessions, settings, member.user.username, secret + "x"))
        await refused(basic(sessions, settings, member.user.username, PASSWORD + "x"))
        # A read-only request (GET) writes its failures through the writer sessions, committed at once.
        async with sessions(info={READ_ONLY: True}) as reading:
            check = partial(identity_from_basic, session=reading, settings=settings, limiter=RateLimiter(), origin=HERE)
            await refused(check(username=member.user.username, password=secret[:-1], writer=sessions))
            await check(username=member.user.username, password=secret, writer=sessions)
            await check(username=member.user.username, password=PASSWORD, writer=sessions)  # no rehash: no write
            # Without a writer, a read-only request's failure is logged (not a 500).
            await refused(check(username=member.user.username, password="wrong-password"))
            # (Read here: in this test the reading session shares the writer's connection and rolls it back.)
            rows = list(
                await session.scalars(
                    select(AuditEvent).where(AuditEvent.actor_id == member.user.id, AuditEvent.outcome == "failure")
                )
            )
    assert sorted(row.detail["reason"] for row in rows) == ["bad_app_password", "bad_app_password", "bad_password"]
    assert {row.ip for row in rows} == {HERE.ip}
    logged = json.dumps(logs, default=str) + caplog.text
    assert any(entry.get("event") == "auth.basic_failed" for entry in logs)
    written = json.dumps([(row.detail, row.actor_name, row.target_id, row.user_agent) for row in rows])
    for password in (secret, PASSWORD, "wrong-password"):
        assert password not in logged
        assert password not in written


async def test_an_unknown_account_is_audited_under_the_name_given(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    name = f"ghost-{uuid.uuid4().hex[:6]}"
    await refused(basic(sessions, settings, name, "some-password"))
    row = await session.scalar(select(AuditEvent).where(AuditEvent.actor_name == name))
    assert row is not None
    assert row.outcome == "failure"
    assert row.actor_id is None


async def test_an_inactive_account_cannot_use_basic(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession], settings: Settings, tenant: Tenant
) -> None:
    user = await make_user(session, settings, tenant)
    user_row = await session.get_one(User, user.id)
    user_row.is_active = False
    await session.flush()
    await refused(basic(sessions, settings, user.username, PASSWORD))

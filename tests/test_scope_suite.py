"""The scope suite, driven by the OpenAPI schema's `x-nubes-access`: a token is never more than its scopes.

- Every operation not in PUBLIC declares exactly one access rule; `signed-in` only on reads, `sudo` only on writes.
- `scopes`: a personal access token of an owner that lacks one of the codes gets 403 and changes nothing
  (and one holding every scope is let through the rule on reads: the denial is about the scope).
- `session` and `sudo` (credential management): every personal access token is refused, even one with all
  scopes; `superadmin`: every token is refused, even a super-admin's.
- `sudo`: a session whose last proof of identity is older than NUBES_SUDO_TTL gets
  `reauthentication-required` and changes nothing, until POST /api/auth/sudo.

Each test names operations it must at least have checked, so it cannot pass by checking nothing.
Then the regression tests of the attack (issue 11, item 2) and of cross-site sign-out.
"""

from __future__ import annotations

import re
import time
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pyotp
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core.db import utcnow
from nubes.identity.mfa.models import Passkey, TotpSecret
from nubes.identity.roles.catalog import CODES
from nubes.identity.sessions.models import PersonalAccessToken, Session
from nubes.identity.sessions.tokens import new_personal_token
from nubes.identity.tenants.models import Tenant
from nubes.identity.users.models import User
from tests.access import BODIES, PUBLIC
from tests.factories import PASSWORD, SignedIn, login, make_tenant, make_user
from tests.identity.softauthn import SoftAuthenticator
from tests.snapshots import writes_during

SESSION_REQUIRED = "urn:nubes:problem:session-required"
REAUTHENTICATION_REQUIRED = "urn:nubes:problem:reauthentication-required"
KINDS = {"scopes", "superadmin", "signed-in", "session", "sudo"}
# Credential management: never with a token, writes only in sudo mode. Downgrading one of these fails here.
CREDENTIAL_READS = {"users-me-sessions", "users-me-tokens", "users-me-app-passwords", "users-me-passkeys", "users-me-totp"}
CREDENTIAL_WRITES = {
    "users-me-password",
    "users-me-sessions-revoke",
    "users-me-tokens-create",
    "users-me-tokens-revoke",
    "users-me-app-passwords-create",
    "users-me-app-passwords-revoke",
    "users-me-passkeys-options",
    "users-me-passkeys-create",
    "users-me-passkeys-update",
    "users-me-passkeys-delete",
    "users-me-totp-begin",
    "users-me-totp-confirm",
    "users-me-totp-disable",
    "users-me-recovery-codes",
}
SCOPED_AT_LEAST = {
    "files-list",
    "files-upload",
    "files-update",
    "files-trash",
    "files-links-create",
    "files-shares-create",
    "directory-search",
    "users-me-quota",
    "uploads-create",
    "admin-users-list",
    "admin-users-update",
    "admin-roles-create",
    "admin-groups-members-add",
    "admin-audit",
    "containers-list",
    "containers-power",
    "containers-console-ticket",
    "containers-files-upload",
    "admin-settings-links-update",
}
ORIGIN = "http://testserver"

_PARAM = re.compile(r"\{(\w+)\}")
_METHODS = ("get", "post", "put", "patch", "delete")


# A refused call may stamp a token's last use; that is not a change of data.
TOKEN_LAST_USE = frozenset({("personal_access_tokens", "last_used_at")})


def _operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in app.openapi()["paths"].items()
        for method, operation in item.items()
        if method in _METHODS
    ]


def _url(path: str) -> str:
    return _PARAM.sub(lambda _: str(uuid.uuid4()), path)


async def _token(session: AsyncSession, user: User, scopes: set[str]) -> dict[str, str]:
    """Bearer headers of a personal access token of `user` with `scopes` (made as the service would store it)."""
    token, token_hash = new_personal_token()
    session.add(
        PersonalAccessToken(
            tenant_id=user.tenant_id,
            user_id=user.id,
            name="probe",
            token_hash=token_hash,
            prefix=token[:12],
            scopes=sorted(scopes),
        )
    )
    await session.flush()
    return {"Authorization": f"Bearer {token}"}


async def _age_reauthentication(session: AsyncSession, settings: Settings, user: User) -> None:
    """As if the user's sessions had been signed in (and last proved) longer ago than the sudo window."""
    stale = utcnow() - timedelta(seconds=settings.sudo_ttl + 5)
    await session.execute(update(Session).where(Session.user_id == user.id).values(reauthenticated_at=stale))
    await session.flush()


@pytest.fixture
async def tenant(session: AsyncSession) -> Tenant:
    return await make_tenant(session)


@pytest.fixture
async def owner(session: AsyncSession, settings: Settings, tenant: Tenant) -> User:
    """A user who holds every permission of the tenant, so only a token's scopes can be what is missing."""
    return await make_user(session, settings, tenant, roles=("owner",))


def _request(client: httpx.AsyncClient, method: str, path: str, operation: dict[str, Any], headers: dict[str, str]) -> Any:
    return client.request(method, _url(path), json=BODIES.get(operation["operationId"]), headers=headers)


# --- the declarations ------------------------------------------------------------------------------


def test_every_operation_declares_exactly_one_access_rule(app: FastAPI) -> None:
    declared: dict[str, str] = {}
    for method, path, operation in _operations(app):
        name, access = operation["operationId"], operation.get("x-nubes-access")
        if name in PUBLIC:
            assert access is None, f"{method} {path} is public but declares {access}"
            continue
        assert access is not None, f"{method} {path}: declare require(...), require_session(), require_sudo()... on it"
        assert access["kind"] in KINDS
        if access["kind"] == "scopes":
            assert access["scopes"], f"{method} {path} requires no scope"
            assert set(access["scopes"]) <= CODES, f"{method} {path} names unknown scopes"
        if access["kind"] == "signed-in":
            assert method == "GET", f"{method} {path}: any token may call a signed-in route; only harmless reads may be"
        if access["kind"] == "sudo":
            assert method != "GET", f"{method} {path}: reads of credentials need a session, not sudo"
        declared[name] = access["kind"]
    assert all(declared[name] == "session" for name in CREDENTIAL_READS)
    assert all(declared[name] == "sudo" for name in CREDENTIAL_WRITES)
    assert all(declared[name] == "scopes" for name in SCOPED_AT_LEAST)
    assert {name for name, kind in declared.items() if kind == "signed-in"} <= {"users-me", "users-me-groups"}


# --- personal access tokens ---------------------------------------------------------------------


async def test_a_token_without_the_scope_an_operation_needs_gets_403(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, owner: User
) -> None:
    without = {code: await _token(session, owner, set(CODES) - {code}) for code in CODES}
    everything = await _token(session, owner, set(CODES))
    checked, let_through = set(), set()
    for method, path, operation in _operations(app):
        access = operation.get("x-nubes-access")
        if access is None or access["kind"] != "scopes":
            continue
        for code in access["scopes"]:
            async with writes_during(session, ignore=TOKEN_LAST_USE) as writes:
                response = await _request(client, method, path, operation, without[code])
            assert response.status_code == 403, f"{method} {path} without {code}: {response.status_code} {response.text}"
            assert code in response.json()["detail"]
            assert writes == [], f"{method} {path} changed data for a token without {code}"
        checked.add(operation["operationId"])
        if method == "GET":
            # The control: with every scope the same token passes the rule (a 404 for a random id is fine).
            response = await _request(client, method, path, operation, everything)
            if response.status_code != 403:
                let_through.add(operation["operationId"])
    assert checked >= SCOPED_AT_LEAST, f"not checked: {SCOPED_AT_LEAST - checked}"
    controls = {"files-list", "admin-users-list", "admin-audit", "containers-list", "directory-search", "users-me-quota"}
    assert controls <= let_through, f"refused even with every scope: {controls - let_through}"


async def test_credential_management_refuses_every_token_even_with_all_scopes(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, settings: Settings, tenant: Tenant
) -> None:
    superadmin = await make_user(session, settings, tenant, roles=("owner",), superadmin=True)
    everything = await _token(session, superadmin, set(CODES))
    checked = set()
    for method, path, operation in _operations(app):
        access = operation.get("x-nubes-access")
        if access is None or access["kind"] not in {"session", "sudo", "superadmin"}:
            continue
        async with writes_during(session, ignore=TOKEN_LAST_USE) as writes:
            response = await _request(client, method, path, operation, everything)
        assert response.status_code == 403, f"{method} {path} let a token through: {response.status_code} {response.text}"
        if access["kind"] != "superadmin":
            assert response.json()["type"] == SESSION_REQUIRED, f"{method} {path}: {response.text}"
        assert writes == [], f"{method} {path} changed data for a token"
        checked.add(operation["operationId"])
    must = CREDENTIAL_READS | CREDENTIAL_WRITES | {"auth-sudo", "admin-tenants-create", "nodes-create"}
    assert checked >= must, f"not checked: {must - checked}"


# --- sudo mode ------------------------------------------------------------------------------------


async def test_credential_changes_need_a_recent_reauthentication(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, settings: Settings, owner: User
) -> None:
    signed_in = await login(client, owner)
    await _age_reauthentication(session, settings, owner)
    checked = set()
    for method, path, operation in _operations(app):
        access = operation.get("x-nubes-access")
        if access is None or access["kind"] != "sudo":
            continue
        async with writes_during(session, ignore=TOKEN_LAST_USE) as writes:
            response = await _request(client, method, path, operation, signed_in.headers)
        assert response.status_code == 403, f"{method} {path} without a recent re-authentication: {response.status_code}"
        problem = response.json()
        assert problem["type"] == REAUTHENTICATION_REQUIRED
        assert problem["methods"] == ["password"]
        assert writes == [], f"{method} {path} changed data without a recent re-authentication"
        checked.add(operation["operationId"])
    assert checked >= CREDENTIAL_WRITES, f"not checked: {CREDENTIAL_WRITES - checked}"
    # Reads of one's credentials need a session, not a fresh proof.
    assert (await client.get("/api/users/me/tokens", headers=signed_in.headers)).status_code == 200


async def _browser_sign_in(client: httpx.AsyncClient, user: User) -> dict[str, str]:
    """Sign in as the browser does (cookies kept); the headers a same-origin write sends."""
    response = await client.post("/api/auth/login", json={"username": user.username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Origin": ORIGIN, "X-CSRF-Token": client.cookies["nubes_csrf"]}


async def test_a_browser_session_confirms_with_its_password_then_may_change_credentials(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, owner: User
) -> None:
    """GIVEN a browser signed in long ago WHEN it makes a token THEN it must confirm first, and then it may."""
    browser = await _browser_sign_in(client, owner)
    fresh = await client.post("/api/users/me/tokens", json={"name": "fresh", "scopes": ["files.read"]}, headers=browser)
    assert fresh.status_code == 201, fresh.text  # signing in is a fresh proof
    await _age_reauthentication(session, settings, owner)
    body = {"name": "script", "scopes": ["files.read"]}
    refused = await client.post("/api/users/me/tokens", json=body, headers=browser)
    assert refused.status_code == 403
    assert refused.json()["type"] == REAUTHENTICATION_REQUIRED
    wrong = await client.post("/api/auth/sudo", json={"password": "not-my-password"}, headers=browser)
    assert wrong.status_code == 403
    assert wrong.json()["type"] == "urn:nubes:problem:reauthentication-failed"
    assert (await client.post("/api/users/me/tokens", json=body, headers=browser)).status_code == 403
    cross_site = await client.post(
        "/api/auth/sudo", json={"password": PASSWORD}, headers={**browser, "Origin": "https://evil.example"}
    )
    assert cross_site.status_code == 403
    confirmed = await client.post("/api/auth/sudo", json={"password": PASSWORD}, headers=browser)
    assert confirmed.status_code == 200, confirmed.text
    assert "expires_at" in confirmed.json()
    assert (await client.post("/api/users/me/tokens", json=body, headers=browser)).status_code == 201
    audited = (await client.get("/api/admin/audit", params={"action": "auth.sudo"}, headers=browser)).json()["items"]
    assert sorted(row["outcome"] for row in audited) == ["failure", "success"]


async def test_a_passkey_or_an_authenticator_code_also_confirms(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, owner: User, tenant: Tenant
) -> None:
    me = await login(client, owner)
    mine = SoftAuthenticator(origin=ORIGIN)
    options = (await client.post("/api/users/me/passkeys/options", headers=me.headers)).json()
    credential = mine.create(options["public_key"])
    added = await client.post(
        "/api/users/me/passkeys", json={"token": options["token"], "name": "Laptop", "credential": credential}, headers=me.headers
    )
    assert added.status_code == 201, added.text
    # Someone else's passkey does not confirm that it is me.
    other = await login(client, await make_user(session, settings, tenant))
    theirs = SoftAuthenticator(origin=ORIGIN)
    their_options = (await client.post("/api/users/me/passkeys/options", headers=other.headers)).json()
    assert (
        await client.post(
            "/api/users/me/passkeys",
            json={"token": their_options["token"], "name": "Phone", "credential": theirs.create(their_options["public_key"])},
            headers=other.headers,
        )
    ).status_code == 201

    await _age_reauthentication(session, settings, owner)
    refused = await client.delete(f"/api/users/me/passkeys/{added.json()['id']}", headers=me.headers)
    assert refused.json()["methods"] == ["password", "passkey"]

    async def confirm_with(authenticator: SoftAuthenticator) -> httpx.Response:
        sudo_options = (await client.post("/api/auth/sudo/passkey-options", headers=me.headers)).json()
        allowed = sudo_options["public_key"]["allowCredentials"]
        assert [entry["id"] for entry in allowed] == [credential["id"]]
        assertion = authenticator.get(sudo_options["public_key"], rp_id="testserver")
        return await client.post(
            "/api/auth/sudo", json={"passkey": {"token": sudo_options["token"], "credential": assertion}}, headers=me.headers
        )

    assert (await confirm_with(theirs)).status_code == 403
    assert (await confirm_with(mine)).status_code == 200
    # Fresh again: turn TOTP on, then let the proof age and confirm with a recovery code.
    begun = (await client.post("/api/users/me/totp", headers=me.headers)).json()
    totp = pyotp.TOTP(begun["secret"])
    codes = (await client.post("/api/users/me/totp/confirm", json={"code": totp.at(time.time())}, headers=me.headers)).json()
    await _age_reauthentication(session, settings, owner)
    assert (await client.post("/api/users/me/recovery-codes", json={"password": PASSWORD}, headers=me.headers)).status_code == 403
    assert (await client.post("/api/auth/sudo", json={"code": codes["codes"][0]}, headers=me.headers)).status_code == 200
    assert (await client.post("/api/users/me/recovery-codes", json={"password": PASSWORD}, headers=me.headers)).status_code == 200


# --- the attack, end to end ---------------------------------------------------------------------


async def test_a_files_read_token_cannot_take_over_its_account(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, tenant: Tenant
) -> None:
    """GIVEN a token limited to files.read WHEN it tries to enrol a passkey or TOTP, change the password,
    list or end sessions, or make or revoke tokens THEN each is refused, and the account is unchanged."""
    member = await make_user(session, settings, tenant, roles=("member",))
    me = await login(client, member)
    created = await client.post("/api/users/me/tokens", json={"name": "backup", "scopes": ["files.read"]}, headers=me.headers)
    assert created.status_code == 201, created.text
    token = {"Authorization": f"Bearer {created.json()['token']}"}
    assert (await client.get("/api/files", headers=token)).status_code == 200
    assert (await client.get("/api/users/me", headers=token)).status_code == 200  # who am I: allowed, read only
    session_id = await session.scalar(select(Session.id).where(Session.user_id == member.id))
    attempts = [
        ("POST", "/api/users/me/passkeys/options", None),
        ("POST", "/api/users/me/passkeys", {"token": "x", "name": "evil", "credential": {}}),
        ("POST", "/api/users/me/totp", None),
        ("POST", "/api/users/me/totp/confirm", {"code": "123456"}),
        ("POST", "/api/users/me/password", {"current_password": PASSWORD, "new_password": "Evil-Takeover-Password-99"}),
        ("GET", "/api/users/me/sessions", None),
        ("DELETE", f"/api/users/me/sessions/{session_id}", None),
        ("GET", "/api/users/me/tokens", None),
        ("POST", "/api/users/me/tokens", {"name": "child", "scopes": ["files.read"]}),
        ("DELETE", f"/api/users/me/tokens/{created.json()['id']}", None),
        ("POST", "/api/auth/sudo", {"password": PASSWORD}),
    ]
    for method, url, body in attempts:
        response = await client.request(method, url, json=body, headers=token)
        assert response.status_code == 403, f"{method} {url}: {response.status_code} {response.text}"
        assert response.json()["type"] == SESSION_REQUIRED
    assert await session.scalar(select(Passkey.id).where(Passkey.user_id == member.id)) is None
    assert await session.scalar(select(TotpSecret.user_id).where(TotpSecret.user_id == member.id)) is None
    assert (await client.get("/api/users/me/tokens", headers=me.headers)).status_code == 200
    assert (await client.get("/api/users/me", headers=me.headers)).status_code == 200  # the session still lives
    assert (await client.get("/api/files", headers=token)).status_code == 200  # and the token too
    assert (await login(client, member)).access_token  # the password did not change


# --- sign-out from another site -----------------------------------------------------------------


async def test_sign_out_from_another_site_is_refused(client: httpx.AsyncClient, owner: User) -> None:
    browser = await _browser_sign_in(client, owner)
    forged = await client.post("/api/auth/logout", headers={"Origin": "https://evil.example"})
    assert forged.status_code == 403
    assert "set-cookie" not in forged.headers  # the browser keeps its cookies
    assert (await client.get("/api/users/me")).status_code == 200
    assert (await client.post("/api/auth/refresh", headers={"Origin": ORIGIN})).status_code == 200  # the session lives
    ours = await client.post("/api/auth/logout", headers={"Origin": ORIGIN, "X-CSRF-Token": browser["X-CSRF-Token"]})
    assert ours.status_code == 204


async def test_a_client_without_origin_still_signs_out_with_its_refresh_token(client: httpx.AsyncClient, owner: User) -> None:
    signed_in: SignedIn = await login(client, owner)
    response = await client.post("/api/auth/logout", json={"refresh_token": signed_in.refresh_token})
    assert response.status_code == 204
    assert (await client.get("/api/users/me", headers=signed_in.headers)).status_code == 401

"""External sign-in against a stand-in provider (tests/identity/federation/fake_partner.py, a real HTTP server in a
subprocess): the happy paths, and every refusal the relying party owes (state, replay, nonce, signature, issuer,
audience, no takeover by e-mail, no open redirect, disabled provider, tenant not allowed), linking, tickets."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core.audit import AuditEvent
from nubes.core.db import utcnow
from nubes.core.principal import Principal
from nubes.identity.federation import service
from nubes.identity.federation.models import FederatedIdentity, IdentityProvider
from nubes.identity.federation.schemas import ProviderCreate
from nubes.identity.groups.models import Group, GroupMember
from nubes.identity.mfa.models import TotpSecret
from nubes.identity.tenants.models import Tenant
from nubes.identity.users.models import User
from tests.factories import ORIGIN, make_tenant, make_user
from tests.identity.federation import fake_partner
from tests.serving import free_port, stop_process


@pytest.fixture(scope="module")
def partner() -> Iterator[str]:
    """The stand-in provider and partner app, on a loopback port."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "tests.identity.federation.fake_partner", str(port)])
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/jwks", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert process.poll() is None, "the fake partner exited"
        assert time.monotonic() < deadline, "the fake partner did not start"
        time.sleep(0.1)
    yield url
    stop_process(process)


def _control(partner: str, *, mode: str = "", **claims: Any) -> None:
    httpx.post(f"{partner}/control", json={"mode": mode, "claims": {"sub": "subject-1", **claims}}).raise_for_status()


def _issue_ticket(partner: str, **claims: Any) -> str:
    """What the partner app does before sending the browser to Nubes: a one-time ticket for these claims."""
    issued = httpx.post(f"{partner}/tickets", json=claims)
    issued.raise_for_status()
    ticket: str = issued.json()["ticket"]
    return ticket


async def _provider(
    session: AsyncSession, settings: Settings, partner: str, tenants: list[Tenant], **fields: Any
) -> IdentityProvider:
    values: dict[str, Any] = {
        "slug": f"fake-{uuid.uuid4().hex[:6]}",
        "name": "Fake IdP",
        "issuer": partner,
        "client_id": fake_partner.CLIENT_ID,
        "client_secret": fake_partner.CLIENT_SECRET,
        "allowed_tenant_ids": [tenant.id for tenant in tenants],
        **fields,
    }
    root = await make_user(session, settings, tenants[0], superadmin=True)
    principal = Principal(
        user_id=root.id, tenant_id=root.tenant_id, username=root.username, permissions=frozenset(), is_superadmin=True
    )
    return await service.create_provider(
        session=session, settings=settings, principal=principal, provider_in=ProviderCreate(**values), origin=ORIGIN
    )


async def _sign_in(client: httpx.AsyncClient, slug: str, *, next_path: str = "/files") -> httpx.Response:
    """Button → provider (which signs in at once) → callback; the callback's answer."""
    start = await client.get(f"/api/auth/providers/{slug}/start", params={"next": next_path})
    assert start.status_code == 302, start.text
    async with httpx.AsyncClient() as browser_at_idp:
        at_idp = await browser_at_idp.get(start.headers["location"])
    assert at_idp.status_code == 302
    back = httpx.URL(at_idp.headers["location"])
    assert back.host == "testserver"
    return await client.get(back.raw_path.decode())


def _refusal(answer: httpx.Response) -> str:
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert "#federation_error=" in location, location
    assert "nubes_access" not in answer.cookies
    return unquote(location.split("#federation_error=", 1)[1])


async def _users(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(User)) or 0)


async def test_just_in_time_sign_in_then_the_link_is_reused(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, partner: str
) -> None:
    """GIVEN a provider with JIT provisioning into one tenant WHEN someone new signs in twice
    THEN the first makes the account (linked, member role) and lands on `next` signed in; the second reuses it."""
    tenant = await make_tenant(session)
    provider = await _provider(session, settings, partner, [tenant], jit_provisioning=True)
    _control(partner, preferred_username="Ada.Lovelace", email="ada@example.test", email_verified=True, name="Ada")
    answer = await _sign_in(client, provider.slug)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/files"
    assert answer.cookies.get("nubes_access")
    me = await client.get("/api/users/me")
    assert me.status_code == 200
    assert me.json()["user"]["username"] == "ada.lovelace"
    assert me.json()["tenant"]["id"] == str(tenant.id)
    count = await _users(session)
    client.cookies.clear()
    again = await _sign_in(client, provider.slug)
    assert again.status_code == 303
    assert again.cookies.get("nubes_access")
    assert await _users(session) == count
    link = await session.scalar(select(FederatedIdentity).where(FederatedIdentity.provider_id == provider.id))
    assert link is not None
    assert link.subject == "subject-1"
    assert link.last_login_at is not None
    logins = await session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "auth.federation.login")
    )
    assert logins == 2


async def test_an_unlinked_subject_is_refused_without_jit(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, partner: str
) -> None:
    tenant = await make_tenant(session)
    provider = await _provider(session, settings, partner, [tenant])
    _control(partner)
    assert "No Nubes account is linked" in _refusal(await _sign_in(client, provider.slug))


async def test_a_matching_email_never_takes_over_an_account(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, partner: str
) -> None:
    """GIVEN a local account with ada@example.test WHEN the provider vouches for that address (verified)
    THEN without JIT it is refused, and with JIT a separate account is made (without the address): never a link."""
    tenant = await make_tenant(session)
    victim = await make_user(session, settings, tenant, username="victim", email="victim@example.test")
    _control(partner, preferred_username="victim", email="victim@example.test", email_verified=True)
    strict = await _provider(session, settings, partner, [tenant])
    _refusal(await _sign_in(client, strict.slug))
    jit = await _provider(session, settings, partner, [tenant], jit_provisioning=True)
    answer = await _sign_in(client, jit.slug)
    assert answer.status_code == 303
    assert answer.cookies.get("nubes_access")
    me = (await client.get("/api/users/me")).json()["user"]
    assert me["id"] != str(victim.id)
    assert me["username"] == "victim-2"
    assert me["email"] is None


async def test_a_wrong_state_is_refused(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, partner: str
) -> None:
    tenant = await make_tenant(session)
    provider = await _provider(session, settings, partner, [tenant], jit_provisioning=True)
    _control(partner)
    start = await client.get(f"/api/auth/providers/{provider.slug}/start")
    async with httpx.AsyncClient() as outside:
        at_idp = await outside.get(start.headers["location"])
    back = httpx.URL(at_idp.headers["location"])
    forged = back.copy_set_param("state", "attacker-state")
    assert "did not start in this browser" in _refusal(await client.get(forged.raw_path.decode()))
    client.cookies.clear()  # the callback of another browser (no flow cookie) is refused the same way
    assert "did not start in this browser" in _refusal(await client.get(back.raw_path.decode()))


async def test_a_replayed_callback_is_refused(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, partner: str
) -> None:
    tenant = await make_tenant(session)
    provider = await _provider(session, settings, partner, [tenant], jit_provisioning=True)
    _control(partner)
    start = await client.get(f"/api/auth/providers/{provider.slug}/start")
    flow_cookie = start.headers["set-cookie"].split(";", 1)[0]
    async with httpx.AsyncClient() as outside:
        at_idp = await outside.get(start.headers["location"])
    callback = httpx.URL(at_idp.headers["location"]).raw_path.decode()
    assert (await client.get(callback)).cookies.get("nubes_access")
    client.cookies.clear()
    assert "already used" in _refusal(await client.get(callback, headers={"Cookie": flow_cookie}))


@pytest.mark.parametrize(
    "case",
    [
        ("wrong_nonce", "nonce"),
        ("tampered", "did not verify"),
        ("wrong_key", "did not verify"),
        ("wrong_issuer", "iss"),
        ("wrong_audience", "aud"),
        ("expired", "exp"),
    ],
)
async def test_a_bad_id_token_is_refused(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, partner: str, case: tuple[str, str]
) -> None:
    mode, says = case
    tenant = await make_tenant(session)
    provider = await _provider(session, settings, partner, [tenant], jit_provisioning=True)
    _control(partner, mode=mode, preferred_username="ada")
    before = await _users(session)
    try:
        assert says in _refusal(await _sign_in(client, provider.slug))
    finally:
        _control(partner)
    assert await _users(session) == before


async def test_next_is_a_path_on_this_server_only(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, partner: str
) -> None:
    tenant = await make_tenant(session)
    provider = await _provider(session, settings, partner, [tenant], jit_provisioning=True)
    _control(partner)
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        client.cookies.clear()
        answer = await _sign_in(client, provider.slug, next_path=evil)
        assert answer.status_code == 303, evil
        assert answer.headers["location"] == "/", evil


async def test_a_disabled_provider_and_a_tenant_not_allowed_are_refused(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, partner: str
) -> None:
    tenant, other = await make_tenant(session), await make_tenant(session)
    disabled = await _provider(session, settings, partner, [tenant], enabled=False, jit_provisioning=True)
    assert (await client.get(f"/api/auth/providers/{disabled.slug}/start")).status_code == 404
    assert disabled.slug not in {row["slug"] for row in (await client.get("/api/auth/providers")).json()}
    # A linked account in a tenant the provider may not sign in to.
    provider = await _provider(session, settings, partner, [tenant])
    outsider = await make_user(session, settings, other)
    session.add(FederatedIdentity(tenant_id=other.id, user_id=outsider.id, provider_id=provider.id, subject="subject-1"))
    await session.flush()
    _control(partner)
    assert "may not sign in to your organization" in _refusal(await _sign_in(client, provider.slug))
    # JIT with several allowed tenants and no claim naming one of them.
    several = await _provider(session, settings, partner, [tenant, other], jit_provisioning=True, tenant_claim="org")
    _control(partner, org="not-a-tenant")
    assert "may not make accounts" in _refusal(await _sign_in(client, several.slug))
    _control(partner, org=other.slug)
    assert (await _sign_in(client, several.slug)).cookies.get("nubes_access")


async def _browser_login(client: httpx.AsyncClient, user: User) -> dict[str, str]:
    answer = await client.post("/api/auth/login", json={"username": user.username, "password": "Tangerine-Kettle-Orbit-81"})
    assert answer.status_code == 200
    return {"X-CSRF-Token": client.cookies["nubes_csrf"]}


async def _link(client: httpx.AsyncClient, slug: str, csrf: dict[str, str]) -> httpx.Response:
    started = await client.post(f"/api/users/me/sign-in-providers/{slug}/link", json={"next": "/account"}, headers=csrf)
    assert started.status_code == 200, started.text
    async with httpx.AsyncClient() as outside:
        at_idp = await outside.get(started.json()["authorize_url"])
    return await client.get(httpx.URL(at_idp.headers["location"]).raw_path.decode())


async def test_link_then_sign_in_then_unlink(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, partner: str
) -> None:
    tenant = await make_tenant(session)
    provider = await _provider(session, settings, partner, [tenant])
    user = await make_user(session, settings, tenant)
    csrf = await _browser_login(client, user)
    _control(partner, sub="linked-subject")
    linked = await _link(client, provider.slug, csrf)
    assert linked.status_code == 303
    assert linked.headers["location"] == "/account"
    listed = (await client.get("/api/users/me/sign-in-providers")).json()
    assert [(row["slug"], row["linked"]) for row in listed] == [(provider.slug, True)]
    client.cookies.clear()
    signed_in = await _sign_in(client, provider.slug)
    assert signed_in.cookies.get("nubes_access")
    assert (await client.get("/api/users/me")).json()["user"]["id"] == str(user.id)
    csrf = {"X-CSRF-Token": client.cookies["nubes_csrf"]}
    assert (await client.delete(f"/api/users/me/sign-in-providers/{provider.slug}", headers=csrf)).status_code == 204
    client.cookies.clear()
    _refusal(await _sign_in(client, provider.slug))


async def test_a_subject_linked_to_someone_else_stays_theirs(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, partner: str
) -> None:
    tenant = await make_tenant(session)
    provider = await _provider(session, settings, partner, [tenant])
    owner, other = await make_user(session, settings, tenant), await make_user(session, settings, tenant)
    session.add(FederatedIdentity(tenant_id=tenant.id, user_id=owner.id, provider_id=provider.id, subject="subject-1"))
    await session.flush()
    csrf = await _browser_login(client, other)
    _control(partner)
    answer = await _link(client, provider.slug, csrf)
    assert answer.headers["location"].startswith("/account#federation_error=")
    assert "linked to another Nubes account" in unquote(answer.headers["location"])


async def test_unlinking_the_only_way_in_is_refused(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, partner: str
) -> None:
    tenant = await make_tenant(session)
    provider = await _provider(session, settings, partner, [tenant], jit_provisioning=True)
    _control(partner, preferred_username="only-federated")
    assert (await _sign_in(client, provider.slug)).cookies.get("nubes_access")
    csrf = {"X-CSRF-Token": client.cookies["nubes_csrf"]}
    refused = await client.delete(f"/api/users/me/sign-in-providers/{provider.slug}", headers=csrf)
    assert refused.status_code == 409
    assert "only way to sign in" in refused.json()["detail"]


async def test_group_sync_uses_existing_groups_only(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, partner: str
) -> None:
    """GIVEN group sync on and a tenant with groups "staff" and "ops" WHEN the claim names staff and "nonexistent",
    then later only ops THEN the user is in staff (nonexistent is not created), then in ops and out of staff."""
    tenant = await make_tenant(session)
    staff, ops = Group(tenant_id=tenant.id, name="staff"), Group(tenant_id=tenant.id, name="ops")
    session.add_all([staff, ops])
    await session.flush()
    provider = await _provider(session, settings, partner, [tenant], jit_provisioning=True, group_sync=True)
    _control(partner, preferred_username="grace", groups=["staff", "nonexistent"])
    await _sign_in(client, provider.slug)
    user = await session.scalar(select(User).where(User.username == "grace"))
    assert user is not None

    async def groups_of() -> set[uuid.UUID]:
        return set(await session.scalars(select(GroupMember.group_id).where(GroupMember.user_id == user.id)))

    assert await groups_of() == {staff.id}
    assert await session.scalar(select(Group).where(Group.name == "nonexistent")) is None
    _control(partner, preferred_username="grace", groups=["ops"])
    client.cookies.clear()
    await _sign_in(client, provider.slug)
    assert await groups_of() == {ops.id}


async def test_a_partner_ticket_signs_in_once(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, partner: str
) -> None:
    """GIVEN a ticket provider (seed 000's InventoryPro exchange) WHEN the partner's ticket comes back twice, or forged
    THEN the first signs in (JIT), the replay and the forgery are refused."""
    tenant = await make_tenant(session)
    provider = await _provider(
        session,
        settings,
        partner,
        [tenant],
        kind="ticket",
        issuer="",
        ticket_url=f"{partner}/tickets/exchange",
        jit_provisioning=True,
        username_claim="username",
    )
    ticket = _issue_ticket(partner, subject="inv-42", username="stockkeeper", groups=[])
    answer = await client.get(f"/api/auth/providers/{provider.slug}/ticket", params={"ticket": ticket, "next": "/files"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/files"
    assert (await client.get("/api/users/me")).json()["user"]["username"] == "stockkeeper"
    client.cookies.clear()
    replay = await client.get(f"/api/auth/providers/{provider.slug}/ticket", params={"ticket": ticket})
    assert "already used" in _refusal(replay)
    forged = await client.get(f"/api/auth/providers/{provider.slug}/ticket", params={"ticket": "made-up"})
    assert "did not accept this ticket" in _refusal(forged)


async def test_admins_manage_providers_and_never_see_the_secret(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, partner: str
) -> None:
    tenant = await make_tenant(session)
    admin = await make_user(session, settings, tenant, superadmin=True)
    csrf = await _browser_login(client, admin)
    body = {
        "slug": "corp",
        "name": "Corp SSO",
        "issuer": partner,
        "client_id": "nubes",
        "client_secret": "s3cret-value",
        "allowed_tenant_ids": [str(tenant.id)],
    }
    created = await client.post("/api/admin/identity-providers", json=body, headers=csrf)
    assert created.status_code == 201, created.text
    assert "s3cret-value" not in created.text
    assert created.json()["has_client_secret"] is True
    assert created.json()["redirect_uri"] == "http://testserver/api/auth/providers/corp/callback"
    stored = await session.get(IdentityProvider, uuid.UUID(created.json()["id"]))
    assert stored is not None
    assert "s3cret-value" not in stored.client_secret
    changed = await client.patch(
        f"/api/admin/identity-providers/{stored.id}", json={"enabled": False, "jit_provisioning": True}, headers=csrf
    )
    assert changed.json()["enabled"] is False
    assert changed.json()["has_client_secret"] is True
    found = await client.post("/api/admin/identity-provider-discovery", json={"issuer": partner}, headers=csrf)
    assert found.json()["ok"] is True
    assert found.json()["token_endpoint"] == f"{partner}/token"
    _control(partner, mode="discovery_issuer")
    try:
        wrong = await client.post("/api/admin/identity-provider-discovery", json={"issuer": partner}, headers=csrf)
    finally:
        _control(partner)
    assert wrong.json()["ok"] is False
    assert "another issuer" in wrong.json()["error"]
    assert (await client.delete(f"/api/admin/identity-providers/{stored.id}", headers=csrf)).status_code == 204


async def test_the_accounts_second_factor_is_still_asked(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, partner: str
) -> None:
    """GIVEN a linked account with two-factor sign-in WHEN the provider vouches for it
    THEN no session starts yet: the sign-in page gets the second step's token (in the fragment), as after a password."""
    tenant = await make_tenant(session)
    provider = await _provider(session, settings, partner, [tenant])
    user = await make_user(session, settings, tenant)
    session.add(FederatedIdentity(tenant_id=tenant.id, user_id=user.id, provider_id=provider.id, subject="subject-1"))
    session.add(TotpSecret(user_id=user.id, tenant_id=tenant.id, secret="sealed", confirmed_at=utcnow()))
    await session.flush()
    _control(partner)
    answer = await _sign_in(client, provider.slug)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login#mfa_token=")
    assert answer.headers["location"].endswith("&next=%2Ffiles")
    assert "nubes_access" not in answer.cookies

"""Ranks: nobody changes a user, group or role holding more than they hold; a tenant keeps an owner;
an address set by someone else is used only once its mailbox confirms it.

Mail is read from the outbox table (core/mail.py), which is what the sender delivers.
"""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core.mail import OutboxMail
from nubes.identity.roles.models import Role, RolePermission
from nubes.identity.tenants.models import Tenant
from nubes.identity.users.models import User
from tests.factories import PASSWORD, SignedIn, login, make_tenant, make_user

NEW_PASSWORD = "Violet-Harbour-Lantern-42"


@pytest.fixture
async def tenant(session: AsyncSession) -> Tenant:
    return await make_tenant(session)


@pytest.fixture
async def admin(client: httpx.AsyncClient, session: AsyncSession, settings: Settings, tenant: Tenant) -> SignedIn:
    return await login(client, await make_user(session, settings, tenant, roles=("admin",)))


@pytest.fixture
async def owner(session: AsyncSession, settings: Settings, tenant: Tenant) -> User:
    return await make_user(session, settings, tenant, roles=("owner",), email="owner@example.org", email_verified=True)


async def _mails(session: AsyncSession, to: str) -> list[str]:
    """The bodies of the messages queued for `to`, oldest first."""
    session.expire_all()
    return list(await session.scalars(select(OutboxMail.body).where(OutboxMail.to_address == to).order_by(OutboxMail.created_at)))


def _token(body: str, path: str) -> str:
    found = re.search(re.escape(path) + r"#token=([\w-]+)", body)
    assert found, f"no {path} link in {body!r}"
    return found.group(1)


async def _custom_role(session: AsyncSession, tenant: Tenant, name: str, codes: set[str]) -> None:
    session.add(Role(tenant_id=tenant.id, name=name, grants=[RolePermission(permission=code) for code in sorted(codes)]))
    await session.flush()


# --- acting on someone above you ---------------------------------------------------------------------


async def test_admin_cannot_take_over_the_superadmin_through_their_email(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    """GIVEN the super-admin and an admin in the default tenant WHEN the admin sets the super-admin's email
    and asks for a reset THEN the change is refused and no reset link goes anywhere."""
    home = await make_tenant(session)
    root = await make_user(session, settings, home, roles=("owner",), superadmin=True)
    admin = await login(client, await make_user(session, settings, home, roles=("admin",)))
    tenant_owner = await login(client, await make_user(session, settings, home, roles=("owner",)))

    for actor in (admin, tenant_owner):  # even holding every permission of the tenant is not enough
        response = await client.patch(f"/api/admin/users/{root.id}", json={"email": "evil@example.org"}, headers=actor.headers)
        assert response.status_code == 403, response.text
        assert response.json()["type"].endswith("outranked")
        assert "super-admin" in response.json()["detail"]
    assert (await client.post("/api/auth/password-reset/request", json={"email": "evil@example.org"})).status_code == 202
    assert await _mails(session, "evil@example.org") == []
    await session.refresh(root)
    assert (root.email, root.pending_email) == (None, None)


@pytest.mark.parametrize(
    "change",
    [{"email": "evil@example.org"}, {"is_active": False}, {"roles": ["member"]}, {"display_name": "Demoted"}],
    ids=["email", "deactivate", "demote", "rename"],
)
async def test_admin_cannot_change_the_owner(
    client: httpx.AsyncClient, session: AsyncSession, admin: SignedIn, owner: User, change: dict[str, object]
) -> None:
    response = await client.patch(f"/api/admin/users/{owner.id}", json=change, headers=admin.headers)
    assert response.status_code == 403, response.text
    assert "tenant.manage" in response.json()["detail"]  # names what the admin lacks
    await session.refresh(owner)
    assert (owner.email, owner.pending_email, owner.is_active, owner.display_name) == ("owner@example.org", None, True, "")
    assert await _mails(session, "evil@example.org") == []


async def test_admin_cannot_set_the_quota_of_someone_above_them(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, tenant: Tenant, owner: User
) -> None:
    await _custom_role(session, tenant, "quota-keeper", {"tenant.manage", "files.read"})
    keeper = await login(client, await make_user(session, settings, tenant, roles=("quota-keeper",)))
    response = await client.put(f"/api/admin/users/{owner.id}/quota", json={"quota_bytes": 0}, headers=keeper.headers)
    assert response.status_code == 403


async def test_an_equal_may_act_and_a_superadmin_may_act_on_anyone(
    *, client: httpx.AsyncClient, session: AsyncSession, settings: Settings, tenant: Tenant, admin: SignedIn, owner: User
) -> None:
    peer = await make_user(session, settings, tenant, roles=("admin",))
    assert (
        await client.patch(f"/api/admin/users/{peer.id}", json={"display_name": "Peer"}, headers=admin.headers)
    ).status_code == 200
    root = await login(client, await make_user(session, settings, await make_tenant(session), superadmin=True))
    renamed = await client.patch(f"/api/admin/users/{owner.id}", json={"display_name": "The Owner"}, headers=root.headers)
    assert renamed.status_code == 200, renamed.text


# --- the last owner ----------------------------------------------------------------------------------


async def test_the_last_owner_cannot_be_demoted_or_removed_even_by_themselves(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, tenant: Tenant, owner: User
) -> None:
    me = await login(client, owner)
    demoted = await client.patch(f"/api/admin/users/{owner.id}", json={"roles": ["admin"]}, headers=me.headers)
    assert demoted.status_code == 409, demoted.text
    assert demoted.json()["type"].endswith("last-owner")
    assert "another user owner" in demoted.json()["detail"]
    root = await login(client, await make_user(session, settings, await make_tenant(session), superadmin=True))
    for change in ({"roles": ["member"]}, {"is_active": False}):
        response = await client.patch(f"/api/admin/users/{owner.id}", json=change, headers=root.headers)
        assert response.status_code == 409, response.text

    # Ownership through a group counts, and leaving that group is removal too.
    group = (await client.post("/api/admin/groups", json={"name": "Owners", "roles": ["owner"]}, headers=me.headers)).json()
    assert (await client.put(f"/api/admin/groups/{group['id']}/members/{owner.id}", headers=me.headers)).status_code == 204
    assert (await client.patch(f"/api/admin/users/{owner.id}", json={"roles": ["admin"]}, headers=me.headers)).status_code == 200
    for response in (
        await client.delete(f"/api/admin/groups/{group['id']}/members/{owner.id}", headers=me.headers),
        await client.patch(f"/api/admin/groups/{group['id']}", json={"roles": ["admin"]}, headers=me.headers),
        await client.delete(f"/api/admin/groups/{group['id']}", headers=me.headers),
    ):
        assert response.status_code == 409, response.text
    assert "tenant.manage" in (await client.get("/api/users/me", headers=me.headers)).json()["permissions"]

    # With a second owner, either may step down.
    second = await make_user(session, settings, tenant, roles=("owner",))
    assert (await client.patch(f"/api/admin/users/{second.id}", json={"roles": ["admin"]}, headers=me.headers)).status_code == 200
    await client.patch(f"/api/admin/users/{second.id}", json={"roles": ["owner"]}, headers=me.headers)
    assert (await client.delete(f"/api/admin/groups/{group['id']}", headers=me.headers)).status_code == 204


# --- an email set by someone else --------------------------------------------------------------------


async def test_an_email_set_by_an_admin_waits_for_the_new_mailbox(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, tenant: Tenant, admin: SignedIn
) -> None:
    """GIVEN a member with a confirmed address WHEN an admin changes it THEN the new address is pending:
    it gets a confirmation link, the old one a notice, resets still go only to the old one, until confirmed."""
    member = await make_user(session, settings, tenant, email="old@example.org", email_verified=True)
    actor = admin.user.username  # read now: reading the outbox expires loaded rows
    response = await client.patch(f"/api/admin/users/{member.id}", json={"email": "New@Example.org"}, headers=admin.headers)
    assert response.status_code == 200, response.text
    assert (response.json()["email"], response.json()["pending_email"]) == ("old@example.org", "new@example.org")

    (confirmation,) = await _mails(session, "new@example.org")
    (notice,) = await _mails(session, "old@example.org")
    assert actor in confirmation
    assert "new@example.org" in notice
    assert "#token=" not in notice

    # The pending address is nobody's yet: no reset, no sign-in with it.
    assert (await client.post("/api/auth/password-reset/request", json={"email": "new@example.org"})).status_code == 202
    assert await _mails(session, "new@example.org") == [confirmation]
    assert (await client.post("/api/auth/login", json={"username": "new@example.org", "password": PASSWORD})).status_code == 401
    await client.post("/api/auth/password-reset/request", json={"email": "old@example.org"})
    old_reset = _token((await _mails(session, "old@example.org"))[-1], "/reset-password")

    assert (await client.post("/api/auth/verify-email", json={"token": _token(confirmation, "/verify-email")})).status_code == 204
    await session.refresh(member)
    assert (member.email, member.pending_email) == ("new@example.org", None)
    assert member.email_verified_at is not None
    # A reset link sent to the old address before the change no longer works.
    stale = await client.post("/api/auth/password-reset", json={"token": old_reset, "new_password": NEW_PASSWORD})
    assert stale.status_code == 422
    await client.post("/api/auth/password-reset/request", json={"email": "new@example.org"})
    fresh = _token((await _mails(session, "new@example.org"))[-1], "/reset-password")
    done = await client.post("/api/auth/password-reset", json={"token": fresh, "new_password": NEW_PASSWORD})
    assert done.status_code == 204


async def test_a_reset_never_goes_to_an_unconfirmed_address(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, tenant: Tenant
) -> None:
    await make_user(session, settings, tenant, email="typed-by-admin@example.org")
    assert (
        await client.post("/api/auth/password-reset/request", json={"email": "typed-by-admin@example.org"})
    ).status_code == 202
    (sent,) = await _mails(session, "typed-by-admin@example.org")
    assert "/reset-password" not in sent
    assert "/verify-email#token=" in sent


async def test_setting_back_the_current_address_cancels_a_pending_change(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, tenant: Tenant, admin: SignedIn
) -> None:
    member = await make_user(session, settings, tenant, email="stay@example.org", email_verified=True)
    url = f"/api/admin/users/{member.id}"
    await client.patch(url, json={"email": "away@example.org"}, headers=admin.headers)
    (confirmation,) = await _mails(session, "away@example.org")
    back = await client.patch(url, json={"email": "stay@example.org"}, headers=admin.headers)
    assert back.json()["pending_email"] is None
    late = await client.post("/api/auth/verify-email", json={"token": _token(confirmation, "/verify-email")})
    assert late.status_code == 422
    await session.refresh(member)
    assert member.email == "stay@example.org"


# --- granting through a group ------------------------------------------------------------------------


@pytest.mark.parametrize("group_roles", [["owner"], ["admin"]])
async def test_a_group_keeper_cannot_join_a_group_above_them(
    *, client: httpx.AsyncClient, session: AsyncSession, settings: Settings, tenant: Tenant, owner: User, group_roles: list[str]
) -> None:
    """GIVEN a viewer who may manage groups WHEN they add themselves to a group giving more THEN 403."""
    await _custom_role(session, tenant, "group-keeper", {"admin.groups"})
    keeper = await login(client, await make_user(session, settings, tenant, roles=("viewer", "group-keeper")))
    me = await login(client, owner)
    group = (await client.post("/api/admin/groups", json={"name": "High", "roles": group_roles}, headers=me.headers)).json()
    joined = await client.put(f"/api/admin/groups/{group['id']}/members/{keeper.user.id}", headers=keeper.headers)
    assert joined.status_code == 403, joined.text
    assert "cannot grant" in joined.json()["detail"]
    assert "admin.users" not in (await client.get("/api/users/me", headers=keeper.headers)).json()["permissions"]

    # Giving a role to a group of their own is the same grant.
    mine = (await client.post("/api/admin/groups", json={"name": "Mine"}, headers=keeper.headers)).json()
    assert (
        await client.put(f"/api/admin/groups/{mine['id']}/members/{keeper.user.id}", headers=keeper.headers)
    ).status_code == 204
    raised = await client.patch(f"/api/admin/groups/{mine['id']}", json={"roles": group_roles}, headers=keeper.headers)
    assert raised.status_code == 403


async def test_nobody_takes_from_a_group_or_role_above_them(
    *, client: httpx.AsyncClient, session: AsyncSession, settings: Settings, tenant: Tenant, owner: User, admin: SignedIn
) -> None:
    me = await login(client, owner)
    group = (await client.post("/api/admin/groups", json={"name": "Crown", "roles": ["owner"]}, headers=me.headers)).json()
    member = await make_user(session, settings, tenant, roles=("viewer",))
    await client.put(f"/api/admin/groups/{group['id']}/members/{member.id}", headers=me.headers)
    role = (
        await client.post("/api/admin/roles", json={"name": "crown", "permissions": ["tenant.manage"]}, headers=me.headers)
    ).json()
    for response in (
        await client.delete(f"/api/admin/groups/{group['id']}/members/{member.id}", headers=admin.headers),
        await client.patch(f"/api/admin/groups/{group['id']}", json={"roles": []}, headers=admin.headers),
        await client.patch(f"/api/admin/groups/{group['id']}", json={"description": "mine now"}, headers=admin.headers),
        await client.delete(f"/api/admin/groups/{group['id']}", headers=admin.headers),
        await client.patch(f"/api/admin/roles/{role['id']}", json={"permissions": ["files.read"]}, headers=admin.headers),
        await client.delete(f"/api/admin/roles/{role['id']}", headers=admin.headers),
    ):
        assert response.status_code == 403, response.text
    assert (await client.get(f"/api/admin/groups/{group['id']}/members", headers=me.headers)).json()[0]["id"] == str(member.id)
    assert (await client.get(f"/api/admin/roles/{role['id']}", headers=me.headers)).json()["permissions"] == ["tenant.manage"]


async def test_the_user_can_ask_again_for_the_link_to_a_pending_address(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, tenant: Tenant, admin: SignedIn
) -> None:
    member = await make_user(session, settings, tenant, email="here@example.org", email_verified=True)
    signed_in = await login(client, member)
    await client.patch(f"/api/admin/users/{member.id}", json={"email": "there@example.org"}, headers=admin.headers)
    assert (await client.post("/api/users/me/email/verify", headers=signed_in.headers)).status_code == 202
    _, again = await _mails(session, "there@example.org")
    assert (await client.post("/api/auth/verify-email", json={"token": _token(again, "/verify-email")})).status_code == 204
    me = (await client.get("/api/users/me", headers=signed_in.headers)).json()["user"]
    assert (me["email"], me["pending_email"]) == ("there@example.org", None)

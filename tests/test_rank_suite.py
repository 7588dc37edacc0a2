"""The rank suite, which every route joins by being in the OpenAPI schema: nobody acts above their rank.

Every write operation (not GET) with a user, group or role in its path, called by an actor who holds the
operation's permission but lacks one permission of the target (a user's, or what a group or role
grants), answers 403 and changes nothing in the database. So does acting on a super-admin without
being one, even holding every permission of the tenant.

Each path parameter of an operation is made "the one above" in turn, the others naming objects below
the actor, so an operation must check every object it touches. A new write route on users, groups or
roles is picked up by its path parameter; a new kind of parameter next to one of them fails here until
it has objects in `world`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.identity.groups.models import Group, GroupMember, GroupRole
from nubes.identity.roles import catalog
from nubes.identity.roles.models import Role, RolePermission
from nubes.identity.tenants.models import Tenant
from tests.factories import SignedIn, login, make_tenant, make_user
from tests.snapshots import writes_during

# The path parameters that name an object with a rank.
RANKED = ("user_id", "group_id", "role_id")

# What the actor lacks: a permission no administration route asks for, so every route lets them in.
MISSING = "mail.use"

# Bodies that pass validation and would change something harmless, were the rank not checked.
BODIES: dict[str, dict[str, Any]] = {
    "admin-users-update": {"display_name": "changed by a lower rank"},
    "admin-users-quota": {"quota_bytes": 0},
    "admin-groups-update": {"description": "changed by a lower rank"},
    "admin-roles-update": {"description": "changed by a lower rank"},
}

# The suite must at least cover these (a renamed or lost route fails here).
MUST_COVER = {
    "admin-users-update",
    "admin-users-quota",
    "admin-groups-update",
    "admin-groups-delete",
    "admin-groups-members-add",
    "admin-groups-members-remove",
    "admin-roles-update",
    "admin-roles-delete",
}

_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")
_WRITES = ("post", "put", "patch", "delete")


def _ranked_operations(app: FastAPI) -> list[tuple[str, str, str, list[str]]]:
    """(method, path, operationId, path parameters) of every write operation on a user, group or role."""
    found = []
    for path, item in app.openapi()["paths"].items():
        names = _PARAM.findall(path)
        if not set(names) & set(RANKED):
            continue
        for method, operation in item.items():
            if method in _WRITES:
                found.append((method.upper(), path, operation["operationId"], names))
    return found


@dataclass(frozen=True)
class World:
    """A tenant where `actor` may administer everything but is missing one permission the objects `above` hold."""

    actor: SignedIn
    above: dict[str, str]
    below: dict[str, str]


async def _role(session: AsyncSession, tenant: Tenant, name: str, codes: set[str]) -> Role:
    role = Role(tenant_id=tenant.id, name=name, grants=[RolePermission(permission=code) for code in sorted(codes)])
    session.add(role)
    await session.flush()
    return role


async def _group(session: AsyncSession, tenant: Tenant, name: str, role_name: str, members: list[Any]) -> Group:
    role = await session.scalar(select(Role).where(Role.tenant_id == tenant.id, Role.name == role_name))
    assert role is not None
    group = Group(tenant_id=tenant.id, name=name)
    session.add(group)
    await session.flush()
    session.add(GroupRole(group_id=group.id, role_id=role.id))
    session.add_all(GroupMember(group_id=group.id, user_id=user.id) for user in members)
    await session.flush()
    return group


@pytest.fixture
async def world(client: httpx.AsyncClient, session: AsyncSession, settings: Settings) -> World:
    tenant = await make_tenant(session, "ranked")
    await _role(session, tenant, "almost-owner", set(catalog.CODES - {MISSING}))
    actor = await login(client, await make_user(session, settings, tenant, username="almost-owner", roles=("almost-owner",)))
    top = await make_user(session, settings, tenant, username="the-owner", roles=("owner",))
    low = await make_user(session, settings, tenant, username="a-viewer", roles=("viewer",))
    # Both groups hold both users, so removing either reaches the rank check, not a 404.
    high_group = await _group(session, tenant, "members", "member", [top, low])  # `member` grants mail.use
    low_group = await _group(session, tenant, "viewers", "viewer", [top, low])
    high_role = await _role(session, tenant, "mailer", {MISSING})
    low_role = await _role(session, tenant, "reader", {"files.read"})
    return World(
        actor=actor,
        above={"user_id": str(top.id), "group_id": str(high_group.id), "role_id": str(high_role.id)},
        below={"user_id": str(low.id), "group_id": str(low_group.id), "role_id": str(low_role.id)},
    )


async def _refused(
    *,
    client: httpx.AsyncClient,
    session: AsyncSession,
    actor: SignedIn,
    method: str,
    path: str,
    operation_id: str,
    ids: dict[str, str],
) -> None:
    url = path
    for name, value in ids.items():
        url = re.sub(r"\{" + name + r"(?::\w+)?\}", value, url)
    async with writes_during(session) as writes:
        response = await client.request(method, url, json=BODIES.get(operation_id), headers=actor.headers)
    assert response.status_code == 403, f"{method} {path} with {ids} gave {response.status_code}: {response.text}"
    assert writes == [], f"{method} {path} changed data for an actor below its target"


async def test_nobody_acts_on_a_user_group_or_role_above_them(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, world: World
) -> None:
    checked = set()
    for method, path, operation_id, names in _ranked_operations(app):
        unknown = [name for name in names if name not in RANKED]
        assert not unknown, f"{method} {path}: give `world` objects above and below the actor for {unknown}"
        operation = app.openapi()["paths"][path][method.lower()]
        if operation.get("requestBody", {}).get("required") and operation_id not in BODIES:
            pytest.fail(f"{method} {path}: add a body for {operation_id} to BODIES")
        for target in names:
            ids = {name: (world.above if name == target else world.below)[name] for name in names}
            await _refused(
                client=client, session=session, actor=world.actor, method=method, path=path, operation_id=operation_id, ids=ids
            )
        checked.add(operation_id)
    assert checked >= MUST_COVER, f"not covered: {sorted(MUST_COVER - checked)}"


async def test_nobody_but_a_superadmin_acts_on_a_superadmin(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, settings: Settings
) -> None:
    """GIVEN a super-admin and an owner of their tenant (every permission) WHEN the owner acts on them THEN 403."""
    tenant = await make_tenant(session, "platform")
    root = await make_user(session, settings, tenant, username="root", roles=("viewer",), superadmin=True)
    owner = await login(client, await make_user(session, settings, tenant, username="tenant-owner", roles=("owner",)))
    team = await _group(session, tenant, "team", "viewer", [root])
    ids = {"user_id": str(root.id), "group_id": str(team.id)}
    checked = set()
    for method, path, operation_id, names in _ranked_operations(app):
        if "user_id" not in names:
            continue
        assert set(names) <= set(ids), f"{method} {path}: give this test an object for {set(names) - set(ids)}"
        await _refused(
            client=client, session=session, actor=owner, method=method, path=path, operation_id=operation_id,
            ids={name: ids[name] for name in names},
        )  # fmt: skip
        checked.add(operation_id)
    assert checked >= {"admin-users-update", "admin-users-quota", "admin-groups-members-add", "admin-groups-members-remove"}

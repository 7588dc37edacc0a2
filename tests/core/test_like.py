"""Searches by part of a name take `%`, `_` and `\\` literally, on both databases (one escaping helper for every LIKE)."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core.db import like_contains, like_prefix
from nubes.identity.groups.models import Group
from nubes.identity.roles.catalog import SERVICE_ADMIN_GROUPS
from nubes.identity.users.models import User
from tests.factories import login, make_tenant, make_user


async def test_like_contains_matches_wildcards_and_backslashes_literally(session: AsyncSession, settings: Settings) -> None:
    tenant = await make_tenant(session)
    names = {"100% real": "one", "1000 real": "two", "a_b": "three", "axb": "four", "back\\slash": "five", "backxslash": "six"}
    for name in names:
        session.add(Group(tenant_id=tenant.id, name=name))
    await session.flush()

    async def found(fragment: str, *, ignore_case: bool = False) -> set[str]:
        rows = await session.scalars(
            select(Group.name).where(Group.tenant_id == tenant.id, like_contains(Group.name, fragment, ignore_case=ignore_case))
        )
        return set(rows)

    assert await found("0%") == {"100% real"}
    assert await found("_") == {"a_b"}
    assert await found("\\") == {"back\\slash"}
    assert await found("%") == {"100% real"}
    assert await found("A_B", ignore_case=True) == {"a_b"}
    assert await found("") == set(names) | set(SERVICE_ADMIN_GROUPS)  # every tenant has its service-admin groups

    starts = await session.scalars(select(Group.name).where(Group.tenant_id == tenant.id, like_prefix(Group.name, "a_")))
    assert set(starts) == {"a_b"}
    starts = await session.scalars(select(Group.name).where(Group.tenant_id == tenant.id, like_prefix(Group.name, "100%")))
    assert set(starts) == {"100% real"}


async def test_admin_user_search_and_directory_take_wildcards_literally(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    """GIVEN users "ann_lee" and "annxlee", and display names "100% real" and "1000 real"
    WHEN an admin searches users (or a member the directory) for "n_l" or "0%"
    THEN only the literal match comes back (a bare `_` or `%` is no wildcard).
    """
    tenant = await make_tenant(session)
    admin = await login(client, await make_user(session, settings, tenant, username=f"admin-{tenant.slug}", roles=("owner",)))
    underscore = await make_user(session, settings, tenant, username=f"ann_lee-{tenant.slug}")
    plain = await make_user(session, settings, tenant, username=f"annxlee-{tenant.slug}")
    underscore.display_name, plain.display_name = "100% real", "1000 real"
    await session.flush()

    async def usernames(url: str, q: str, key: str) -> set[str]:
        response = await client.get(url, params={"q": q}, headers=admin.headers)
        assert response.status_code == 200, response.text
        return {item[key] for item in response.json()["items"]}

    for q in ("n_l", "0%", "% r"):
        assert await usernames("/api/admin/users", q, "username") == {underscore.username}
        assert await usernames("/api/directory", q, "detail") == {underscore.username}
    assert await usernames("/api/admin/users", "nxl", "username") == {plain.username}
    assert await session.scalar(select(User.username).where(like_contains(User.username, "ann_lee-"))) == underscore.username

"""The tenant's directory: the people and groups a member can pick when sharing, and their display names."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.core.db import like_contains
from nubes.core.principal import Principal
from nubes.identity.groups.models import Group, GroupMember
from nubes.identity.users.models import User
from nubes.identity.users.schemas import DirectoryEntry

DIRECTORY_LIMIT = 20


def display_name(user: User) -> str:
    """How a user is shown to others."""
    return user.display_name or user.username


async def search(
    *, session: AsyncSession, principal: Principal, query: str, limit: int = DIRECTORY_LIMIT
) -> list[DirectoryEntry]:
    """Active users (not the caller) and groups of the principal's tenant whose name contains `query`."""
    wanted = query.strip().lower()
    users = await session.scalars(
        select(User)
        .where(
            User.tenant_id == principal.tenant_id,
            User.is_active.is_(True),
            User.id != principal.user_id,
            or_(like_contains(User.username, wanted), like_contains(User.display_name, wanted, ignore_case=True)),
        )
        .order_by(User.username)
        .limit(limit)
    )
    groups = await session.scalars(
        select(Group)
        .where(Group.tenant_id == principal.tenant_id, like_contains(Group.name, wanted, ignore_case=True))
        .order_by(Group.name)
        .limit(limit)
    )
    return [DirectoryEntry(id=user.id, kind="user", name=display_name(user), detail=user.username) for user in users] + [
        DirectoryEntry(id=group.id, kind="group", name=group.name, detail=group.description) for group in groups
    ]


async def user_names(*, session: AsyncSession, tenant_id: uuid.UUID, ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    """Display names of users of one tenant, by id."""
    wanted = {user_id for user_id in ids if user_id is not None}
    if not wanted:
        return {}
    rows = await session.scalars(select(User).where(User.tenant_id == tenant_id, User.id.in_(wanted)))
    return {user.id: display_name(user) for user in rows}


async def user_names_by_tenant(*, session: AsyncSession, wanted: Mapping[uuid.UUID, Iterable[uuid.UUID]]) -> dict[uuid.UUID, str]:
    """Display names of users of several tenants in one query (tenant id → user ids), by user id; a user who is not
    of the tenant they were asked under is left out."""
    asked = {user_id: tenant_id for tenant_id, ids in wanted.items() for user_id in ids}
    if not asked:
        return {}
    rows = await session.scalars(select(User).where(User.id.in_(asked)))
    return {user.id: display_name(user) for user in rows if asked.get(user.id) == user.tenant_id}


async def group_names(*, session: AsyncSession, tenant_id: uuid.UUID, ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    """Names of groups of one tenant, by id."""
    wanted = {group_id for group_id in ids if group_id is not None}
    if not wanted:
        return {}
    rows = await session.execute(select(Group.id, Group.name).where(Group.tenant_id == tenant_id, Group.id.in_(wanted)))
    names: dict[uuid.UUID, str] = {}
    for group_id, name in rows:
        names[group_id] = name
    return names


async def is_active_member(*, session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    """Whether a user of the tenant exists and may still act (a deactivated owner's links stop working)."""
    active = await session.scalar(select(User.is_active).where(User.id == user_id, User.tenant_id == tenant_id))
    return bool(active)


async def active_memberships(
    *, session: AsyncSession, tenant_id: uuid.UUID, user_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, frozenset[uuid.UUID]]:
    """The active users of the tenant among `user_ids`, each with the ids of their groups (absent: deactivated or gone)."""
    wanted = set(user_ids)
    if not wanted:
        return {}
    active = await session.scalars(
        select(User.id).where(User.tenant_id == tenant_id, User.id.in_(wanted), User.is_active.is_(True))
    )
    groups: dict[uuid.UUID, set[uuid.UUID]] = {user_id: set() for user_id in active}
    rows = await session.execute(
        select(GroupMember.user_id, GroupMember.group_id)
        .join(Group, Group.id == GroupMember.group_id)
        .where(Group.tenant_id == tenant_id, GroupMember.user_id.in_(list(groups)))
    )
    for user_id, group_id in rows:
        groups[user_id].add(group_id)
    return {user_id: frozenset(ids) for user_id, ids in groups.items()}

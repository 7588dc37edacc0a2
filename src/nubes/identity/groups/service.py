"""Groups: their members and the roles a group gives its members."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.core import audit
from nubes.core.audit import Origin
from nubes.core.errors import Conflict, NotFound
from nubes.core.principal import Principal
from nubes.identity.groups.models import Group, GroupMember, GroupRole
from nubes.identity.groups.schemas import GroupCreate, GroupUpdate
from nubes.identity.roles.models import Role
from nubes.identity.roles.service import (
    bump_roles_version,
    check_can_grant,
    check_outranks,
    check_rank_over_user,
    granted_by,
    keep_an_owner,
    owner_ids,
    role_graph,
    roles_by_name,
)
from nubes.identity.tenants.models import Tenant
from nubes.identity.users.models import User
from nubes.identity.users.service import get_user


async def get_group(*, session: AsyncSession, principal: Principal, group_id: uuid.UUID) -> Group:
    """A group of the principal's tenant, or 404."""
    group = await session.get(Group, group_id)
    if group is None or group.tenant_id != principal.tenant_id:
        raise NotFound("No such group.")
    return group


async def group_roles(session: AsyncSession, group_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[tuple[uuid.UUID, str]]]:
    """The roles of each group, by name."""
    found: dict[uuid.UUID, list[tuple[uuid.UUID, str]]] = {group_id: [] for group_id in group_ids}
    rows = await session.execute(
        select(GroupRole.group_id, Role.id, Role.name)
        .join(Role, Role.id == GroupRole.role_id)
        .where(GroupRole.group_id.in_(group_ids))
        .order_by(Role.name)
    )
    for group_id, role_id, name in rows:
        found[group_id].append((role_id, name))
    return found


async def member_counts(session: AsyncSession, group_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """How many members each group has."""
    rows = await session.execute(
        select(GroupMember.group_id, func.count()).where(GroupMember.group_id.in_(group_ids)).group_by(GroupMember.group_id)
    )
    counts = dict.fromkeys(group_ids, 0)
    counts.update((group_id, count) for group_id, count in rows.all())
    return counts


async def list_groups(*, session: AsyncSession, principal: Principal) -> list[Group]:
    """The tenant's groups, by name."""
    return list(await session.scalars(select(Group).where(Group.tenant_id == principal.tenant_id).order_by(Group.name)))


async def my_groups(*, session: AsyncSession, principal: Principal) -> list[Group]:
    """The groups the principal belongs to."""
    rows = await session.scalars(
        select(Group)
        .join(GroupMember, GroupMember.group_id == Group.id)
        .where(GroupMember.user_id == principal.user_id)
        .order_by(Group.name)
    )
    return list(rows)


async def ensure_groups(
    *, session: AsyncSession, name: str, description: str, tenant_ids: Iterable[uuid.UUID] | None = None
) -> int:
    """Give each tenant (every tenant when `tenant_ids` is None) a group named `name` unless it has one already, with
    no role; how many were made. Idempotent: another domain's per-tenant group (an app's `<slug>-admin`)."""
    ids = set(tenant_ids) if tenant_ids is not None else set(await session.scalars(select(Tenant.id)))
    if not ids:
        return 0
    having = set(await session.scalars(select(Group.tenant_id).where(Group.name == name, Group.tenant_id.in_(ids))))
    missing = sorted(ids - having)
    session.add_all(Group(tenant_id=tenant_id, name=name, description=description) for tenant_id in missing)
    await session.flush()
    return len(missing)


async def group_ids_named(*, session: AsyncSession, tenant_id: uuid.UUID, names: Iterable[str]) -> dict[str, uuid.UUID]:
    """The ids of the tenant's groups with these names, by name (names that no group has are left out)."""
    wanted = set(names)
    if not wanted:
        return {}
    rows = await session.execute(select(Group.name, Group.id).where(Group.tenant_id == tenant_id, Group.name.in_(wanted)))
    return {row.name: row.id for row in rows}


async def _check_rank_over_group(session: AsyncSession, principal: Principal, group: Group) -> None:
    """A group is as high as the roles it gives: changing it, its members or its roles needs all of them."""
    graph = await role_graph(session, group.tenant_id)
    role_ids = await session.scalars(select(GroupRole.role_id).where(GroupRole.group_id == group.id))
    check_outranks(principal, graph.permissions_of(role_ids), f"the group {group.name}")


async def _set_group_roles(session: AsyncSession, principal: Principal, group: Group, names: list[str]) -> list[str]:
    roles = await roles_by_name(session, group.tenant_id, names)
    if not principal.is_superadmin:
        check_can_grant(principal, await granted_by(session, group.tenant_id, roles))
    await session.execute(delete(GroupRole).where(GroupRole.group_id == group.id))
    session.add_all(GroupRole(group_id=group.id, role_id=role.id) for role in roles)
    return [role.name for role in roles]


async def create_group(*, session: AsyncSession, principal: Principal, group_in: GroupCreate, origin: Origin) -> Group:
    """A new group with the roles named."""
    if await session.scalar(select(Group.id).where(Group.tenant_id == principal.tenant_id, Group.name == group_in.name)):
        raise Conflict(f"A group named {group_in.name!r} exists.")
    group = Group(tenant_id=principal.tenant_id, name=group_in.name, description=group_in.description)
    session.add(group)
    await session.flush()
    await bump_roles_version(session=session, tenant_id=group.tenant_id)
    roles = await _set_group_roles(session, principal, group, group_in.roles)
    await session.flush()
    await audit.record(
        session=session,
        action="group.create",
        origin=origin,
        principal=principal,
        target_type="group",
        target_id=group.id,
        detail={"name": group.name, "roles": roles},
    )
    return group


async def update_group(
    *, session: AsyncSession, principal: Principal, group_id: uuid.UUID, group_in: GroupUpdate, origin: Origin
) -> Group:
    """Rename a group, change its description or roles (all it gives, before and after, must be the principal's)."""
    group = await get_group(session=session, principal=principal, group_id=group_id)
    await _check_rank_over_group(session, principal, group)
    owners = await owner_ids(session, group.tenant_id)
    changes: dict[str, object] = {}
    if group_in.name is not None and group_in.name != group.name:
        if await session.scalar(select(Group.id).where(Group.tenant_id == group.tenant_id, Group.name == group_in.name)):
            raise Conflict(f"A group named {group_in.name!r} exists.")
        group.name = changes["name"] = group_in.name
    if group_in.description is not None:
        group.description = changes["description"] = group_in.description
    if group_in.roles is not None:
        changes["roles"] = await _set_group_roles(session, principal, group, group_in.roles)
        await bump_roles_version(session=session, tenant_id=group.tenant_id)
    await keep_an_owner(session, group.tenant_id, owners)
    await audit.record(
        session=session,
        action="group.update",
        origin=origin,
        principal=principal,
        target_type="group",
        target_id=group.id,
        detail=changes,
    )
    return group


async def delete_group(*, session: AsyncSession, principal: Principal, group_id: uuid.UUID, origin: Origin) -> None:
    """Delete a group the principal outranks; its members lose the roles it gave them."""
    group = await get_group(session=session, principal=principal, group_id=group_id)
    await _check_rank_over_group(session, principal, group)
    owners = await owner_ids(session, group.tenant_id)
    await audit.record(
        session=session,
        action="group.delete",
        origin=origin,
        principal=principal,
        target_type="group",
        target_id=group.id,
        detail={"name": group.name},
    )
    await session.delete(group)
    await bump_roles_version(session=session, tenant_id=group.tenant_id)
    await keep_an_owner(session, group.tenant_id, owners)


async def list_members(*, session: AsyncSession, principal: Principal, group_id: uuid.UUID) -> list[User]:
    """The members of a group, by username."""
    group = await get_group(session=session, principal=principal, group_id=group_id)
    rows = await session.scalars(
        select(User)
        .join(GroupMember, GroupMember.user_id == User.id)
        .where(GroupMember.group_id == group.id)
        .order_by(User.username)
    )
    return list(rows)


async def add_member(
    *, session: AsyncSession, principal: Principal, group_id: uuid.UUID, user_id: uuid.UUID, origin: Origin
) -> None:
    """Put a user of the same tenant in a group (a no-op when already there): a grant of the group's roles."""
    group = await get_group(session=session, principal=principal, group_id=group_id)
    user = await get_user(session=session, principal=principal, user_id=user_id)
    if user.tenant_id != group.tenant_id:
        raise NotFound("No such user.")
    if not principal.is_superadmin:
        role_ids = list(await session.scalars(select(GroupRole.role_id).where(GroupRole.group_id == group.id)))
        check_can_grant(principal, (await role_graph(session, group.tenant_id)).permissions_of(role_ids))
    await check_rank_over_user(session=session, principal=principal, user=user)
    if await session.get(GroupMember, (group.id, user.id)) is None:
        session.add(GroupMember(group_id=group.id, user_id=user.id))
        await session.flush()
        await bump_roles_version(session=session, tenant_id=group.tenant_id)
        await audit.record(
            session=session,
            action="group.member_add",
            origin=origin,
            principal=principal,
            target_type="group",
            target_id=group.id,
            detail={"user": user.username},
        )


async def remove_member(
    *, session: AsyncSession, principal: Principal, group_id: uuid.UUID, user_id: uuid.UUID, origin: Origin
) -> None:
    """Take a user out of a group; the principal must outrank both, and the tenant keeps an owner."""
    group = await get_group(session=session, principal=principal, group_id=group_id)
    user = await get_user(session=session, principal=principal, user_id=user_id)
    await _check_rank_over_group(session, principal, group)
    await check_rank_over_user(session=session, principal=principal, user=user)
    membership = await session.get(GroupMember, (group.id, user.id))
    if membership is None:
        raise NotFound("That user is not in this group.")
    owners = await owner_ids(session, group.tenant_id)
    await session.delete(membership)
    await bump_roles_version(session=session, tenant_id=group.tenant_id)
    await keep_an_owner(session, group.tenant_id, owners)
    await audit.record(
        session=session,
        action="group.member_remove",
        origin=origin,
        principal=principal,
        target_type="group",
        target_id=group.id,
        detail={"user_id": str(user_id)},
    )

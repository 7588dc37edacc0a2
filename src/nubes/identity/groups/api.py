"""Routes for the tenant's groups and their members."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from nubes.core.db import SessionDep
from nubes.core.principal import Principal
from nubes.core.routing import api_router
from nubes.identity.deps import AnyPrincipal, OriginDep, require
from nubes.identity.groups import service
from nubes.identity.groups.models import Group
from nubes.identity.groups.schemas import GroupCreate, GroupRead, GroupUpdate
from nubes.identity.roles.schemas import RoleRef
from nubes.identity.users.schemas import UserRead

router = api_router()

GroupAdmin = Annotated[Principal, Depends(require("admin.groups"))]


async def _group_reads(session: SessionDep, groups: list[Group]) -> list[GroupRead]:
    ids = [group.id for group in groups]
    roles = await service.group_roles(session, ids)
    members = await service.member_counts(session, ids)
    return [
        GroupRead(
            id=group.id,
            name=group.name,
            description=group.description,
            roles=[RoleRef(id=role_id, name=name) for role_id, name in roles[group.id]],
            members=members[group.id],
        )
        for group in groups
    ]


@router.get("/admin/groups", operation_id="admin-groups-list", response_model=list[GroupRead], tags=["admin"], summary="Groups")
async def list_groups(session: SessionDep, principal: GroupAdmin) -> list[GroupRead]:
    """The tenant's groups with their roles and sizes."""
    return await _group_reads(session, await service.list_groups(session=session, principal=principal))


@router.post(
    "/admin/groups",
    operation_id="admin-groups-create",
    response_model=GroupRead,
    status_code=201,
    tags=["admin"],
    summary="Create a group",
)
async def create_group(group_in: GroupCreate, session: SessionDep, principal: GroupAdmin, origin: OriginDep) -> GroupRead:
    """A new group; its members hold the roles named."""
    group = await service.create_group(session=session, principal=principal, group_in=group_in, origin=origin)
    return (await _group_reads(session, [group]))[0]


@router.get(
    "/admin/groups/{group_id}", operation_id="admin-groups-get", response_model=GroupRead, tags=["admin"], summary="One group"
)
async def get_group(group_id: uuid.UUID, session: SessionDep, principal: GroupAdmin) -> GroupRead:
    """A group of the tenant."""
    group = await service.get_group(session=session, principal=principal, group_id=group_id)
    return (await _group_reads(session, [group]))[0]


@router.patch(
    "/admin/groups/{group_id}",
    operation_id="admin-groups-update",
    response_model=GroupRead,
    tags=["admin"],
    summary="Change a group",
)
async def update_group(
    group_id: uuid.UUID, group_in: GroupUpdate, session: SessionDep, principal: GroupAdmin, origin: OriginDep
) -> GroupRead:
    """Rename a group or change its roles."""
    group = await service.update_group(session=session, principal=principal, group_id=group_id, group_in=group_in, origin=origin)
    return (await _group_reads(session, [group]))[0]


@router.delete(
    "/admin/groups/{group_id}", operation_id="admin-groups-delete", status_code=204, tags=["admin"], summary="Delete a group"
)
async def delete_group(group_id: uuid.UUID, session: SessionDep, principal: GroupAdmin, origin: OriginDep) -> None:
    """Delete a group."""
    await service.delete_group(session=session, principal=principal, group_id=group_id, origin=origin)


@router.get(
    "/admin/groups/{group_id}/members",
    operation_id="admin-groups-members",
    response_model=list[UserRead],
    tags=["admin"],
    summary="Members of a group",
)
async def group_members(group_id: uuid.UUID, session: SessionDep, principal: GroupAdmin) -> list[UserRead]:
    """Who is in the group."""
    return [
        UserRead.model_validate(user)
        for user in await service.list_members(session=session, principal=principal, group_id=group_id)
    ]


@router.put(
    "/admin/groups/{group_id}/members/{user_id}",
    operation_id="admin-groups-members-add",
    status_code=204,
    tags=["admin"],
    summary="Add a member",
)
async def add_group_member(
    group_id: uuid.UUID, user_id: uuid.UUID, session: SessionDep, principal: GroupAdmin, origin: OriginDep
) -> None:
    """Put a user of the tenant in the group (idempotent)."""
    await service.add_member(session=session, principal=principal, group_id=group_id, user_id=user_id, origin=origin)


@router.delete(
    "/admin/groups/{group_id}/members/{user_id}",
    operation_id="admin-groups-members-remove",
    status_code=204,
    tags=["admin"],
    summary="Remove a member",
)
async def remove_group_member(
    group_id: uuid.UUID, user_id: uuid.UUID, session: SessionDep, principal: GroupAdmin, origin: OriginDep
) -> None:
    """Take a user out of the group."""
    await service.remove_member(session=session, principal=principal, group_id=group_id, user_id=user_id, origin=origin)


@router.get(
    "/users/me/groups", operation_id="users-me-groups", response_model=list[GroupRead], tags=["users"], summary="My groups"
)
async def my_groups(session: SessionDep, principal: AnyPrincipal) -> list[GroupRead]:
    """The groups you belong to."""
    return await _group_reads(session, await service.my_groups(session=session, principal=principal))

"""Rules of sharing: shares with users and groups, what is shared with me, and who may share a node.

A share grants view < edit < reshare on a node and everything under it (see `nubes.files.sharing.access`,
which the files service consults on every route). Only the owner or a holder of reshare may share,
and never more than they hold.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.core import audit
from nubes.core.audit import Origin
from nubes.core.errors import (
    Conflict,
    Forbidden,
    NotFound,
    UnprocessableEntity,
)
from nubes.core.principal import Principal
from nubes.files.sharing import access
from nubes.files.sharing.models import FileShare
from nubes.files.sharing.schemas import ShareCreate, ShareUpdate, ShareWithUser
from nubes.files.tree import service as files_service
from nubes.files.tree.models import FileNode
from nubes.identity.groups import service as groups_service
from nubes.identity.users import directory
from nubes.identity.users import service as identity_service

# --- shares --------------------------------------------------------------------------------------


async def shareable(*, session: AsyncSession, principal: Principal, node_id: uuid.UUID) -> tuple[FileNode, int]:
    """A node the principal may share or link (owner or reshare holder), with the level they hold."""
    node = await files_service.get_or_raise(session=session, principal=principal, node_id=node_id, need=access.RESHARE)
    if node.kind == "root":
        raise UnprocessableEntity("Your root folder cannot be shared; share the folders and files in it.")
    return node, (await access.of(session, principal, node)).level


def _check_grant(held: int, permission: str) -> None:
    if access.LEVELS[permission] > held:
        raise Forbidden(f"You hold {access.NAMES[held]} on this; you cannot grant {permission}.")


async def create_share(
    *, session: AsyncSession, principal: Principal, node_id: uuid.UUID, share_in: ShareCreate, origin: Origin
) -> FileShare:
    """Share a node with a user or a group of the same tenant."""
    node, held = await shareable(session=session, principal=principal, node_id=node_id)
    _check_grant(held, share_in.permission)
    user_id: uuid.UUID | None = None
    group_id: uuid.UUID | None = None
    if isinstance(share_in, ShareWithUser):
        user = await identity_service.get_user(session=session, principal=principal, user_id=share_in.user_id)
        if user.tenant_id != node.tenant_id:  # super-admins see every tenant's users; shares stay inside one
            raise NotFound("No such user.")
        if user.id == node.owner_id:
            raise UnprocessableEntity(f"{directory.display_name(user)} owns {node.name!r} already.")
        if user.id == principal.user_id:
            raise UnprocessableEntity("You cannot share with yourself.")
        clash, user_id = FileShare.user_id == user.id, user.id
    else:
        group = await groups_service.get_group(session=session, principal=principal, group_id=share_in.group_id)
        clash, group_id = FileShare.group_id == group.id, group.id
    if await session.scalar(select(FileShare.id).where(FileShare.node_id == node.id, clash)) is not None:
        raise Conflict(f"{node.name!r} is already shared with them; change that share's permission instead.")
    share = FileShare(
        tenant_id=node.tenant_id,
        node_id=node.id,
        owner_id=node.owner_id,
        user_id=user_id,
        group_id=group_id,
        permission=share_in.permission,
        created_by=principal.user_id,
    )
    session.add(share)
    await session.flush()
    await _audit_share(session, principal, origin, "files.share.create", share=share, node=node)
    return share


async def _audit_share(
    session: AsyncSession, principal: Principal, origin: Origin, action: str, *, share: FileShare, node: FileNode
) -> None:
    await audit.record(
        session=session,
        action=action,
        origin=origin,
        principal=principal,
        target_type=node.kind,
        target_id=node.id,
        detail={
            "name": node.name,
            "share_id": str(share.id),
            "user_id": str(share.user_id) if share.user_id else None,
            "group_id": str(share.group_id) if share.group_id else None,
            "permission": share.permission,
        },
    )


async def list_shares(*, session: AsyncSession, principal: Principal, node_id: uuid.UUID) -> list[tuple[FileShare, bool]]:
    """The shares of a node (for its owner and those who may reshare it), each with whether it still holds.

    A reshare whose maker lost reshare stays listed, as ended, so the owner sees what stopped and can remove it.
    """
    node, _ = await shareable(session=session, principal=principal, node_id=node_id)
    rows = await session.scalars(
        select(FileShare)
        .where(FileShare.node_id == node.id, FileShare.tenant_id == principal.tenant_id)
        .order_by(FileShare.created_at)
    )
    holding = await access.holding_ids(session, node)
    return [(share, share.id in holding) for share in rows]


async def _share_of(
    session: AsyncSession, principal: Principal, node_id: uuid.UUID, share_id: uuid.UUID
) -> tuple[FileNode, FileShare]:
    node = await files_service.get_or_raise(session=session, principal=principal, node_id=node_id)
    share = await session.scalar(
        select(FileShare).where(
            FileShare.id == share_id, FileShare.node_id == node.id, FileShare.tenant_id == principal.tenant_id
        )
    )
    if share is None:
        raise NotFound(f"{node.name!r} has no share {share_id}.")
    return node, share


async def _may_manage(session: AsyncSession, principal: Principal, node: FileNode, share: FileShare) -> int:
    """The level the principal holds, when they may change this share: the owner any, a resharer the ones they made."""
    held = (await access.of(session, principal, node)).level
    if held == access.OWNER or (held >= access.RESHARE and share.created_by == principal.user_id):
        return held
    raise Forbidden("Only the owner, or whoever made this share, can change it.")


async def update_share(
    *,
    session: AsyncSession,
    principal: Principal,
    node_id: uuid.UUID,
    share_id: uuid.UUID,
    share_in: ShareUpdate,
    origin: Origin,
) -> FileShare:
    """Change a share's permission."""
    node, share = await _share_of(session, principal, node_id, share_id)
    held = await _may_manage(session, principal, node, share)
    _check_grant(held, share_in.permission)
    share.permission = share_in.permission
    await session.flush()
    await _audit_share(session, principal, origin, "files.share.update", share=share, node=node)
    return share


async def delete_share(
    *, session: AsyncSession, principal: Principal, node_id: uuid.UUID, share_id: uuid.UUID, origin: Origin
) -> None:
    """Revoke a share (its recipient may also leave a share made to them); access ends with this transaction."""
    node, share = await _share_of(session, principal, node_id, share_id)
    if share.user_id != principal.user_id:
        await _may_manage(session, principal, node, share)
    await _audit_share(session, principal, origin, "files.share.revoke", share=share, node=node)
    await session.delete(share)
    await session.flush()


async def share_holds(*, session: AsyncSession, share: FileShare) -> bool:
    """Whether a share gives access now (a reshare gives none once its maker lost reshare)."""
    node = await session.get_one(FileNode, share.node_id)
    return share.created_by == node.owner_id or share.id in await access.holding_ids(session, node)


@dataclass(frozen=True, slots=True)
class Shared:
    """A node shared with the principal and how: the best permission, who shared it, through which groups."""

    node: FileNode
    permission: str
    shared_by: uuid.UUID | None
    via_groups: list[uuid.UUID]
    shared_at: datetime


async def shared_with_me(*, session: AsyncSession, principal: Principal) -> list[Shared]:
    """Live nodes of others shared with the principal, directly or through their groups, newest share first."""
    rows = (
        await session.execute(
            select(FileShare, FileNode)
            .join(FileNode, FileNode.id == FileShare.node_id)
            .where(
                FileShare.tenant_id == principal.tenant_id,
                access.recipient(principal),
                FileNode.in_trash.is_(False),
                FileNode.owner_id != principal.user_id,
            )
            .order_by(FileShare.created_at.desc())
        )
    ).all()
    found: dict[uuid.UUID, Shared] = {}
    holding: dict[uuid.UUID, set[uuid.UUID]] = {}
    for share, node in rows:
        if share.created_by != node.owner_id:  # a reshare counts only while its maker's access holds
            if node.id not in holding:
                holding[node.id] = await access.holding_ids(session, node)
            if share.id not in holding[node.id]:
                continue
        seen = found.get(node.id)
        groups = [share.group_id] if share.group_id else []
        if seen is None:
            found[node.id] = Shared(node, share.permission, share.created_by, groups, share.created_at)
            continue
        best = share if access.LEVELS[share.permission] > access.LEVELS[seen.permission] else None
        found[node.id] = Shared(
            node,
            best.permission if best else seen.permission,
            best.created_by if best else seen.shared_by,
            seen.via_groups + groups,
            max(seen.shared_at, share.created_at),
        )
    return list(found.values())


def names_needed(shares: Sequence[FileShare]) -> tuple[set[uuid.UUID | None], set[uuid.UUID | None]]:
    """The user and group ids a list of shares mentions."""
    users = {share.user_id for share in shares} | {share.created_by for share in shares}
    groups = {share.group_id for share in shares}
    return users, groups

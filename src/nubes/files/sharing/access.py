"""Who may do what to a node: its owner everything, others what the shares on it or on a folder above it grant.

Levels are ordered (view < edit < reshare < owner): each includes the ones below it. Shares are read
on every request, so a revoked share (or a user taken out of a group) loses access at once.

A share made by someone other than the owner (a reshare) holds only while its maker still holds
reshare there, through shares that hold themselves: access given through someone's share ends when
their access ends (revoked, lowered below reshare, out of the group, deactivated), and comes back
only if the owner gives them reshare again. No chain of reshares can float free of the owner.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal, cast

from sqlalchemy import ColumnElement, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from nubes.core.principal import Principal
from nubes.files.sharing.models import FileShare
from nubes.files.tree.models import FileNode
from nubes.identity.users import directory

Permission = Literal["view", "edit", "reshare"]
NONE, VIEW, EDIT, RESHARE, OWNER = 0, 1, 2, 3, 4
LEVELS: dict[str, int] = {"view": VIEW, "edit": EDIT, "reshare": RESHARE}
NAMES: dict[int, str] = {VIEW: "view", EDIT: "edit", RESHARE: "reshare", OWNER: "owner"}


@dataclass(frozen=True, slots=True)
class Access:
    """What the principal holds on a node, and the topmost node of the share that grants it (None: the owner)."""

    level: int
    top_id: uuid.UUID | None = None


async def chain_ids(session: AsyncSession, node: FileNode) -> list[uuid.UUID]:
    """`node`'s id and its ancestors' ids, from the node up to the root (one recursive query)."""
    base = select(FileNode.id, FileNode.parent_id, literal(0).label("depth")).where(FileNode.id == node.id)
    chain = base.cte("share_chain", recursive=True)
    parent = aliased(FileNode)
    chain = chain.union_all(
        select(parent.id, parent.parent_id, (chain.c.depth + 1).label("depth")).where(parent.id == chain.c.parent_id)
    )
    rows = await session.execute(select(chain.c.id).order_by(chain.c.depth))
    return [row[0] for row in rows]


def recipient(principal: Principal) -> ColumnElement[bool]:
    """The shares that name the principal, directly or through one of their groups."""
    if principal.group_ids:
        return or_(FileShare.user_id == principal.user_id, FileShare.group_id.in_(principal.group_ids))
    return FileShare.user_id == principal.user_id


async def _shares_on(session: AsyncSession, node: FileNode, chain: list[uuid.UUID]) -> list[FileShare]:
    return list(
        await session.scalars(select(FileShare).where(FileShare.tenant_id == node.tenant_id, FileShare.node_id.in_(chain)))
    )


async def _holding(session: AsyncSession, node: FileNode, chain: list[uuid.UUID], shares: list[FileShare]) -> list[FileShare]:
    """The shares of `chain` that hold: made by the owner, or by an active user who holds reshare there through shares that hold.

    A fixpoint grown from the owner's shares (bounded by the number of shares), so two resharers who
    shared with each other cannot keep each other alive once the owner's share to them is gone.
    """
    held = [share for share in shares if share.created_by == node.owner_id]
    waiting = [share for share in shares if share.created_by is not None and share.created_by != node.owner_id]
    if not waiting:
        return held
    makers = await directory.active_memberships(
        session=session, tenant_id=node.tenant_id, user_ids={cast("uuid.UUID", share.created_by) for share in waiting}
    )
    depth = {node_id: index for index, node_id in enumerate(chain)}  # 0: the node; higher: further up
    grew = True
    while grew:
        grew = False
        for share in list(waiting):
            maker = cast("uuid.UUID", share.created_by)
            groups = makers.get(maker)
            if groups is None:
                continue
            level = max(
                (
                    LEVELS[grant.permission]
                    for grant in held
                    if depth[grant.node_id] >= depth[share.node_id] and (grant.user_id == maker or grant.group_id in groups)
                ),
                default=NONE,
            )
            if level >= RESHARE:
                held.append(share)
                waiting.remove(share)
                grew = True
    return held


async def holding_ids(session: AsyncSession, node: FileNode) -> set[uuid.UUID]:
    """The ids of the shares on `node` and the folders above it that hold (see the module's rule)."""
    chain = await chain_ids(session, node)
    return {share.id for share in await _holding(session, node, chain, await _shares_on(session, node, chain))}


def _best(chain: list[uuid.UUID], grants: list[tuple[uuid.UUID, str]]) -> Access:
    if not grants:
        return Access(NONE)
    level = max(LEVELS[permission] for _, permission in grants)
    shared = {node_id for node_id, _ in grants}
    top = next(node_id for node_id in reversed(chain) if node_id in shared)
    return Access(level, top)


async def of(session: AsyncSession, principal: Principal, node: FileNode) -> Access:
    """The principal's access to a node of their tenant (NONE for another tenant's node)."""
    if node.tenant_id != principal.tenant_id:
        return Access(NONE)
    if node.owner_id == principal.user_id:
        return Access(OWNER)
    chain = await chain_ids(session, node)
    mine = list(
        await session.scalars(
            select(FileShare).where(
                FileShare.tenant_id == principal.tenant_id, FileShare.node_id.in_(chain), recipient(principal)
            )
        )
    )
    if any(share.created_by != node.owner_id for share in mine):  # a reshare: it holds only while its maker's access does
        holding = {share.id for share in await _holding(session, node, chain, await _shares_on(session, node, chain))}
        mine = [share for share in mine if share.id in holding]
    return _best(chain, [(share.node_id, share.permission) for share in mine])


async def of_user(session: AsyncSession, node: FileNode, user_id: uuid.UUID | None) -> int:
    """What a user holds on a node now, through shares that hold (NONE when deactivated, gone, or of another tenant)."""
    if user_id is None:
        return NONE
    if node.owner_id == user_id:
        return OWNER
    groups = (await directory.active_memberships(session=session, tenant_id=node.tenant_id, user_ids=[user_id])).get(user_id)
    if groups is None:
        return NONE
    chain = await chain_ids(session, node)
    holding = await _holding(session, node, chain, await _shares_on(session, node, chain))
    return _best(
        chain, [(share.node_id, share.permission) for share in holding if share.user_id == user_id or share.group_id in groups]
    ).level

"""Who may do what to a node: its owner everything, others what the shares on it or on a folder above it grant.

Levels are ordered (view < edit < reshare < owner): each includes the ones below it. Shares are read
on every request, so a revoked share (or a user taken out of a group) loses access at once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import ColumnElement, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from nubes.core.principal import Principal
from nubes.files.models import FileNode
from nubes.files.sharing_models import FileShare

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


async def of(session: AsyncSession, principal: Principal, node: FileNode) -> Access:
    """The principal's access to a node of their tenant (NONE for another tenant's node)."""
    if node.tenant_id != principal.tenant_id:
        return Access(NONE)
    if node.owner_id == principal.user_id:
        return Access(OWNER)
    chain = await chain_ids(session, node)
    rows = (
        await session.execute(
            select(FileShare.node_id, FileShare.permission).where(
                FileShare.tenant_id == principal.tenant_id, FileShare.node_id.in_(chain), recipient(principal)
            )
        )
    ).all()
    if not rows:
        return Access(NONE)
    level = max(LEVELS[permission] for _, permission in rows)
    shared = {node_id for node_id, _ in rows}
    top = next(node_id for node_id in reversed(chain) if node_id in shared)
    return Access(level, top)

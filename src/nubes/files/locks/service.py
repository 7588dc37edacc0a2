"""Rules of locks: which locks cover a node, who holds them, taking, refreshing and releasing them.

One set of rules for every door. A lock covers its node and, with depth infinity, everything below it; a lock on a
folder (any depth) also guards the folder's members (what is added to it, moved or deleted from it: RFC 4918 7.4).
A write is refused (423) when a lock covers what it changes and the caller holds none of the locks there:

- through WebDAV a lock is held when the request names its token (in `If`) and the caller is the user who took it
  (`tokens` given: see `nubes.files.dav.locking.check_write`);
- through the REST API, which has no way to name a token, the user who took a lock holds it (`tokens` None), so
  locks keep everyone else out while their owner works in both the browser and a client.

The tree services call `ensure_unlocked` before each write; this module reads the tree's table but never imports
the tree's service (which imports this one).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from nubes.core.db import utcnow
from nubes.core.errors import Forbidden, NotFound, NubesError
from nubes.core.principal import Principal
from nubes.files.locks.models import TOKEN_PREFIX, FileLock
from nubes.files.tree.models import FileNode
from nubes.identity.users import directory

DEFAULT_TIMEOUT = timedelta(hours=1)
"""A lock's life when the client asks for none."""
MAX_TIMEOUT = timedelta(days=1)
"""The longest life a lock gets (an `Infinite` timeout too): a client that vanishes holds a file for a day at most."""
BATCH = 500  # ids per statement (far below both engines' parameter limits)
ADMIN_PERMISSION = "admin.users"  # a tenant's administrators (the admin and owner roles) may force locks open


class Locked(NubesError):
    """A lock the caller does not hold covers what the request would change (RFC 4918 `DAV:lock-token-submitted`)."""

    status, code, title = 423, "locked", "Locked"

    def __init__(self, detail: str, *, lock: FileLock, holder: str, node_name: str) -> None:
        super().__init__(
            detail,
            extensions={
                "locked_by": holder,
                "lock_expires_at": lock.expires_at.isoformat(),
                "lock_root": lock.root,
                "node": node_name,
            },
        )
        self.lock = lock
        self.holder = holder


class ConflictingLock(Locked):
    """A LOCK that another lock there excludes (RFC 4918 `DAV:no-conflicting-lock`)."""

    code, title = "no-conflicting-lock", "Locked"


# --- tokens and timeouts ---------------------------------------------------------------------------


def lock_id(token: str) -> uuid.UUID | None:
    """The lock id a token names (`FileLock.token`); None for anything else (a forged or corrupted token)."""
    token = token.strip()
    if not token.startswith(TOKEN_PREFIX) or len(token) != len(TOKEN_PREFIX) + 22:
        return None
    try:
        raw = base64.urlsafe_b64decode(token[len(TOKEN_PREFIX) :] + "==")
    except (ValueError, binascii.Error):
        return None
    found = uuid.UUID(bytes=raw) if len(raw) == 16 else None
    return found if found is not None and FileLock.token_of(found) == token else None


def timeout_of(header: str | None) -> timedelta:
    """The life a `Timeout` header asks for (`Second-N`, `Infinite`; the first one understood), bounded."""
    for part in (header or "").split(","):
        value = part.strip()
        if value.lower() == "infinite":
            return MAX_TIMEOUT
        if value[:7].lower() == "second-" and value[7:].isdigit():
            return min(timedelta(seconds=max(int(value[7:]), 1)), MAX_TIMEOUT)
    return DEFAULT_TIMEOUT


# --- reading ---------------------------------------------------------------------------------------


def _live(now: datetime) -> Any:
    return FileLock.expires_at > now


async def any_live(*, session: AsyncSession, tenant_id: uuid.UUID) -> bool:
    """Whether the tenant holds any unexpired lock (one index probe: the fast path of every write)."""
    found = await session.scalar(select(FileLock.id).where(FileLock.tenant_id == tenant_id, _live(utcnow())).limit(1))
    return found is not None


def _chunks(ids: list[uuid.UUID]) -> Iterable[list[uuid.UUID]]:
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]


async def covering(
    *, session: AsyncSession, tenant_id: uuid.UUID | None, node_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[FileLock]]:
    """The live locks that cover each node: its own (any depth) and its ancestors' of depth infinity, oldest first.

    Three statements a batch of nodes: the nodes' own locks, their parents, then the locks of the ancestors of those
    parents (nodes of one folder share their ancestors, so a folder's page walks up once). `tenant_id` None: the
    caller checked the nodes' tenant already (a lock is always its node's tenant's).
    """
    wanted = list(dict.fromkeys(node_ids))
    found: dict[uuid.UUID, list[FileLock]] = {node_id: [] for node_id in wanted}
    now = utcnow()
    tenant = FileLock.tenant_id == tenant_id if tenant_id is not None else FileLock.id.is_not(None)
    for chunk in _chunks(wanted):
        own = await session.scalars(select(FileLock).where(tenant, FileLock.node_id.in_(chunk), _live(now)))
        for lock in own:
            found[lock.node_id].append(lock)
        parents = dict((await session.execute(select(FileNode.id, FileNode.parent_id).where(FileNode.id.in_(chunk)))).all())
        starts = {parent for parent in parents.values() if parent is not None}
        if not starts:
            continue
        chain = select(FileNode.id.label("start"), FileNode.id.label("id"), FileNode.parent_id.label("parent_id")).where(
            FileNode.id.in_(starts)
        )
        chain_cte = chain.cte("lock_chain", recursive=True)
        up = aliased(FileNode)
        chain_cte = chain_cte.union_all(select(chain_cte.c.start, up.id, up.parent_id).where(up.id == chain_cte.c.parent_id))
        inherited = await session.execute(
            select(chain_cte.c.start, FileLock)
            .join(FileLock, FileLock.node_id == chain_cte.c.id)
            .where(tenant, FileLock.depth_infinity.is_(True), _live(now))
        )
        by_start: dict[uuid.UUID, list[FileLock]] = {}
        for start, lock in inherited.all():
            by_start.setdefault(start, []).append(lock)
        for node_id, parent in parents.items():
            if parent is not None:
                found[node_id].extend(by_start.get(parent, []))
    for locks in found.values():
        locks.sort(key=lambda lock: (lock.created_at, lock.id))
    return found


async def below(*, session: AsyncSession, tenant_id: uuid.UUID, node_id: uuid.UUID) -> list[FileLock]:
    """The live locks on nodes strictly below `node_id` (live or in the trash alike)."""
    tree = select(FileNode.id).where(FileNode.parent_id == node_id).cte("lock_tree", recursive=True)
    child = aliased(FileNode)
    tree = tree.union_all(select(child.id).where(child.parent_id == tree.c.id))
    rows = await session.scalars(
        select(FileLock)
        .where(FileLock.tenant_id == tenant_id, FileLock.node_id.in_(select(tree.c.id)), _live(utcnow()))
        .order_by(FileLock.created_at, FileLock.id)
    )
    return list(rows)


async def by_token(*, session: AsyncSession, tenant_id: uuid.UUID, token: str) -> FileLock | None:
    """The live lock of the tenant a token names (None: a forged, expired or foreign token)."""
    found = lock_id(token)
    if found is None:
        return None
    return await session.scalar(select(FileLock).where(FileLock.id == found, FileLock.tenant_id == tenant_id, _live(utcnow())))


# --- the rule every write follows ----------------------------------------------------------------


def holds(principal: Principal, lock: FileLock, tokens: Collection[str] | None) -> bool:
    """Whether the caller holds `lock`: took it, and (through WebDAV, `tokens` given) named its token."""
    if lock.owner_id != principal.user_id or lock.tenant_id != principal.tenant_id:
        return False
    return tokens is None or any(lock_id(token) == lock.id for token in tokens)


async def ensure_unlocked(
    *,
    session: AsyncSession,
    principal: Principal,
    nodes: Sequence[FileNode | None],
    subtree: FileNode | None = None,
    tokens: Collection[str] | None = None,
) -> None:
    """Raise `Locked` (423, naming the holder and the expiry) unless the caller may change `nodes` (and what lies
    below `subtree`: a folder deleted or moved).

    A node is free when no lock covers it, or when the caller holds one of the locks that do (shared locks let any
    of their holders write). Pass a folder in `nodes` when its members change (a file made in it, a node moved or
    deleted from it). `tokens`: the lock tokens a WebDAV request named; None for the REST API (see the module).
    """
    wanted = [node for node in nodes if node is not None]
    if not wanted and subtree is None:
        return
    if not await any_live(session=session, tenant_id=principal.tenant_id):
        return
    named = {node.id: node.name or "Your files" for node in wanted}
    ids = list(named)
    if subtree is not None:
        for lock in await below(session=session, tenant_id=principal.tenant_id, node_id=subtree.id):
            if lock.node_id not in named:
                ids.append(lock.node_id)
                named[lock.node_id] = ""
    locks = await covering(session=session, tenant_id=principal.tenant_id, node_ids=ids)
    for node_id in ids:
        there = locks[node_id]
        if there and not any(holds(principal, lock, tokens) for lock in there):
            name = named[node_id] or await session.scalar(select(FileNode.name).where(FileNode.id == node_id)) or ""
            raise await locked_error(session=session, lock=there[0], node_name=name)


async def locked_error(*, session: AsyncSession, lock: FileLock, node_name: str, conflict: bool = False) -> Locked:
    """The 423 that says who holds `lock` and until when."""
    holder = (await directory.user_names(session=session, tenant_id=lock.tenant_id, ids=[lock.owner_id])).get(
        lock.owner_id, "another user"
    )
    until = lock.expires_at.strftime("%Y-%m-%d %H:%M UTC")
    kind = "an exclusive" if lock.exclusive else "a shared"
    what = f"{node_name!r} is" if node_name else "Something in it is"
    detail = (
        f"{what} locked by {holder} until {until} (WebDAV, {kind} lock); "
        "wait for it to be unlocked or ask them (or an administrator) to unlock it."
    )
    error_type = ConflictingLock if conflict else Locked
    return error_type(detail, lock=lock, holder=holder, node_name=node_name)


# --- taking, refreshing and releasing ----------------------------------------------------------------


async def create(
    *,
    session: AsyncSession,
    principal: Principal,
    node: FileNode,
    root: str,
    exclusive: bool,
    depth_infinity: bool,
    owner_xml: str | None,
    life: timedelta,
) -> FileLock:
    """A new lock on `node`; `ConflictingLock` (423) when a lock there excludes it.

    An exclusive lock conflicts with every lock covering the node (and, with depth infinity, every lock below it); a
    shared one with the exclusive ones only. Expired locks of the tenant are swept first.
    """
    now = utcnow()
    await session.execute(
        delete(FileLock)
        .where(FileLock.tenant_id == principal.tenant_id, FileLock.expires_at <= now)
        .execution_options(synchronize_session=False)
    )
    present = (await covering(session=session, tenant_id=principal.tenant_id, node_ids=[node.id]))[node.id]
    if depth_infinity:
        present += await below(session=session, tenant_id=principal.tenant_id, node_id=node.id)
    for other in present:
        if exclusive or other.exclusive:
            name = (
                node.name
                if other.node_id == node.id
                else await session.scalar(select(FileNode.name).where(FileNode.id == other.node_id))
            )
            raise await locked_error(session=session, lock=other, node_name=name or "", conflict=True)
    lock = FileLock(
        tenant_id=principal.tenant_id,
        node_id=node.id,
        owner_id=principal.user_id,
        exclusive=exclusive,
        depth_infinity=depth_infinity,
        owner_xml=owner_xml,
        root=root,
        created_at=now,
        expires_at=now + life,
    )
    session.add(lock)
    await session.flush()
    return lock


async def refresh(*, session: AsyncSession, lock: FileLock, life: timedelta) -> FileLock:
    """Give a lock a new life of `life` from now."""
    lock.expires_at = utcnow() + life
    await session.flush()
    return lock


async def release(*, session: AsyncSession, principal: Principal, lock: FileLock, force: bool = False) -> None:
    """Remove a lock: by the user who took it, or (`force`) by an administrator of its tenant."""
    if lock.tenant_id != principal.tenant_id:
        raise NotFound("No such lock.")
    if lock.owner_id != principal.user_id and not (force and principal.can(ADMIN_PERMISSION)):
        raise Forbidden("Only the user who locked it, or an administrator, can unlock it.")
    await session.delete(lock)
    await session.flush()


async def release_tree(*, session: AsyncSession, tenant_id: uuid.UUID, node: FileNode) -> None:
    """Drop the locks on a node and everything below it: it was deleted or moved, and a lock never follows its
    resource to another URL (RFC 4918 7.5, 9.9.4)."""
    if not await any_live(session=session, tenant_id=tenant_id):
        return
    doomed = [node.id, *{lock.node_id for lock in await below(session=session, tenant_id=tenant_id, node_id=node.id)}]
    await session.execute(
        delete(FileLock)
        .where(FileLock.tenant_id == tenant_id, FileLock.node_id.in_(doomed))
        .execution_options(synchronize_session=False)
    )


async def sweep(sessions: async_sessionmaker[AsyncSession]) -> int:
    """Delete every expired lock of the install (the periodic sweep; a new lock sweeps its tenant's too): how many went."""
    async with sessions() as session:
        result = await session.execute(
            delete(FileLock).where(FileLock.expires_at <= utcnow()).execution_options(synchronize_session=False)
        )
        await session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


# --- the REST API: a node's locks, and unlocking it ---------------------------------------------------


async def node_for_admin(*, session: AsyncSession, principal: Principal, node_id: uuid.UUID) -> FileNode | None:
    """Any live node of the principal's tenant, when the principal administers it (None otherwise)."""
    if not principal.can(ADMIN_PERMISSION):
        return None
    return await session.scalar(
        select(FileNode).where(FileNode.id == node_id, FileNode.tenant_id == principal.tenant_id, FileNode.in_trash.is_(False))
    )


async def of_node(*, session: AsyncSession, principal: Principal, node: FileNode) -> list[FileLock]:
    """The live locks covering a node the caller may see (its own and its ancestors' of depth infinity)."""
    return (await covering(session=session, tenant_id=principal.tenant_id, node_ids=[node.id]))[node.id]


async def of_children(*, session: AsyncSession, principal: Principal, folder: FileNode) -> list[FileLock]:
    """The live locks on the direct children of a folder the caller may see (one statement: a listing page's locks)."""
    rows = await session.scalars(
        select(FileLock)
        .join(FileNode, FileNode.id == FileLock.node_id)
        .where(
            FileLock.tenant_id == principal.tenant_id,
            FileNode.parent_id == folder.id,
            FileNode.in_trash.is_(False),
            _live(utcnow()),
        )
        .order_by(FileLock.created_at, FileLock.id)
    )
    return list(rows)


async def unlock_node(*, session: AsyncSession, principal: Principal, node: FileNode, force: bool) -> int:
    """Remove the locks on a node (not its ancestors'): the caller's own; every one with `force` (an administrator).

    403 when locks of someone else remain and the caller may not force them; returns how many went.
    """
    locks = list(
        await session.scalars(
            select(FileLock).where(FileLock.tenant_id == principal.tenant_id, FileLock.node_id == node.id, _live(utcnow()))
        )
    )
    if not locks:
        raise NotFound(f"{node.name!r} is not locked.")
    mine = [lock for lock in locks if lock.owner_id == principal.user_id]
    others = [lock for lock in locks if lock.owner_id != principal.user_id]
    if others and not (force and principal.can(ADMIN_PERMISSION)):
        if not mine:
            holder = await locked_error(session=session, lock=others[0], node_name=node.name)
            raise Forbidden(f"{holder.detail} Only the user who locked it, or an administrator, can unlock it.")
        others = []
    for lock in [*mine, *others]:
        await session.delete(lock)
    await session.flush()
    return len(mine) + len(others)


async def holder_names(*, session: AsyncSession, tenant_id: uuid.UUID, locks: Sequence[FileLock]) -> dict[uuid.UUID, str]:
    """The display names of the users who took these locks."""
    return await directory.user_names(session=session, tenant_id=tenant_id, ids=[lock.owner_id for lock in locks])

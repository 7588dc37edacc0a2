"""Rules of the tree: folders and files in each user's space, uploads, trash, search and favorites.

Every query filters by the principal's tenant and user: another tenant's (or user's) node is a 404.
Blobs are written before the rows that point at them; a blob whose transaction rolls back is
deleted, and the blobs of purged rows are deleted only once the purge is committed (`own_blob`, `free_blobs`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import mimetypes
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Integer, Row, Select, and_, bindparam, case, delete, exists, func, insert, intersect, literal, or_, select
from sqlalchemy import update as update_rows
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from nubes.config import Settings
from nubes.core import audit, jobs
from nubes.core.audit import Origin
from nubes.core.db import utcnow
from nubes.core.errors import BadRequest, Conflict, FieldError, Forbidden, NotFound, NubesError, UnprocessableEntity
from nubes.core.principal import Principal
from nubes.core.storage import BlobInfo, SizeMismatch, Storage, TooLarge
from nubes.files.locks import service as locks
from nubes.files.quota import service as quota
from nubes.files.sharing import access
from nubes.files.sharing.models import FileShare
from nubes.files.thumbnails import tasks
from nubes.files.tree import names
from nubes.files.tree.models import FileFavorite, FileNameTerm, FileNode
from nubes.files.tree.schemas import FileCopy, FileRead, FileUpdate, FolderCreate
from nubes.files.versions.models import FileVersion, TenantFilesSettings

SEARCH_LIMIT = 50
RECENT_LIMIT = 50
ZIP_PATH_LIMIT = 65_535  # a zip stores a member's name length in 16 bits
SMALL_UPLOAD = 1024 * 1024
"""Bodies of at most this many bytes (declared) are uploaded in one transaction (`upload_small`), read before the checks."""
BATCH = 500  # ids per statement: far below the parameter limits of SQLite (32,766) and PostgreSQL (65,535)
_LAST = "\U0010ffff"  # sorts after every character: `term < prefix + _LAST` closes a prefix range


class NameTaken(Conflict):
    """Another live node in the folder has the same name (after normalization and case folding)."""

    code, title = "name-taken", "Name already taken"


class UploadIncomplete(BadRequest):
    """The body ended early, ran past its Content-Length, or the client went away."""

    code, title = "upload-incomplete", "Upload incomplete"


# --- blobs and transactions ------------------------------------------------------------------------


def own_blob(*, session: AsyncSession, storage: Storage, key: str) -> None:
    """A blob the session's transaction wrote: deleted if that transaction (or the savepoint it was written in) rolls back."""
    jobs.after_rollback(session, functools.partial(_delete_blobs, storage, [key]))


def free_blobs(*, session: AsyncSession, storage: Storage, keys: Iterable[str]) -> None:
    """Blobs the session's transaction stops using: deleted once its outermost transaction commits, never before."""
    doomed = list(keys)
    if doomed:
        jobs.after_commit(session, functools.partial(_delete_blobs, storage, doomed))


async def _delete_blobs(storage: Storage, keys: list[str]) -> None:
    for key in keys:
        with contextlib.suppress(Exception):  # an orphan blob is harmless; a failed delete must not crash
            await storage.delete(key)


# --- quotas ---------------------------------------------------------------------------------------


# --- reading the tree ----------------------------------------------------------------------------


def _owned(principal: Principal) -> Any:
    return and_(FileNode.tenant_id == principal.tenant_id, FileNode.owner_id == principal.user_id)


async def get_root(*, session: AsyncSession, principal: Principal) -> FileNode:
    """The principal's root folder, created on first use."""
    query = select(FileNode).where(_owned(principal), FileNode.parent_id.is_(None))
    root = await session.scalar(query)
    if root is not None:
        return root
    try:
        async with session.begin_nested():
            root = FileNode(
                tenant_id=principal.tenant_id, owner_id=principal.user_id, parent_id=None, kind="root", name="", name_key=""
            )
            session.add(root)
    except IntegrityError:  # a parallel first request made it
        root = await session.scalar(query)
        if root is None:
            raise
    return root


async def get_or_raise(
    *, session: AsyncSession, principal: Principal, node_id: uuid.UUID, trashed: bool = False, need: int = access.VIEW
) -> FileNode:
    """A live node the principal owns or was shared with `need` (or, with `trashed`, a node they put in the trash).

    404 when they cannot see it at all (another tenant's, another user's not shared with them);
    403 when a share lets them see it but not do what `need` asks.
    """
    if trashed:
        node = await session.scalar(
            select(FileNode).where(_owned(principal), FileNode.id == node_id, FileNode.trashed_at.is_not(None))
        )
        if node is None:
            raise NotFound(f"No file or folder {node_id} in your trash.")
        return node
    node = await session.scalar(
        select(FileNode).where(FileNode.tenant_id == principal.tenant_id, FileNode.id == node_id, FileNode.in_trash.is_(False))
    )
    if node is None:
        raise NotFound(f"No file or folder {node_id} in your files.")
    if node.owner_id == principal.user_id:
        return node
    held = await access.of(session, principal, node)
    if held.level == access.NONE:
        raise NotFound(f"No file or folder {node_id} in your files.")
    if held.level < need:
        raise Forbidden(
            f"{node.name!r} is shared with you to {access.NAMES[held.level]} only; "
            f"ask its owner for {access.NAMES[need]} permission."
        )
    return node


def as_owner(principal: Principal, node: FileNode) -> Principal:
    """The principal on whose space and quota a write into `node`'s tree counts: the tree's owner."""
    if node.owner_id == principal.user_id:
        return principal
    return dataclasses.replace(principal, user_id=node.owner_id)


async def _folder(
    *, session: AsyncSession, principal: Principal, folder_id: uuid.UUID | None, need: int = access.VIEW
) -> FileNode:
    if folder_id is None:
        return await get_root(session=session, principal=principal)
    folder = await get_or_raise(session=session, principal=principal, node_id=folder_id, need=need)
    if folder.kind == "file":
        raise UnprocessableEntity(f"{folder.name!r} is a file, not a folder; choose a folder.")
    return folder


async def favorite_ids(*, session: AsyncSession, principal: Principal, node_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these nodes the principal starred."""
    if not node_ids:
        return set()
    rows = await session.scalars(
        select(FileFavorite.node_id).where(FileFavorite.user_id == principal.user_id, FileFavorite.node_id.in_(node_ids))
    )
    return set(rows)


# --- reading the tree as the API shows it (read rows) ------------------------------------------------------------
# Hot routes read only the columns a `FileRead` needs, and whether the viewer starred each node (an EXISTS on
# the favorites' primary key), in the same statement. The statements are built once, with bound parameters:
# building a SQLAlchemy statement costs more than running a small one.

_NODES, _FAVORITES = FileNode.__table__, FileFavorite.__table__  # Core, not ORM: rows, not entities, come back
# In `FileRead`'s field order, `favorite` last: a read row zips with the schema's fields (`files.deps.read_rows`).
_READ_COLUMNS = tuple(_NODES.c[name] for name in FileRead.model_fields if name != "favorite")
_CHECK_COLUMNS = (_NODES.c.tenant_id, _NODES.c.owner_id, _NODES.c.in_trash)


def _starred() -> Any:
    starred = _FAVORITES.alias("starred")  # its own name: the outer query may join the favorites too
    return exists().where(starred.c.user_id == bindparam("viewer_id"), starred.c.node_id == _NODES.c.id).label("favorite")


@functools.cache
def _node_read_statement() -> Select[Any]:
    return select(*_READ_COLUMNS, _starred(), *_CHECK_COLUMNS).where(
        _NODES.c.tenant_id == bindparam("tenant_id"), _NODES.c.id == bindparam("node_id"), _NODES.c.in_trash.is_(False)
    )


@functools.cache
def _root_read_statement() -> Select[Any]:
    return select(*_READ_COLUMNS, _starred(), *_CHECK_COLUMNS).where(
        _NODES.c.tenant_id == bindparam("tenant_id"), _NODES.c.owner_id == bindparam("viewer_id"), _NODES.c.parent_id.is_(None)
    )


@functools.cache
def _chain_read_statement() -> Select[Any]:
    """A node and its ancestors up to the root (one recursive query), the root first, the node last."""
    chain = select(_NODES.c.id, _NODES.c.parent_id, literal(0).label("depth")).where(_NODES.c.id == bindparam("node_id"))
    chain_cte = chain.cte("chain", recursive=True)
    up = _NODES.alias()
    chain_cte = chain_cte.union_all(
        select(up.c.id, up.c.parent_id, (chain_cte.c.depth + 1).label("depth")).where(up.c.id == chain_cte.c.parent_id)
    )
    return (
        select(*_READ_COLUMNS, _starred(), *_CHECK_COLUMNS)
        .join(chain_cte, chain_cte.c.id == _NODES.c.id)
        .order_by(chain_cte.c.depth.desc())
    )


@functools.cache
def page_read_statement() -> Select[Any]:
    """One page of a folder's live children (folders first, then by name), each with the count of them all.

    Children are folders or files only, and 'folder' > 'file': `kind DESC, name_key, id` is the order of
    `ix_file_nodes_parent_listing`, so the page is read from the index in order, never sorted.

    The count is an uncorrelated subquery, run once per statement; a window count (`count(*) OVER ()`) would
    evaluate every column of every child before the page is cut, favorites included.
    """
    child = _NODES.alias()
    everyone = (
        select(func.count())
        .select_from(child)
        .where(child.c.parent_id == bindparam("folder_id"), child.c.in_trash.is_(False))
        .scalar_subquery()
    )
    return (
        select(*_READ_COLUMNS, _starred(), everyone.label("total"))
        .where(_NODES.c.parent_id == bindparam("folder_id"), _NODES.c.in_trash.is_(False))
        .order_by(_NODES.c.kind.desc(), _NODES.c.name_key, _NODES.c.id)
        .limit(bindparam("page_limit", type_=Integer))
        .offset(bindparam("page_offset", type_=Integer))
    )


async def read(*, session: AsyncSession, principal: Principal, statement: Select[Any]) -> list[Row[Any]]:
    """The nodes a `select(FileNode)` finds, as read rows: `FileRead`'s columns and `favorite`, in one statement."""
    reading: Select[Any] = statement.with_only_columns(*_READ_COLUMNS, _starred())
    return list(await session.execute(reading, {"viewer_id": principal.user_id}))


@dataclasses.dataclass(frozen=True)
class FolderRows:
    """A folder, the path to it and one page of its children, as rows of `FileRead`'s columns and `favorite`."""

    folder: Row[Any]
    path: list[Row[Any]]
    items: list[Row[Any]]
    total: int


async def get_read(*, session: AsyncSession, principal: Principal, node_id: uuid.UUID) -> Row[Any]:
    """A live node the principal may view, as a row of `FileRead`'s columns and `favorite`; 404 as `get_or_raise`."""
    row: Row[Any] | None = (
        await session.execute(
            _node_read_statement(),
            {"tenant_id": principal.tenant_id, "node_id": node_id, "viewer_id": principal.user_id},
        )
    ).first()
    if row is None:
        raise NotFound(f"No file or folder {node_id} in your files.")
    if row.owner_id != principal.user_id:
        await get_or_raise(session=session, principal=principal, node_id=node_id)  # a share, or 404
    return row


async def list_read(
    *, session: AsyncSession, principal: Principal, parent_id: uuid.UUID | None, limit: int, offset: int
) -> FolderRows:
    """What `list_children` answers, as rows of `FileRead`'s columns and `favorite` (two statements for your own folders)."""
    viewer = {"viewer_id": principal.user_id}
    if parent_id is None:
        root = (await session.execute(_root_read_statement(), {"tenant_id": principal.tenant_id, **viewer})).first()
        if root is None:  # made on first use
            await get_root(session=session, principal=principal)
            root = (await session.execute(_root_read_statement(), {"tenant_id": principal.tenant_id, **viewer})).one()
        folder, path = root, []
    else:
        chain = list(await session.execute(_chain_read_statement(), {"node_id": parent_id, **viewer}))
        folder = chain[-1] if chain else None
        if folder is None or folder.id != parent_id or folder.tenant_id != principal.tenant_id or folder.in_trash:
            raise NotFound(f"No file or folder {parent_id} in your files.")
        path = chain[:-1]
        if folder.owner_id != principal.user_id:
            # Someone else's tree: a share, or 404; the path starts at the folder that was shared, never above it.
            node = await get_or_raise(session=session, principal=principal, node_id=parent_id)
            top = (await access.of(session, principal, node)).top_id
            ids = [entry.id for entry in path]
            path = path[ids.index(top) :] if top in ids else []
        if folder.kind == "file":
            raise UnprocessableEntity(f"{folder.name!r} is a file, not a folder; choose a folder.")
    items = list(
        await session.execute(
            page_read_statement(), {"folder_id": folder.id, "page_limit": limit, "page_offset": offset, **viewer}
        )
    )
    if items:
        total = int(items[0].total)
    elif offset == 0:
        total = 0
    else:  # a page past the end: the count still counts
        live = and_(FileNode.parent_id == folder.id, FileNode.in_trash.is_(False))
        total = int(await session.scalar(select(func.count()).select_from(FileNode).where(live)) or 0)
    return FolderRows(folder=folder, path=path, items=items, total=total)


@dataclasses.dataclass(frozen=True)
class NodePlace:
    """Where a node is listed: its folder, how many of the folder's live children the listing shows before it, and
    how many it holds."""

    folder_id: uuid.UUID
    offset: int
    total: int


async def place(*, session: AsyncSession, principal: Principal, node_id: uuid.UUID) -> NodePlace:
    """Where the node is in its folder's listing (`list_read`'s order: folders first, then by name), so a reader
    opens the page that holds it: one count over the folder's children, whatever its size.

    404 unless the principal can list that folder too: a file shared alone says nothing of its owner's folder.
    """
    node = await get_or_raise(session=session, principal=principal, node_id=node_id)
    if node.parent_id is None:
        raise NotFound("Your root folder is in no folder.")
    try:
        await get_or_raise(session=session, principal=principal, node_id=node.parent_id)
    except NotFound:
        raise NotFound(f"{node.name!r} is not in a folder you can list.") from None
    before = or_(
        FileNode.kind > node.kind,
        and_(
            FileNode.kind == node.kind,
            or_(FileNode.name_key < node.name_key, and_(FileNode.name_key == node.name_key, FileNode.id < node.id)),
        ),
    )
    offset, total = (
        await session.execute(
            select(func.coalesce(func.sum(case((before, 1), else_=0)), 0), func.count()).where(
                FileNode.parent_id == node.parent_id, FileNode.in_trash.is_(False)
            )
        )
    ).one()
    return NodePlace(folder_id=node.parent_id, offset=int(offset), total=int(total))


async def ancestors(*, session: AsyncSession, node: FileNode) -> list[FileNode]:
    """The folders from the root down to `node`'s parent (one recursive query)."""
    if node.parent_id is None:
        return []
    chain = select(FileNode.id, FileNode.parent_id, literal(0).label("depth")).where(FileNode.id == node.parent_id)
    chain_cte = chain.cte("chain", recursive=True)
    parent = aliased(FileNode)
    chain_cte = chain_cte.union_all(
        select(parent.id, parent.parent_id, (chain_cte.c.depth + 1).label("depth")).where(parent.id == chain_cte.c.parent_id)
    )
    rows = await session.execute(
        select(FileNode, chain_cte.c.depth).join(chain_cte, chain_cte.c.id == FileNode.id).order_by(chain_cte.c.depth.desc())
    )
    return [row[0] for row in rows]


async def list_children(
    *, session: AsyncSession, principal: Principal, parent_id: uuid.UUID | None, limit: int, offset: int
) -> tuple[FileNode, list[FileNode], list[FileNode], int]:
    """A folder, its path, one page of its live children (folders first, then by name) and their count."""
    folder = await _folder(session=session, principal=principal, folder_id=parent_id)
    live = and_(FileNode.parent_id == folder.id, FileNode.in_trash.is_(False))
    total = await session.scalar(select(func.count()).select_from(FileNode).where(live))
    items = await session.scalars(
        select(FileNode).where(live).order_by(FileNode.kind.desc(), FileNode.name_key, FileNode.id).limit(limit).offset(offset)
    )
    path = await ancestors(session=session, node=folder)
    if folder.owner_id != principal.user_id:
        # Someone else's tree: the path starts at the folder that was shared, never above it.
        top = (await access.of(session, principal, folder)).top_id
        ids = [entry.id for entry in path]
        path = path[ids.index(top) :] if top in ids else []
    return folder, path, list(items), int(total or 0)


async def _subtree(session: AsyncSession, top: FileNode, *, live_only: bool) -> list[FileNode]:
    """`top` and every node under it, parents before children (breadth-first by depth)."""
    base = select(FileNode.id, literal(0).label("depth")).where(FileNode.id == top.id)
    tree = base.cte("tree", recursive=True)
    child = aliased(FileNode)
    step = select(child.id, (tree.c.depth + 1).label("depth")).where(child.parent_id == tree.c.id)
    if live_only:
        step = step.where(child.in_trash.is_(False))
    tree = tree.union_all(step)
    rows = await session.execute(select(FileNode).join(tree, tree.c.id == FileNode.id).order_by(tree.c.depth, FileNode.name_key))
    return [row[0] for row in rows]


# --- writing the tree ----------------------------------------------------------------------------


def _checked_name(raw: str, field_name: str = "name") -> str:
    try:
        return names.normalize(raw)
    except names.BadName as exc:
        raise UnprocessableEntity(
            f"Invalid name: {exc}.", errors=[FieldError(loc=["body", field_name], msg=str(exc), type="invalid_name")]
        ) from None


async def refuses_windows_names(session: AsyncSession, tenant_id: uuid.UUID) -> bool:
    """Whether the tenant refuses names a Windows computer cannot hold (its files settings; allowed by default)."""
    row = await session.get(TenantFilesSettings, tenant_id)
    return row is not None and row.windows_names == "refuse"


async def _allowed_name(session: AsyncSession, principal: Principal, raw: str, field_name: str = "name") -> str:
    """A name checked as every name is, and against Windows' rules when the tenant refuses what Windows cannot hold."""
    name = _checked_name(raw, field_name)
    problem = names.windows_problem(name)  # most names have none: then the tenant's policy is not even read
    if problem is not None and await refuses_windows_names(session, principal.tenant_id):
        raise UnprocessableEntity(
            f"Invalid name {name!r}: {problem}. Pick another name.",
            errors=[FieldError(loc=["body", field_name], msg=problem, type="windows_name")],
        )
    return name


async def _taken(session: AsyncSession, folder: FileNode | uuid.UUID) -> set[str]:
    folder_id = folder if isinstance(folder, uuid.UUID) else folder.id
    return set(
        await session.scalars(select(FileNode.name_key).where(FileNode.parent_id == folder_id, FileNode.in_trash.is_(False)))
    )


async def _check_free(session: AsyncSession, folder: FileNode, name: str, *, ignore: uuid.UUID | None = None) -> None:
    clash = await session.scalar(
        select(FileNode.id).where(
            FileNode.parent_id == folder.id, FileNode.in_trash.is_(False), FileNode.name_key == names.clash_key(name)
        )
    )
    if clash is not None and clash != ignore:
        raise _name_taken(name, await _taken(session, folder))


def _name_taken(name: str, taken: set[str]) -> NameTaken:
    suggestion = names.free_name(name, taken)
    return NameTaken(
        f"Something named {name!r} is already in this folder; pick another name, such as {suggestion!r}.",
        errors=[FieldError(loc=["body", "name"], msg=suggestion, type="suggested_name")],
    )


def _term_rows(node: FileNode) -> list[dict[str, Any]]:
    """The search terms of a live node as rows of `file_name_terms` (none for a root, which has no name)."""
    if node.kind == "root":
        return []
    return [
        {"node_id": node.id, "term": term, "tenant_id": node.tenant_id, "owner_id": node.owner_id, "name_key": node.name_key}
        for term in names.terms(node.name)
    ]


async def _index_name(session: AsyncSession, node: FileNode, *, new: bool = False) -> None:
    """Put a node's search terms in step with its name (the node is flushed already); a node in the trash has none.

    `new`: the node was made in this transaction, so it has no terms to replace.
    """
    if not new:
        await session.execute(delete(FileNameTerm).where(FileNameTerm.node_id == node.id))
    rows = [] if node.in_trash else _term_rows(node)
    if rows:
        await session.execute(insert(FileNameTerm), rows)


async def _unindex(session: AsyncSession, node_ids: list[uuid.UUID]) -> None:
    """Take nodes out of the name search (they went to the trash)."""
    for chunk in _chunks(node_ids):
        await session.execute(
            delete(FileNameTerm).where(FileNameTerm.node_id.in_(chunk)).execution_options(synchronize_session=False)
        )


async def _place(session: AsyncSession, node: FileNode, folder: FileNode, *, alone: bool = False) -> None:
    """Insert a new `node` in `folder`, turning a clash on the unique name index into a 409 (the same as `_check_free`'s).

    `alone`: nothing else the transaction did is worth keeping after a clash, so the clash rolls it all back instead
    of a savepoint (two statements fewer).
    """
    if alone:
        folder_id = folder.id
        session.add(node)
        try:
            await session.flush()
        except IntegrityError:
            await session.rollback()
            raise _name_taken(node.name, await _taken(session, folder_id)) from None
        await _index_name(session, node, new=True)
        await session.flush()
        return
    try:
        async with session.begin_nested():
            session.add(node)
            await session.flush()
    except IntegrityError:
        raise _name_taken(node.name, await _taken(session, folder)) from None
    await _index_name(session, node, new=True)
    await session.flush()


async def claim_name(
    *, session: AsyncSession, principal: Principal, folder_id: uuid.UUID | None, name: str
) -> tuple[FileNode, str]:
    """The folder (None: the root) and the checked name of a file to be made there later; 409 when the name is taken."""
    clean = await _allowed_name(session, principal, name, "name")
    folder = await _folder(session=session, principal=principal, folder_id=folder_id, need=access.EDIT)
    await locks.ensure_unlocked(session=session, principal=principal, nodes=[folder])
    await _check_free(session, folder, clean)
    return folder, clean


async def create_file_from_blob(
    *,
    session: AsyncSession,
    principal: Principal,
    storage: Storage,
    folder_id: uuid.UUID | None,
    name: str,
    info: BlobInfo,
    content_type: str,
) -> FileNode:
    """A new file in a folder from a blob stored already (a finished upload); a name taken meanwhile gets a free variant.

    The caller charged the quota and owns the blob in this transaction (`own_blob`).
    """
    folder = await _folder(session=session, principal=principal, folder_id=folder_id, need=access.EDIT)
    await locks.ensure_unlocked(session=session, principal=principal, nodes=[folder])
    taken = await _taken(session, folder)
    if names.clash_key(name) in taken:  # something took the name while the bytes were on their way
        name = names.free_name(name, taken)
    now = utcnow()
    node = FileNode(
        tenant_id=principal.tenant_id,
        owner_id=principal.user_id,
        parent_id=folder.id,
        kind="file",
        name=name,
        name_key=names.clash_key(name),
        size=info.size,
        content_type=content_type_of(content_type),
        blob_key=info.key,
        sha256=info.sha256,
        version_no=1,
        created_at=now,
        updated_at=now,
        created_by=principal.user_id,
    )
    await _place(session, node, folder)
    await schedule_thumbnail(session=session, storage=storage, node=node, new=True)
    return node


async def free_name_in(*, session: AsyncSession, principal: Principal, folder_id: uuid.UUID, name: str) -> str:
    """`name` (checked), or its next free variant `stem (2).ext` in a folder the principal can see."""
    folder = await _folder(session=session, principal=principal, folder_id=folder_id)
    clean = await _allowed_name(session, principal, name, "file")
    return names.free_name(clean, await _taken(session, folder))


async def create_folder(*, session: AsyncSession, principal: Principal, folder_in: FolderCreate) -> FileNode:
    """A new empty folder."""
    parent = await _folder(session=session, principal=principal, folder_id=folder_in.parent_id, need=access.EDIT)
    name = await _allowed_name(session, principal, folder_in.name)
    await locks.ensure_unlocked(session=session, principal=principal, nodes=[parent])
    await _check_free(session, parent, name)
    now = utcnow()
    node = FileNode(
        tenant_id=principal.tenant_id,
        owner_id=parent.owner_id,
        parent_id=parent.id,
        kind="folder",
        name=name,
        name_key=names.clash_key(name),
        created_at=now,
        updated_at=now,
        created_by=principal.user_id,
    )
    await _place(session, node, parent)
    return node


async def _room(*, session: AsyncSession, settings: Settings, principal: Principal, expected_size: int | None) -> int | None:
    room = await quota.available(session=session, settings=settings, principal=principal)
    if room is not None and expected_size is not None and expected_size > room:
        raise quota.QuotaExceeded(f"This file is {expected_size} bytes; you have {room} bytes left. Free some space first.")
    return room


async def check_upload(
    *,
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    parent_id: uuid.UUID | None,
    name: str,
    expected_size: int | None,
) -> int | None:
    """Refuse an upload before reading its body (folder, name, declared size); returns the bytes left (None: unlimited).

    Reads only (a root that does not exist yet is made after the stream, with the file).
    """
    clean = await _allowed_name(session, principal, name, "file")
    if parent_id is None:
        parent = await session.scalar(select(FileNode).where(_owned(principal), FileNode.parent_id.is_(None)))
    else:
        parent = await _folder(session=session, principal=principal, folder_id=parent_id, need=access.EDIT)
    if parent is not None:
        await locks.ensure_unlocked(session=session, principal=principal, nodes=[parent])
        await _check_free(session, parent, clean)
        principal = as_owner(principal, parent)
    return await _room(session=session, settings=settings, principal=principal, expected_size=expected_size)


async def check_replace(
    *, session: AsyncSession, settings: Settings, principal: Principal, node_id: uuid.UUID, expected_size: int | None
) -> int | None:
    """Refuse new content before reading it (a folder, a declared size past the quota); returns the bytes left."""
    node = await get_or_raise(session=session, principal=principal, node_id=node_id, need=access.EDIT)
    if node.kind != "file":
        raise UnprocessableEntity(f"{node.name!r} is a folder; only files have content.")
    await locks.ensure_unlocked(session=session, principal=principal, nodes=[node])
    return await _room(session=session, settings=settings, principal=as_owner(principal, node), expected_size=expected_size)


async def store_blob(
    *, session: AsyncSession, storage: Storage, chunks: AsyncIterable[bytes], expected_size: int | None, room: int | None
) -> BlobInfo:
    """Stream a body into a new blob of at most `room` bytes; touches the storage only, never the database."""
    key = uuid.uuid4().hex
    try:
        info = await storage.put(key, chunks, max_size=room, expected_size=expected_size)
    except TooLarge:
        raise quota.QuotaExceeded(f"This file is larger than the {room} bytes you have left; free some space first.") from None
    except SizeMismatch as exc:
        got = "more" if exc.received > exc.expected else str(exc.received)
        raise UploadIncomplete(f"Content-Length said {exc.expected} bytes but the body had {got}; send the file again.") from None
    own_blob(session=session, storage=storage, key=key)
    return info


async def upload(
    *,
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    storage: Storage,
    parent_id: uuid.UUID | None,
    name: str,
    content_type: str,
    chunks: AsyncIterable[bytes],
    expected_size: int | None,
    room: int | None,
) -> FileNode:
    """A new file from a stream, visible once the transaction commits.

    The second phase of `uploads.service.receive`: the body is streamed before the database is touched
    (`check_upload` ran in a transaction that ended), so a long upload holds no snapshot, lock or pooled connection. The checks
    run again after the stream (the folder may have gone meanwhile), and `charge` is the quota rule.
    """
    info = await store_blob(session=session, storage=storage, chunks=chunks, expected_size=expected_size, room=room)
    # Write first: on SQLite a transaction that reads and then writes fails at once if another writer
    # committed in between; one that starts by writing waits its turn.
    await quota.ensure_usage_rows(session=session, principal=principal)
    parent = await _folder(session=session, principal=principal, folder_id=parent_id, need=access.EDIT)
    await locks.ensure_unlocked(session=session, principal=principal, nodes=[parent])
    # Into a folder shared with the uploader: the file is the folder owner's, on the owner's quota.
    await quota.charge(session=session, settings=settings, principal=as_owner(principal, parent), size=info.size)
    return await _new_file(
        session=session, storage=storage, principal=principal, parent=parent, name=name, content_type=content_type, info=info
    )


async def upload_small(
    *,
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    storage: Storage,
    parent_id: uuid.UUID | None,
    name: str,
    content_type: str,
    chunks: AsyncIterable[bytes],
    expected_size: int,
) -> FileNode:
    """A new small file (a body of at most `SMALL_UPLOAD` bytes, declared) in one transaction instead of two.

    The bytes are stored first (a small body is no long stream to hold a transaction over), then `check_upload`'s
    checks and `upload`'s writes run together. The answers stay those of the two phases: a bad name, a missing
    folder, a taken name and a declared size past the quota are refused in that order, before what was wrong with
    the body itself (incomplete, too long), as if the body had not been read yet.
    """
    clean = await _allowed_name(session, principal, name, "file")
    try:
        info = await store_blob(session=session, storage=storage, chunks=chunks, expected_size=expected_size, room=None)
    except NubesError:  # the checks' answers come first, as when they ran before the body
        parent = await _folder(session=session, principal=principal, folder_id=parent_id, need=access.EDIT)
        await _check_free(session, parent, clean)
        await _room(session=session, settings=settings, principal=as_owner(principal, parent), expected_size=expected_size)
        raise
    # A request's writing session takes SQLite's write lock when it begins, so no "write first" here (see `upload`).
    parent = await _folder(session=session, principal=principal, folder_id=parent_id, need=access.EDIT)
    await locks.ensure_unlocked(session=session, principal=principal, nodes=[parent])
    owner = as_owner(principal, parent)
    try:
        await quota.charge(session=session, settings=settings, principal=owner, size=info.size)
    except quota.QuotaExceeded:
        await _check_free(session, parent, clean)  # a taken name is the first answer, as in `check_upload`
        await session.rollback()  # the charge may have counted the user's bytes before the tenant's refused them
        await _room(session=session, settings=settings, principal=owner, expected_size=expected_size)
        raise
    return await _new_file(
        session=session, storage=storage, principal=principal, parent=parent, name=clean, content_type=content_type, info=info,
        alone=True,
    )  # fmt: skip


async def _new_file(
    *,
    session: AsyncSession,
    storage: Storage,
    principal: Principal,
    parent: FileNode,
    name: str,
    content_type: str,
    info: BlobInfo,
    alone: bool = False,
) -> FileNode:
    """The node of an uploaded blob, inserted (a taken name is a 409, see `_place` for `alone`), its thumbnail queued."""
    clean = await _allowed_name(session, principal, name, "file")
    now = utcnow()
    node = FileNode(
        tenant_id=principal.tenant_id,
        owner_id=parent.owner_id,
        parent_id=parent.id,
        kind="file",
        name=clean,
        name_key=names.clash_key(clean),
        size=info.size,
        content_type=content_type_of(content_type, clean),
        blob_key=info.key,
        sha256=info.sha256,
        version_no=1,
        created_at=now,
        updated_at=now,
        created_by=principal.user_id,
    )
    await _place(session, node, parent, alone=alone)  # the unique name index checks the name (no SELECT first)
    await schedule_thumbnail(session=session, storage=storage, node=node, new=True)
    return node


async def schedule_thumbnail(*, session: AsyncSession, storage: Storage, node: FileNode, new: bool = False) -> None:
    """Queue a thumbnail of the node's content (images only); the one it replaces goes once this commits.

    `new`: the node was made in this transaction (it has no thumbnail yet).
    """
    free_blobs(session=session, storage=storage, keys=await tasks.schedule(session=session, node=node, new=new))


async def set_content_date(*, session: AsyncSession, node: FileNode, moment: datetime) -> None:
    """Keep the date its writer gives a file's content (a synced file keeps its own date; see FileNode.modified_at)."""
    node.modified_at = moment
    await session.flush()


def content_type_of(value: str, name: str = "") -> str:
    """The declared media type, cleaned; a generic or missing one is guessed from the name (so audio and video play)."""
    value = value.split(";", maxsplit=1)[0].strip().lower()
    if value and "/" in value and value.isascii() and value.isprintable() and value != "application/octet-stream":
        return value[:255]
    guessed, _ = mimetypes.guess_type(name, strict=False) if name else (None, None)
    return guessed or "application/octet-stream"


async def lock(*, session: AsyncSession, node: FileNode) -> None:
    """Re-read a node under a row lock (PostgreSQL), so parallel overwrites number their versions in turn."""
    await session.execute(select(FileNode.id).where(FileNode.id == node.id).with_for_update())
    await session.refresh(node)


async def _inside(session: AsyncSession, node: FileNode, target: FileNode) -> bool:
    """Whether `target` is `node` or lies below it (moving or copying there would make a cycle)."""
    if node.kind != "folder":
        return False
    return target.id == node.id or node.id in {folder.id for folder in await ancestors(session=session, node=target)}


async def update(*, session: AsyncSession, principal: Principal, node_id: uuid.UUID, node_in: FileUpdate) -> FileNode:
    """Rename and/or move a node; a folder cannot go into itself or below itself, nor into another person's tree."""
    node = await get_or_raise(session=session, principal=principal, node_id=node_id, need=access.EDIT)
    if node.kind == "root":
        raise UnprocessableEntity("Your root folder cannot be renamed or moved.")
    fields = node_in.model_fields_set
    target = (
        await _folder(session=session, principal=principal, folder_id=node_in.parent_id, need=access.EDIT)
        if "parent_id" in fields
        else None
    )
    if target is None:
        target = await session.get_one(FileNode, node.parent_id)
    if target.owner_id != node.owner_id:
        raise UnprocessableEntity(f"{node.name!r} belongs to someone else's files than that folder; copy it instead.")
    name = await _allowed_name(session, principal, node_in.name) if node_in.name is not None else node.name
    if node.kind == "folder" and (
        target.id == node.id or node.id in {a.id for a in await ancestors(session=session, node=target)}
    ):
        raise UnprocessableEntity(f"{node.name!r} cannot be moved into itself or one of its own folders.")
    if target.id == node.parent_id and name == node.name:
        return node
    # The node and what is below it change their URLs; the folders it leaves and enters change their members.
    await locks.ensure_unlocked(
        session=session,
        principal=principal,
        nodes=[node, await session.get_one(FileNode, node.parent_id), target],
        subtree=node if node.kind == "folder" else None,
    )
    await _check_free(session, target, name, ignore=node.id)
    renamed = name != node.name
    node.parent_id, node.name, node.name_key = target.id, name, names.clash_key(name)
    node.updated_at = utcnow()
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise _name_taken(name, await _taken(session, target)) from None
    if renamed:
        await _index_name(session, node)
        await session.flush()
    await locks.release_tree(session=session, tenant_id=node.tenant_id, node=node)  # a lock never follows a move
    return node


async def copy(
    *, session: AsyncSession, settings: Settings, principal: Principal, storage: Storage, node_id: uuid.UUID, copy_in: FileCopy
) -> FileNode:
    """Copy a file or a whole folder (current contents, not versions); the copy counts against the quota."""
    node = await get_or_raise(session=session, principal=principal, node_id=node_id)
    target, name = await _copy_target(session, principal, node, copy_in)
    await locks.ensure_unlocked(session=session, principal=principal, nodes=[target])
    creator = principal.user_id
    principal = as_owner(principal, target)  # the copy is the target tree owner's, on their quota
    originals = await _subtree(session, node, live_only=True)
    await quota.charge(
        session=session, settings=settings, principal=principal, size=sum(n.size for n in originals if n.kind == "file")
    )
    new_ids: dict[uuid.UUID, uuid.UUID] = {}
    now = utcnow()
    top: FileNode | None = None
    for original in originals:
        key = None
        if original.blob_key is not None:
            key = uuid.uuid4().hex
            await storage.copy(original.blob_key, key)
            own_blob(session=session, storage=storage, key=key)
        clone = FileNode(
            id=uuid.uuid4(),
            tenant_id=principal.tenant_id,
            owner_id=principal.user_id,
            parent_id=target.id if original is node else new_ids[cast("uuid.UUID", original.parent_id)],
            kind=original.kind,
            name=name if original is node else original.name,
            name_key=names.clash_key(name) if original is node else original.name_key,
            size=original.size,
            content_type=original.content_type,
            blob_key=key,
            sha256=original.sha256,
            version_no=1,
            created_at=now,
            updated_at=now,
            modified_at=original.modified_at,
            created_by=creator,
        )
        new_ids[original.id] = clone.id
        if original is node:
            top = clone
            await _place(session, clone, target)
        else:
            session.add(clone)
            await session.flush()
            await _index_name(session, clone, new=True)
        await schedule_thumbnail(session=session, storage=storage, node=clone, new=True)
    await session.flush()
    return cast("FileNode", top)


async def _copy_target(session: AsyncSession, principal: Principal, node: FileNode, copy_in: FileCopy) -> tuple[FileNode, str]:
    """Where a copy goes and its name: the asked folder, else next to the original if the principal may write there, else home."""
    if node.kind == "root":
        raise UnprocessableEntity("Your root folder cannot be copied; copy what is in it.")
    if "parent_id" in copy_in.model_fields_set:
        target = await _folder(session=session, principal=principal, folder_id=copy_in.parent_id, need=access.EDIT)
    else:
        try:
            target = await _folder(session=session, principal=principal, folder_id=node.parent_id, need=access.EDIT)
        except (NotFound, Forbidden):  # a copy of something shared with you, next to it if you may write there, else at home
            target = await get_root(session=session, principal=principal)
    if node.kind == "folder" and (
        target.id == node.id or node.id in {a.id for a in await ancestors(session=session, node=target)}
    ):
        raise UnprocessableEntity(f"{node.name!r} cannot be copied into itself or one of its own folders.")
    if copy_in.name is not None:
        name = await _allowed_name(session, principal, copy_in.name)
        await _check_free(session, target, name)
    else:
        name = names.free_name(node.name, await _taken(session, target))
    return target, name


# --- trash ---------------------------------------------------------------------------------------


async def trash(*, session: AsyncSession, principal: Principal, node_id: uuid.UUID, origin: Origin) -> FileNode:
    """Move a node (and what is under it) to the trash; its bytes still count until it is purged.

    Someone a folder is shared with to edit may delete what is in it (it goes to the owner's trash),
    not the shared folder itself.
    """
    node = await get_or_raise(session=session, principal=principal, node_id=node_id, need=access.EDIT)
    if node.kind == "root":
        raise Forbidden("Your root folder cannot be deleted; delete what is in it instead.")
    if node.owner_id != principal.user_id and (await access.of(session, principal, node)).top_id == node.id:
        raise Forbidden(f"{node.name!r} was shared with you; only its owner can delete it.")
    await locks.ensure_unlocked(
        session=session,
        principal=principal,
        nodes=[node, await session.get_one(FileNode, node.parent_id)],
        subtree=node if node.kind == "folder" else None,
    )
    subtree = await _subtree(session, node, live_only=True)
    now = utcnow()
    for member in subtree:
        member.in_trash = True
    node.trashed_at = now
    await session.flush()
    await _unindex(session, [member.id for member in subtree])
    await locks.release_tree(session=session, tenant_id=node.tenant_id, node=node)  # a deleted resource loses its locks
    await audit.record(
        session=session,
        action="files.trash",
        origin=origin,
        principal=principal,
        target_type=node.kind,
        target_id=node.id,
        detail={"name": node.name, "items": len(subtree)},
    )
    return node


async def list_trash(*, session: AsyncSession, principal: Principal, limit: int, offset: int) -> tuple[list[Row[Any]], int]:
    """What the principal deleted, newest first, as read rows."""
    where = and_(_owned(principal), FileNode.trashed_at.is_not(None))
    total = await session.scalar(select(func.count()).select_from(FileNode).where(where))
    statement = select(FileNode).where(where).order_by(FileNode.trashed_at.desc(), FileNode.id).limit(limit).offset(offset)
    return await read(session=session, principal=principal, statement=statement), int(total or 0)


async def restore(
    *, session: AsyncSession, principal: Principal, node_id: uuid.UUID, name: str | None, origin: Origin
) -> FileNode:
    """Bring a node back where it was (or to the root when that folder is gone); 409 with a free name on a clash."""
    node = await get_or_raise(session=session, principal=principal, node_id=node_id, trashed=True)
    parent = await session.get_one(FileNode, node.parent_id)
    if parent.in_trash:
        parent = await get_root(session=session, principal=principal)
    new_name = await _allowed_name(session, principal, name) if name is not None else node.name
    await locks.ensure_unlocked(session=session, principal=principal, nodes=[parent])
    await _check_free(session, parent, new_name)
    node.parent_id, node.trashed_at, node.in_trash = parent.id, None, False
    node.name, node.name_key = new_name, names.clash_key(new_name)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise _name_taken(new_name, await _taken(session, parent)) from None
    # Everything that went to the trash with this node comes back; what was deleted on its own before stays.
    base = select(FileNode.id).where(FileNode.parent_id == node.id, FileNode.trashed_at.is_(None))
    tree = base.cte("tree", recursive=True)
    child = aliased(FileNode)
    tree = tree.union_all(select(child.id).where(child.parent_id == tree.c.id, child.trashed_at.is_(None)))
    await session.execute(
        update_rows(FileNode)
        .where(FileNode.id.in_(select(tree.c.id)))
        .values(in_trash=False)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(node)
    # Back in the name search, under the name it has now, with everything that came back with it.
    await _index_name(session, node)
    back = await session.scalars(select(FileNode).where(FileNode.id.in_(select(tree.c.id))))
    rows = [row for member in back for row in _term_rows(member)]
    for start in range(0, len(rows), BATCH):
        await session.execute(insert(FileNameTerm), rows[start : start + BATCH])
    await audit.record(
        session=session, action="files.restore", origin=origin, principal=principal, target_type=node.kind, target_id=node.id
    )
    return node


async def purge(*, session: AsyncSession, principal: Principal, storage: Storage, node_id: uuid.UUID, origin: Origin) -> int:
    """Delete a trashed node for good, with everything under it and all versions; returns the bytes freed."""
    node = await get_or_raise(session=session, principal=principal, node_id=node_id, trashed=True)
    return await _purge(session=session, principal=principal, storage=storage, nodes=[node], origin=origin)


async def empty_trash(*, session: AsyncSession, principal: Principal, storage: Storage, origin: Origin) -> int:
    """Purge everything in the principal's trash; returns the bytes freed."""
    nodes = list(await session.scalars(select(FileNode).where(_owned(principal), FileNode.trashed_at.is_not(None))))
    return await _purge(session=session, principal=principal, storage=storage, nodes=nodes, origin=origin)


async def _purge(*, session: AsyncSession, principal: Principal, storage: Storage, nodes: list[FileNode], origin: Origin) -> int:
    parents: dict[uuid.UUID, uuid.UUID | None] = {}
    keys: list[str] = []
    freed = 0
    for node in nodes:
        if node.id in parents:  # trashed on its own, then its folder: already counted with the folder
            continue
        for member in await _subtree(session, node, live_only=False):
            if member.id in parents:
                continue
            parents[member.id] = member.parent_id
            if member.blob_key:
                keys.append(member.blob_key)
                freed += member.size
    if not parents:
        return 0
    ids = list(parents)
    for chunk in _chunks(ids):
        for version in await session.scalars(select(FileVersion).where(FileVersion.file_id.in_(chunk))):
            keys.append(version.blob_key)
            freed += version.size
        # Thumbnails are derived data: never counted against the quota, so not in `freed`; their blobs go too.
        keys.extend(await tasks.keys_of(session=session, file_ids=chunk))
    # Leaves first, one level at a time: a parent is deleted only once nothing is under it, so the
    # self-referencing foreign key never cascades (SQLite refuses a cascade 1,000 levels deep).
    for level in _levels_deepest_first(parents):
        for chunk in _chunks(level):
            await session.execute(
                delete(FileNode).where(FileNode.id.in_(chunk), _owned(principal)).execution_options(synchronize_session=False)
            )
    for node in nodes:
        session.expunge(node)
    await quota.release(session=session, tenant_id=principal.tenant_id, user_id=principal.user_id, size=freed)
    free_blobs(session=session, storage=storage, keys=keys)
    for node in nodes:
        await audit.record(
            session=session,
            action="files.purge",
            origin=origin,
            principal=principal,
            target_type=node.kind,
            target_id=node.id,
            detail={"name": node.name},
        )
    await session.flush()
    return freed


def _chunks(ids: list[uuid.UUID]) -> Iterator[list[uuid.UUID]]:
    """`ids` in slices small enough for one statement's parameters on every engine."""
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]


def _levels_deepest_first(parents: dict[uuid.UUID, uuid.UUID | None]) -> list[list[uuid.UUID]]:
    """The nodes of a closed set of subtrees (id -> parent id), grouped by depth, deepest level first (no recursion)."""
    depth: dict[uuid.UUID, int] = {}
    for start in parents:
        path: list[uuid.UUID] = []
        current: uuid.UUID | None = start
        while current is not None and current in parents and current not in depth:
            path.append(current)
            current = parents[current]
        level = depth.get(current, -1) if current is not None else -1
        for member in reversed(path):
            level += 1
            depth[member] = level
    levels: list[list[uuid.UUID]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for member, level in depth.items():
        levels[level].append(member)
    return levels[::-1]


# --- versions ------------------------------------------------------------------------------------


# --- finding -------------------------------------------------------------------------------------


def search_statement(*, principal: Principal, query: str) -> Select[FileNode] | None:
    """The name-search query (None: `query` has no words).

    Each word of `query` is one range of the covering index (owner, term, name_key, node_id); the ranges are
    intersected and their first `SEARCH_LIMIT` by name are picked from the index alone, then only those nodes
    are read. The nodes are checked again (tenant, owner, live), so a stale term could hide a node, never show one.
    """
    words = names.query_words(query)
    if not words:
        return None
    ranges = [
        select(FileNameTerm.name_key, FileNameTerm.node_id).where(
            FileNameTerm.owner_id == principal.user_id, FileNameTerm.term >= word, FileNameTerm.term < word + _LAST
        )
        for word in dict.fromkeys(words)
    ]
    # INTERSECT is a set: a node two terms of one range match (`report reporting` for `rep`) counts once.
    matches = intersect(*ranges) if len(ranges) > 1 else ranges[0].distinct()
    hits = matches.order_by("name_key", "node_id").limit(SEARCH_LIMIT).subquery("hits")
    return (
        select(FileNode)
        .join(hits, hits.c.node_id == FileNode.id)
        .where(_owned(principal), FileNode.in_trash.is_(False), FileNode.kind != "root")
        .order_by(hits.c.name_key, hits.c.node_id)
    )


async def search(*, session: AsyncSession, principal: Principal, query: str) -> list[Row[Any]]:
    """The first 50 by name of the live nodes whose name has a word starting with each word of `query`, as read rows."""
    statement = search_statement(principal=principal, query=query)
    if statement is None:
        return []
    return await read(session=session, principal=principal, statement=statement)


async def recent(*, session: AsyncSession, principal: Principal) -> list[Row[Any]]:
    """The principal's most recently changed files, as read rows."""
    statement = (
        select(FileNode)
        .where(_owned(principal), FileNode.kind == "file", FileNode.in_trash.is_(False))
        .order_by(FileNode.updated_at.desc(), FileNode.id)
        .limit(RECENT_LIMIT)
    )
    return await read(session=session, principal=principal, statement=statement)


async def favorites(*, session: AsyncSession, principal: Principal) -> list[Row[Any]]:
    """What the principal starred (live nodes only), by name, as read rows."""
    statement = (
        select(FileNode)
        .join(FileFavorite, FileFavorite.node_id == FileNode.id)
        .where(FileFavorite.user_id == principal.user_id, _owned(principal), FileNode.in_trash.is_(False))
        .order_by(FileNode.name_key, FileNode.id)
    )
    return await read(session=session, principal=principal, statement=statement)


async def set_favorite(*, session: AsyncSession, principal: Principal, node_id: uuid.UUID, favorite: bool) -> FileNode:
    """Star or unstar a node (idempotent)."""
    node = await get_or_raise(session=session, principal=principal, node_id=node_id)
    await session.execute(delete(FileFavorite).where(FileFavorite.user_id == principal.user_id, FileFavorite.node_id == node.id))
    if favorite:
        session.add(FileFavorite(user_id=principal.user_id, node_id=node.id, tenant_id=principal.tenant_id))
    await session.flush()
    return node


async def zip_entries(
    *, session: AsyncSession, principal: Principal, node_id: uuid.UUID
) -> tuple[FileNode, list[tuple[str, FileNode]]]:
    """A folder and the (path inside the zip, node) of everything live under it, parents first."""
    folder = await get_or_raise(session=session, principal=principal, node_id=node_id)
    members = await _subtree(session, folder, live_only=True)
    paths: dict[uuid.UUID, str] = {folder.id: ""}
    entries: list[tuple[str, FileNode]] = []
    for member in members[1:]:
        path = f"{paths[cast('uuid.UUID', member.parent_id)]}{member.name}"
        if len(path.encode()) >= ZIP_PATH_LIMIT:
            raise UnprocessableEntity(
                f"{folder.name!r} holds folders nested too deep to fit in a zip (a path inside it passes "
                f"{ZIP_PATH_LIMIT} bytes); download a folder further down, or move the deepest folders up."
            )
        paths[member.id] = path + "/"
        entries.append((path + ("/" if member.kind == "folder" else ""), member))
    return folder, entries


async def stream_blob(storage: Storage, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
    """A blob's bytes (re-exported so the routes need no storage import for reads)."""
    async for chunk in storage.get(key, start, end):
        yield chunk


# --- for other domains (documents): files by id, without their tables ---------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class FileSummary:
    """What another domain shows of a file: its name, size, type, content hash, owner and times."""

    id: uuid.UUID
    name: str
    size: int
    content_type: str
    sha256: str | None
    blob_key: str | None
    owner_id: uuid.UUID
    parent_id: uuid.UUID | None
    updated_at: Any


def _summary(node: FileNode) -> FileSummary:
    return FileSummary(
        id=node.id, name=node.name, size=node.size, content_type=node.content_type, sha256=node.sha256,
        blob_key=node.blob_key, owner_id=node.owner_id, parent_id=node.parent_id, updated_at=node.updated_at,
    )  # fmt: skip


async def summaries(
    *, session: AsyncSession, tenant_id: uuid.UUID, file_ids: Sequence[uuid.UUID], live_only: bool = True
) -> dict[uuid.UUID, FileSummary]:
    """The live files (or, without `live_only`, those in the trash too) of the tenant among `file_ids` (access is
    the caller's business: check it first)."""
    if not file_ids:
        return {}
    # By primary key only, the tenant and the trash checked on the rows: with the tenant in the WHERE, SQLite walked
    # the tenant's index (every file of the organization) instead (24 ms for 50 documents of 100,000).
    nodes = await session.scalars(select(FileNode).where(FileNode.id.in_(set(file_ids))))
    return {node.id: _summary(node) for node in nodes if node.tenant_id == tenant_id and not (live_only and node.in_trash)}


async def summary(*, session: AsyncSession, file_id: uuid.UUID) -> FileSummary | None:
    """One file, live or not (for background jobs, which act for nobody): None when it is gone or in the trash."""
    node = await session.get(FileNode, file_id)
    return _summary(node) if node is not None and not node.in_trash else None


async def readable(*, session: AsyncSession, principal: Principal, file_id: uuid.UUID, edit: bool = False) -> FileSummary:
    """A live file the principal may read (or, with `edit`, change): 404 / 403 as the files API answers."""
    node = await get_or_raise(session=session, principal=principal, node_id=file_id, need=access.EDIT if edit else access.VIEW)
    if node.kind != "file":
        raise UnprocessableEntity(f"{node.name!r} is a folder; only files can be documents.")
    return _summary(node)


def is_live(file_id: Any) -> Any:
    """A SQL condition: the file `file_id` (a column) exists and is not in the trash (for other domains' queries)."""
    return exists().where(FileNode.id == file_id, FileNode.in_trash.is_(False))


async def owned_with_content(*, session: AsyncSession, principal: Principal, sha256: str) -> list[uuid.UUID]:
    """The principal's live files whose content is `sha256` (duplicates of a new upload)."""
    rows = await session.scalars(
        select(FileNode.id).where(
            _owned(principal), FileNode.sha256 == sha256, FileNode.in_trash.is_(False), FileNode.kind == "file"
        )
    )
    return list(rows)


async def folder_in_root(*, session: AsyncSession, principal: Principal, name: str) -> FileNode:
    """The folder `name` at the top of the principal's files, made when missing (the Documents folder)."""
    root = await get_root(session=session, principal=principal)
    return await folder_in(session=session, principal=principal, parent_id=root.id, name=name)


async def folder_in(*, session: AsyncSession, principal: Principal, parent_id: uuid.UUID, name: str) -> FileNode:
    """The folder `name` in the principal's folder `parent_id`, made when missing; 409 when a file holds the name."""
    clean = await _allowed_name(session, principal, name)
    found = await session.scalar(
        select(FileNode).where(
            FileNode.parent_id == parent_id, FileNode.name_key == names.clash_key(clean), FileNode.in_trash.is_(False)
        )
    )
    if found is not None:
        if found.kind == "file":
            raise Conflict(f"A file named {clean!r} is where your documents go; rename it or choose another documents folder.")
        return found
    return await create_folder(session=session, principal=principal, folder_in=FolderCreate(name=clean, parent_id=parent_id))


def content_feed() -> Select[uuid.UUID, uuid.UUID, uuid.UUID, datetime]:
    """A SELECT of every live file: `id`, `tenant_id`, `owner_id`, `changed_at` (its last rename, move or new
    content), for the search index to compare with what it holds."""
    return select(
        FileNode.id.label("id"), FileNode.tenant_id.label("tenant_id"), FileNode.owner_id.label("owner_id"),
        FileNode.updated_at.label("changed_at"),
    ).where(FileNode.kind == "file", FileNode.in_trash.is_(False))  # fmt: skip


def trashed(principal: Principal) -> Select[uuid.UUID]:
    """A SELECT of the ids of the principal's nodes in the trash: each one trashed and everything below it (read from
    the trashed ones down, by index: cheap while the trash is small, whatever the size of the live tree)."""
    roots = select(FileNode.id.label("id")).where(_owned(principal), FileNode.trashed_at.is_not(None))
    tree = roots.cte("trashed_tree", recursive=True)
    child = aliased(FileNode)
    tree = tree.union_all(select(child.id).where(child.parent_id == tree.c.id))
    return select(tree.c.id)


def files_at(path: Sequence[str]) -> Select[uuid.UUID, uuid.UUID, uuid.UUID, str, int]:
    """A SELECT of every live file directly in the folder `path` (names from the top, compared as names clash) of
    every user's files: `id`, `tenant_id`, `owner_id`, `name`, `size` (for other domains' chores: the documents inbox).
    Read from the roots down by the folder index, never by a scan of every file."""
    folder = aliased(FileNode, name="root")
    query = select(folder.id).where(folder.parent_id.is_(None), folder.kind == "root")
    above: Any = folder
    for name in path:
        step = aliased(FileNode)
        query = query.join(
            step,
            and_(
                step.parent_id == above.id,
                step.name_key == names.clash_key(name),
                step.kind == "folder",
                step.in_trash.is_(False),
            ),
        )
        above = step
    inside = aliased(FileNode, name="inside")
    return query.join(
        inside, and_(inside.parent_id == above.id, inside.kind == "file", inside.in_trash.is_(False))
    ).with_only_columns(inside.id, inside.tenant_id, inside.owner_id, inside.name, inside.size)


def _owner_shares(principal: Principal) -> Any:
    """The shares naming the principal (or their groups) that their owner made (see `shared_with`)."""
    return and_(
        FileShare.tenant_id == principal.tenant_id, access.recipient(principal), FileShare.created_by == FileShare.owner_id
    )


def sharers(principal: Principal) -> Select[Any]:
    """A SELECT of the ids of the owners who shared something with the principal (the owners of `shared_with`)."""
    return select(FileShare.owner_id).where(_owner_shares(principal)).distinct()


def shared_with(principal: Principal) -> Select[Any]:
    """A SELECT of the ids of every node at or below a node its owner shared with the principal (or their groups).

    For other domains' queries (search). Only shares the owner made count here: a reshare holds only while its
    maker still holds reshare (`sharing.access`), which one query cannot follow, so what a reshare opens is left
    out rather than risk showing what it no longer opens.
    """
    roots = select(FileShare.node_id.label("id")).where(_owner_shares(principal))
    tree = roots.cte("shared_tree", recursive=True)
    child = aliased(FileNode)
    tree = tree.union_all(select(child.id).where(child.parent_id == tree.c.id))
    return select(tree.c.id)

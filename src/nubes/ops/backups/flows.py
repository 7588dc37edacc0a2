"""Per-user restore: one file or folder of a user's own tree, as it was at a restore point, back into their trash.

The restore point's file tree is fetched once (restic checks it, then its manifest checksum) and only read: a SQLite
backup's own database, or the file rows of a PostgreSQL backup's dump put in the same shape (`engine.snapshot_database`).
The user's own rows are found there (their tenant, their ownership) and the whole selection is planned before anything
is written (too large a folder is refused whole). The bytes come out of the snapshot with `restic dump` and go through
the files domain's own upload path (names, quota, versions) into a folder named after the restore point, which is then
moved to the trash: the existing trash-restore puts it back where the user wants. A restore that fails half-way (quota,
an unreadable blob) purges what it had written: the user's tree never holds half a restore.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core.audit import Origin
from nubes.core.errors import BadRequest, NotFound, NubesError
from nubes.core.principal import Principal
from nubes.core.storage import Storage
from nubes.files.tree import service as tree_service
from nubes.files.tree.schemas import FolderCreate
from nubes.files.uploads import service as uploads_service
from nubes.ops.backups import engine, restic
from nubes.ops.backups.engine import BackupError
from nubes.ops.backups.models import BackupRun
from nubes.ops.backups.restic import ResticError

log = structlog.get_logger("nubes.backups")

LIST_LIMIT = 500
RESTORE_LIMIT = 1000
"""Files one restore may bring back (a larger folder: restore its sub-folders one by one)."""


class RestoreUnavailable(BadRequest):
    """This restore point cannot be read for single files (gone from the repository, PostgreSQL, damaged)."""

    code, title = "restore-unavailable", "Cannot restore from this backup"


@dataclass(frozen=True, slots=True)
class BackedUpNode:
    """A file or folder of the user's as it was in a restore point."""

    id: uuid.UUID
    parent_id: uuid.UUID | None
    kind: str
    name: str
    size: int
    content_type: str
    blob_key: str | None


async def restore_points(*, session: AsyncSession, principal: Principal) -> list[BackupRun]:
    """The verified restore points anyone may restore their own files from, newest first."""
    query = (
        select(BackupRun)
        .where(BackupRun.status == "succeeded", BackupRun.verified.is_(True), BackupRun.snapshot_id.is_not(None))
        .order_by(BackupRun.created_at.desc())
        .limit(50)
    )
    return list(await session.scalars(query))


async def _point(session: AsyncSession, principal: Principal, run_id: uuid.UUID) -> BackupRun:
    run = await session.get(BackupRun, run_id)
    if run is None or run.status != "succeeded" or not run.verified or run.snapshot_id is None:
        raise NotFound("No such restore point; the list of restore points shows the ones you may use.")
    return run


async def _dump(settings: Settings, snapshot_id: str) -> tuple[Path, dict[str, object]]:
    try:
        repository = engine.repository_from(settings)
        return await asyncio.to_thread(
            engine.snapshot_database, repository, snapshot_id, settings.data_dir / engine.CACHE / "dumps"
        )
    except (BackupError, ResticError, IndexError, KeyError, ValueError) as exc:
        raise RestoreUnavailable(f"This restore point cannot be read ({exc}); pick another one or ask an administrator.") from exc


def _rows(dump: Path, principal: Principal, where: str, *values: str) -> list[BackedUpNode]:
    """The user's own live nodes in the dump matching `where` (UUIDs are stored as 32 hex digits by SQLite)."""
    connection = sqlite3.connect(f"file:{dump}?mode=ro", uri=True)
    try:
        query = (
            "SELECT id, parent_id, kind, name, size, content_type, blob_key FROM file_nodes "  # noqa: S608 - fixed text
            f"WHERE tenant_id = ? AND owner_id = ? AND NOT in_trash AND {where} ORDER BY kind DESC, name LIMIT ?"
        )
        found = connection.execute(query, (principal.tenant_id.hex, principal.user_id.hex, *values, RESTORE_LIMIT + 1))
        return [
            BackedUpNode(
                id=uuid.UUID(row[0]),
                parent_id=uuid.UUID(row[1]) if row[1] else None,
                kind=row[2],
                name=row[3],
                size=int(row[4] or 0),
                content_type=row[5] or "",
                blob_key=row[6],
            )
            for row in found
        ]
    finally:
        connection.close()


async def list_files(
    *, session: AsyncSession, principal: Principal, settings: Settings, run_id: uuid.UUID, parent_id: uuid.UUID | None
) -> list[BackedUpNode]:
    """What one of the user's folders held at a restore point (their root when `parent_id` is None)."""
    dump, _ = await _dump(settings, str((await _point(session, principal, run_id)).snapshot_id))
    if parent_id is None:
        roots = await asyncio.to_thread(_rows, dump, principal, "kind = 'root'")
        if not roots:
            return []
        parent_id = roots[0].id
    rows = await asyncio.to_thread(_rows, dump, principal, "parent_id = ?", parent_id.hex)
    return rows[:LIST_LIMIT]


async def restore_to_trash(
    *,
    session: AsyncSession,
    principal: Principal,
    settings: Settings,
    storage: Storage,
    run_id: uuid.UUID,
    node_id: uuid.UUID,
    origin: Origin,
) -> uuid.UUID:
    """Bring one of the user's files or folders back from a restore point into their trash; the trashed node's id."""
    run = await _point(session, principal, run_id)
    snapshot_id, made = str(run.snapshot_id), run.created_at
    dump, manifest = await _dump(settings, snapshot_id)
    found = await asyncio.to_thread(_rows, dump, principal, "id = ? AND kind != 'root'", node_id.hex)
    if not found:
        raise NotFound("That file or folder is not yours in this restore point.")
    plan = await asyncio.to_thread(_plan, dump, principal, found[0])
    repository = engine.repository_from(settings)
    holder = await tree_service.create_folder(
        session=session,
        principal=principal,
        folder_in=FolderCreate(name=f"From backup {made:%Y-%m-%d %H.%M} ({uuid.uuid4().hex[:6]})"),
    )
    holder_id = holder.id
    await session.commit()
    try:
        made_folders: dict[uuid.UUID, uuid.UUID] = {}
        for node, parent in plan:
            into = made_folders[parent] if parent is not None else holder_id
            if node.kind == "folder":
                folder = await tree_service.create_folder(
                    session=session, principal=principal, folder_in=FolderCreate(parent_id=into, name=node.name)
                )
                made_folders[node.id] = folder.id
            elif node.blob_key is not None:
                chunks = _bytes_of(repository, snapshot_id, engine.blob_path(dict(manifest), node.blob_key))
                await uploads_service.receive(
                    session=session, settings=settings, principal=principal, storage=storage, chunks=chunks,
                    expected_size=node.size, content_type=node.content_type, parent_id=into, name=node.name,
                )  # fmt: skip
        await tree_service.trash(session=session, principal=principal, node_id=holder_id, origin=origin)
    except Exception as exc:
        await _discard(session=session, principal=principal, storage=storage, holder_id=holder_id, origin=origin)
        if isinstance(exc, NubesError):
            raise type(exc)(f"Nothing was restored: {exc.detail or exc.title}") from exc
        raise
    return holder_id


def _plan(dump: Path, principal: Principal, top: BackedUpNode) -> list[tuple[BackedUpNode, uuid.UUID | None]]:
    """Every node to bring back, each after its folder, with the id (in the dump) of the folder it goes in (None: the
    restore's own folder); RestoreUnavailable past RESTORE_LIMIT, before anything is written."""
    plan: list[tuple[BackedUpNode, uuid.UUID | None]] = [(top, None)]
    index = 0
    while index < len(plan):
        node = plan[index][0]
        index += 1
        if node.kind != "folder":
            continue
        plan.extend((child, node.id) for child in _rows(dump, principal, "parent_id = ?", node.id.hex))
        if len(plan) > RESTORE_LIMIT:
            raise RestoreUnavailable(f"More than {RESTORE_LIMIT} files and folders: restore the sub-folders one at a time.")
    return plan


async def _discard(
    *, session: AsyncSession, principal: Principal, storage: Storage, holder_id: uuid.UUID, origin: Origin
) -> None:
    """Purge a failed restore's folder with what it holds (best effort: the failure itself is what the user hears)."""
    await session.rollback()
    try:
        await tree_service.trash(session=session, principal=principal, node_id=holder_id, origin=origin)
        await tree_service.purge(session=session, principal=principal, storage=storage, node_id=holder_id, origin=origin)
        await session.commit()
    except Exception:
        await session.rollback()
        log.warning("backups.restore_discard_failed", holder=str(holder_id), exc_info=True)


async def _bytes_of(repository: restic.Repository, snapshot_id: str, path: str) -> AsyncIterator[bytes]:
    try:
        async for chunk in restic.stream(repository, snapshot_id, path):
            yield chunk
    except ResticError as exc:
        raise RestoreUnavailable(f"The file's bytes cannot be read from this restore point ({exc}).") from exc

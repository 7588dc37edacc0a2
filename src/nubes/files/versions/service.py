"""Rules of versions: a file's earlier contents, new content for a file, restoring a version, and the retention that prunes them.

Writing new content keeps the current one as a `FileVersion` (it keeps counting against the quota) and then
applies the tenant's retention (keep N versions, keep N days); the periodic sweep applies it to every file.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterable
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core.db import utcnow
from nubes.core.errors import NotFound, UnprocessableEntity
from nubes.core.principal import Principal
from nubes.core.storage import BlobInfo, Storage
from nubes.files.locks import service as locks
from nubes.files.quota import service as quota
from nubes.files.sharing import access
from nubes.files.tree import service as tree
from nubes.files.tree.models import FileNode
from nubes.files.versions.models import FileVersion, TenantFilesSettings


async def replace_content(
    *,
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    storage: Storage,
    node_id: uuid.UUID,
    content_type: str,
    chunks: AsyncIterable[bytes],
    expected_size: int | None,
    room: int | None,
) -> FileNode:
    """New content for a file; the current content is kept as a version (and keeps counting against the quota).

    The second phase of `uploads.service.receive`, like `tree.upload`: streams first (`check_replace` ran before).
    """
    info = await tree.store_blob(session=session, storage=storage, chunks=chunks, expected_size=expected_size, room=room)
    await quota.ensure_usage_rows(session=session, principal=principal)  # write first (see `upload`)
    node = await tree.get_or_raise(session=session, principal=principal, node_id=node_id, need=access.EDIT)
    if node.kind != "file":
        raise UnprocessableEntity(f"{node.name!r} is a folder; only files have content.")
    await locks.ensure_unlocked(session=session, principal=principal, nodes=[node])
    await quota.charge(session=session, settings=settings, principal=tree.as_owner(principal, node), size=info.size)
    await tree.lock(session=session, node=node)
    _keep_as_version(session, node)
    node.blob_key, node.size, node.sha256 = info.key, info.size, info.sha256
    node.modified_at = None  # the client's date of the old content; a WebDAV writer sets the new one after
    node.content_type = tree.content_type_of(content_type, node.name) if content_type else node.content_type
    node.version_no += 1
    node.updated_at = utcnow()
    await session.flush()
    await tree.schedule_thumbnail(session=session, storage=storage, node=node)
    await _apply_retention(session, storage, node)
    return node


async def _apply_retention(session: AsyncSession, storage: Storage, node: FileNode) -> None:
    """Drop versions past the tenant's retention (keep N versions / N days) after a new one was kept."""
    await prune_versions(session=session, storage=storage, node=node)


def _keep_as_version(session: AsyncSession, node: FileNode) -> None:
    if node.blob_key is None or node.sha256 is None:
        return
    session.add(
        FileVersion(
            tenant_id=node.tenant_id,
            file_id=node.id,
            version_no=node.version_no,
            size=node.size,
            content_type=node.content_type,
            blob_key=node.blob_key,
            sha256=node.sha256,
            created_at=node.updated_at,
            created_by=node.created_by,
        )
    )


async def replace_with_blob(
    *, session: AsyncSession, principal: Principal, storage: Storage, node_id: uuid.UUID, info: BlobInfo, content_type: str
) -> FileNode:
    """New content for a file from a blob stored already (a finished upload); the current content is kept as a version.

    The caller charged the quota and owns the blob in this transaction (`tree.own_blob`).
    """
    node = await tree.get_or_raise(session=session, principal=principal, node_id=node_id)
    if node.kind != "file":
        raise UnprocessableEntity(f"{node.name!r} is a folder; only files have content.")
    await locks.ensure_unlocked(session=session, principal=principal, nodes=[node])
    await tree.lock(session=session, node=node)
    _keep_as_version(session, node)
    node.blob_key, node.size, node.sha256 = info.key, info.size, info.sha256
    node.modified_at = None  # the client's date of the old content; a WebDAV writer sets the new one after
    if content_type:
        node.content_type = tree.content_type_of(content_type)
    node.version_no += 1
    node.updated_at = utcnow()
    await session.flush()
    await prune_versions(session=session, storage=storage, node=node)
    return node


async def list_versions(*, session: AsyncSession, principal: Principal, node_id: uuid.UUID) -> list[FileVersion]:
    """A file's earlier contents, newest first."""
    node = await tree.get_or_raise(session=session, principal=principal, node_id=node_id)
    rows = await session.scalars(
        select(FileVersion)
        .where(FileVersion.file_id == node.id, FileVersion.tenant_id == principal.tenant_id)
        .order_by(FileVersion.version_no.desc())
    )
    return list(rows)


async def get_version(
    *, session: AsyncSession, principal: Principal, node_id: uuid.UUID, version_id: uuid.UUID
) -> tuple[FileNode, FileVersion]:
    """One earlier content of one of the principal's files."""
    node = await tree.get_or_raise(session=session, principal=principal, node_id=node_id)
    version = await session.scalar(
        select(FileVersion).where(
            FileVersion.id == version_id, FileVersion.file_id == node.id, FileVersion.tenant_id == principal.tenant_id
        )
    )
    if version is None:
        raise NotFound(f"File {node.name!r} has no version {version_id}.")
    return node, version


async def restore_version(
    *,
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    storage: Storage,
    node_id: uuid.UUID,
    version_id: uuid.UUID,
) -> FileNode:
    """Make an earlier content current again (as a new version; the current one is kept)."""
    node, version = await get_version(session=session, principal=principal, node_id=node_id, version_id=version_id)
    await tree.get_or_raise(session=session, principal=principal, node_id=node_id, need=access.EDIT)
    await locks.ensure_unlocked(session=session, principal=principal, nodes=[node])
    await quota.charge(session=session, settings=settings, principal=tree.as_owner(principal, node), size=version.size)
    key = uuid.uuid4().hex
    await storage.copy(version.blob_key, key)
    tree.own_blob(session=session, storage=storage, key=key)
    await tree.lock(session=session, node=node)
    _keep_as_version(session, node)
    node.blob_key, node.size, node.sha256, node.content_type = key, version.size, version.sha256, version.content_type
    node.modified_at = None
    node.version_no += 1
    node.updated_at = utcnow()
    await session.flush()
    await tree.schedule_thumbnail(session=session, storage=storage, node=node)
    await _apply_retention(session, storage, node)
    return node


DEFAULT_KEEP_VERSIONS = 10


DEFAULT_KEEP_DAYS = 0


async def files_settings(*, session: AsyncSession, tenant_id: uuid.UUID) -> tuple[int, int]:
    """A tenant's (keep_versions, keep_days); the defaults when it set none. 0 means no limit."""
    row = await session.get(TenantFilesSettings, tenant_id)
    if row is None:
        return DEFAULT_KEEP_VERSIONS, DEFAULT_KEEP_DAYS
    return row.keep_versions, row.keep_days


async def set_files_settings(
    *, session: AsyncSession, tenant_id: uuid.UUID, keep_versions: int, keep_days: int, windows_names: str | None = None
) -> None:
    """Store a tenant's retention (the next write and the next sweep apply it) and, when given, its Windows names
    policy ("allow" or "refuse": applied to every name written from now on, never to names already there)."""
    row = await session.get(TenantFilesSettings, tenant_id)
    if row is None:
        row = TenantFilesSettings(tenant_id=tenant_id)
        session.add(row)
    row.keep_versions, row.keep_days, row.updated_at = keep_versions, keep_days, utcnow()
    if windows_names is not None:
        row.windows_names = windows_names
    await session.flush()


async def windows_names(*, session: AsyncSession, tenant_id: uuid.UUID) -> str:
    """A tenant's Windows names policy: "allow" (the default) or "refuse"."""
    return "refuse" if await tree.refuses_windows_names(session, tenant_id) else "allow"


async def prune_versions(*, session: AsyncSession, storage: Storage, node: FileNode, rules: tuple[int, int] | None = None) -> int:
    """Drop a file's versions past the tenant's retention; their bytes are freed once the transaction commits."""
    keep_versions, keep_days = rules or await files_settings(session=session, tenant_id=node.tenant_id)
    versions = list(
        await session.scalars(select(FileVersion).where(FileVersion.file_id == node.id).order_by(FileVersion.version_no.desc()))
    )
    cutoff = utcnow() - timedelta(days=keep_days) if keep_days > 0 else None
    doomed = [
        version
        for index, version in enumerate(versions)
        if (keep_versions > 0 and index >= keep_versions) or (cutoff is not None and version.created_at < cutoff)
    ]
    if not doomed:
        return 0
    freed = sum(version.size for version in doomed)
    await session.execute(delete(FileVersion).where(FileVersion.id.in_([version.id for version in doomed])))
    for version in doomed:
        session.expunge(version)
    await quota.release(session=session, tenant_id=node.tenant_id, user_id=node.owner_id, size=freed)
    tree.free_blobs(session=session, storage=storage, keys=[version.blob_key for version in doomed])
    await session.flush()
    return freed


async def sweep_versions(*, session: AsyncSession, storage: Storage) -> int:
    """Apply every tenant's retention to every file with versions (the periodic sweep); returns bytes freed."""
    file_ids = list(await session.scalars(select(FileVersion.file_id).distinct()))
    rules: dict[uuid.UUID, tuple[int, int]] = {}
    freed = 0
    for file_id in file_ids:
        node = await session.get(FileNode, file_id)
        if node is None:
            continue
        if node.tenant_id not in rules:
            rules[node.tenant_id] = await files_settings(session=session, tenant_id=node.tenant_id)
        freed += await prune_versions(session=session, storage=storage, node=node, rules=rules[node.tenant_id])
    return freed

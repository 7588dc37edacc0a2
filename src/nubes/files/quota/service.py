"""Rules of quota: bytes used and allowed per user and per tenant, charged and released in conditional UPDATEs.

A user's row and the tenant's row (user_id NULL) each count the bytes stored; a write charges both or neither.
"""

from __future__ import annotations

import uuid
from typing import Any, cast

from sqlalchemy import BigInteger, CursorResult, func, literal, or_, select
from sqlalchemy import update as update_rows
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core.errors import PayloadTooLarge
from nubes.core.principal import Principal
from nubes.files.quota.models import StorageUsage
from nubes.files.tree.models import FileNode
from nubes.files.versions.models import FileVersion


class QuotaExceeded(PayloadTooLarge):
    """The write would take the user or the tenant past its storage quota."""

    code, title = "quota-exceeded", "Storage quota exceeded"


def _upsert(session: AsyncSession) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


async def ensure_usage_rows(*, session: AsyncSession, principal: Principal) -> None:
    """Make the usage rows of the principal and its tenant if missing (a write: on SQLite it takes the writer lock first)."""
    rows = [
        {"id": uuid.uuid4(), "tenant_id": principal.tenant_id, "user_id": user_id, "used_bytes": 0}
        for user_id in (principal.user_id, None)
    ]
    await session.execute(_upsert(session)(StorageUsage).values(rows).on_conflict_do_nothing())  # one statement, both rows


def _limit(row_quota: Any, default: int) -> Any:
    return func.coalesce(row_quota, literal(default or None, BigInteger))


async def usage(*, session: AsyncSession, settings: Settings, principal: Principal) -> tuple[int, int | None, int, int | None]:
    """Bytes used and the effective quota (None: unlimited) of the user, then of the tenant. Reads only."""
    rows = await session.execute(
        select(StorageUsage.user_id, StorageUsage.used_bytes, StorageUsage.quota_bytes).where(
            StorageUsage.tenant_id == principal.tenant_id,
            or_(StorageUsage.user_id == principal.user_id, StorageUsage.user_id.is_(None)),
        )
    )
    found = {user_id: (used, quota) for user_id, used, quota in rows}
    user_used, user_quota = found.get(principal.user_id, (0, None))
    tenant_used, tenant_quota = found.get(None, (0, None))
    return (
        int(user_used),
        user_quota if user_quota is not None else (settings.user_quota_bytes or None),
        int(tenant_used),
        tenant_quota if tenant_quota is not None else (settings.tenant_quota_bytes or None),
    )


async def breakdown(*, session: AsyncSession, principal: Principal) -> tuple[int, int]:
    """Of the principal's bytes: those in the trash (current contents) and those of earlier versions."""
    trash = await session.scalar(
        select(func.coalesce(func.sum(FileNode.size), 0)).where(
            FileNode.tenant_id == principal.tenant_id,
            FileNode.owner_id == principal.user_id,
            FileNode.in_trash.is_(True),
            FileNode.kind == "file",
        )
    )
    versions = await session.scalar(
        select(func.coalesce(func.sum(FileVersion.size), 0))
        .join(FileNode, FileNode.id == FileVersion.file_id)
        .where(
            FileNode.tenant_id == principal.tenant_id,
            FileNode.owner_id == principal.user_id,
            FileVersion.tenant_id == principal.tenant_id,
        )
    )
    return int(trash or 0), int(versions or 0)


async def available(*, session: AsyncSession, settings: Settings, principal: Principal) -> int | None:
    """Bytes the user may still store right now (None: unlimited); a hint that reads only, `charge` is the rule."""
    user_used, user_quota, tenant_used, tenant_quota = await usage(session=session, settings=settings, principal=principal)
    room = [quota - used for quota, used in ((user_quota, user_used), (tenant_quota, tenant_used)) if quota is not None]
    return max(min(room), 0) if room else None


async def charge(*, session: AsyncSession, settings: Settings, principal: Principal, size: int) -> None:
    """Count `size` more bytes against the user and the tenant, or QuotaExceeded.

    Each row changes in one conditional UPDATE, which the database applies atomically (PostgreSQL
    re-checks the condition after waiting for a concurrent writer's lock; SQLite has one writer),
    so two parallel writes cannot pass a quota together. User first, then tenant: one lock order.
    The usage rows are made (`ensure_usage_rows`) only when an UPDATE finds none to change.
    """
    if size == 0:
        await ensure_usage_rows(session=session, principal=principal)
        return
    scopes = (
        ("your", StorageUsage.user_id == principal.user_id, settings.user_quota_bytes),
        ("your organization's", StorageUsage.user_id.is_(None), settings.tenant_quota_bytes),
    )
    ensured = False
    for whose, scope, default in scopes:
        limit = _limit(StorageUsage.quota_bytes, default)
        statement = (
            update_rows(StorageUsage)
            .where(StorageUsage.tenant_id == principal.tenant_id, scope)
            .where(or_(limit.is_(None), StorageUsage.used_bytes + size <= limit))
            .values(used_bytes=StorageUsage.used_bytes + size)
            .execution_options(synchronize_session=False)
        )
        changed = cast("CursorResult[Any]", await session.execute(statement)).rowcount
        if changed != 1 and not ensured:  # no row yet, or past the quota: make sure the row is there and try again
            await ensure_usage_rows(session=session, principal=principal)
            ensured = True
            changed = cast("CursorResult[Any]", await session.execute(statement)).rowcount
        if changed != 1:
            raise QuotaExceeded(
                f"This needs {size} bytes more than {whose} storage quota allows; empty the trash or delete old versions."
            )


async def release(*, session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID, size: int) -> None:
    """Give `size` bytes back to a user and their tenant."""
    if size == 0:
        return
    for scope in (StorageUsage.user_id == user_id, StorageUsage.user_id.is_(None)):
        await session.execute(
            update_rows(StorageUsage)
            .where(StorageUsage.tenant_id == tenant_id, scope)
            .values(used_bytes=_at_least_zero(session, StorageUsage.used_bytes - size))
            .execution_options(synchronize_session=False)
        )


def _at_least_zero(session: AsyncSession, value: Any) -> Any:
    return func.max(value, 0) if session.get_bind().dialect.name == "sqlite" else func.greatest(value, 0)


async def set_user_quota(*, session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID, quota_bytes: int | None) -> None:
    """An admin sets a user's quota (None: back to the configured default)."""
    insert = _upsert(session)
    await session.execute(
        insert(StorageUsage).values(id=uuid.uuid4(), tenant_id=tenant_id, user_id=user_id, used_bytes=0).on_conflict_do_nothing()
    )
    await session.execute(
        update_rows(StorageUsage)
        .where(StorageUsage.tenant_id == tenant_id, StorageUsage.user_id == user_id)
        .values(quota_bytes=quota_bytes)
        .execution_options(synchronize_session=False)
    )


async def tenant_usage(*, session: AsyncSession, tenant_id: uuid.UUID) -> tuple[int, int | None]:
    """A tenant's bytes used and its own quota (None: the configured default)."""
    row = (
        await session.execute(
            select(StorageUsage.used_bytes, StorageUsage.quota_bytes).where(
                StorageUsage.tenant_id == tenant_id, StorageUsage.user_id.is_(None)
            )
        )
    ).first()
    return (int(row[0]), row[1]) if row is not None else (0, None)


async def set_tenant_quota(*, session: AsyncSession, tenant_id: uuid.UUID, quota_bytes: int | None) -> None:
    """Set a tenant's quota (None: back to the configured default)."""
    insert = _upsert(session)
    await session.execute(
        insert(StorageUsage).values(id=uuid.uuid4(), tenant_id=tenant_id, user_id=None, used_bytes=0).on_conflict_do_nothing()
    )
    await session.execute(
        update_rows(StorageUsage)
        .where(StorageUsage.tenant_id == tenant_id, StorageUsage.user_id.is_(None))
        .values(quota_bytes=quota_bytes)
        .execution_options(synchronize_session=False)
    )


async def tenants_usage(*, session: AsyncSession, tenant_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[int, int | None, int]]:
    """Bytes used, the tenant's own quota (None: the configured default) and its number of files, per tenant asked."""
    found: dict[uuid.UUID, tuple[int, int | None, int]] = dict.fromkeys(tenant_ids, (0, None, 0))
    if not tenant_ids:
        return found
    rows = await session.execute(
        select(StorageUsage.tenant_id, StorageUsage.used_bytes, StorageUsage.quota_bytes).where(
            StorageUsage.tenant_id.in_(tenant_ids), StorageUsage.user_id.is_(None)
        )
    )
    for tenant_id, used, quota in rows:
        found[tenant_id] = (int(used), quota, 0)
    counts = await session.execute(
        select(FileNode.tenant_id, func.count())
        .where(FileNode.tenant_id.in_(tenant_ids), FileNode.kind == "file")
        .group_by(FileNode.tenant_id)
    )
    for tenant_id, count in counts:
        used, quota, _ = found[tenant_id]
        found[tenant_id] = (used, quota, int(count))
    return found


async def largest_users(
    *, session: AsyncSession, tenant_ids: list[uuid.UUID], limit: int
) -> dict[uuid.UUID, list[tuple[uuid.UUID, int, int | None]]]:
    """Per tenant asked, its `limit` users storing the most: (user id, bytes used, own quota or None), largest first."""
    rank = (
        func.row_number()
        .over(partition_by=StorageUsage.tenant_id, order_by=(StorageUsage.used_bytes.desc(), StorageUsage.user_id))
        .label("rank")
    )
    ranked = (
        select(StorageUsage.tenant_id, StorageUsage.user_id, StorageUsage.used_bytes, StorageUsage.quota_bytes, rank)
        .where(StorageUsage.tenant_id.in_(tenant_ids), StorageUsage.user_id.is_not(None))
        .subquery()
    )
    rows = await session.execute(
        select(ranked.c.tenant_id, ranked.c.user_id, ranked.c.used_bytes, ranked.c.quota_bytes)
        .where(ranked.c.rank <= limit)
        .order_by(ranked.c.tenant_id, ranked.c.rank)
    )
    found: dict[uuid.UUID, list[tuple[uuid.UUID, int, int | None]]] = {tenant_id: [] for tenant_id in tenant_ids}
    for tenant_id, user_id, used, quota in rows:
        found[tenant_id].append((user_id, int(used), quota))
    return found

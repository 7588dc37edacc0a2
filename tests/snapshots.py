"""A comparable picture of the whole database, for suites that assert a refused request changed nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.models import Base

Snapshot = dict[str, list[tuple[Any, ...]]]


async def database_snapshot(session: AsyncSession, *, ignore: frozenset[tuple[str, str]] = frozenset()) -> Snapshot:
    """Every row of every table but the audit trail (denied attempts may be audited); `ignore`: (table, column) left out."""
    session.expire_all()
    tables: Snapshot = {}
    for table in Base.metadata.sorted_tables:
        if table.name == "audit_events":
            continue
        columns = [column for column in table.columns if (table.name, column.name) not in ignore]
        rows = (await session.execute(select(*columns))).all()
        tables[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return tables

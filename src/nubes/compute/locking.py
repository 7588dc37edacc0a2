"""SQLite's one writer, taken up front: a transaction that reads and then writes fails at once ("database is
locked") when another writer committed after its first read, and no busy timeout helps it. A transaction
that starts with a write waits for the lock instead. PostgreSQL needs none of this.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# Matches no row, but SQLite takes the write lock to run it (waiting up to the busy timeout).
_TAKE_WRITE_LOCK = text("UPDATE clusters SET name = name WHERE 1 = 0")


async def take_write_lock(session: AsyncSession) -> None:
    """On SQLite, make the current transaction the writer now (call it first); elsewhere do nothing."""
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(_TAKE_WRITE_LOCK)


async def restart_as_writer(session: AsyncSession) -> None:
    """On SQLite, end what the request read so far (authentication) and start again as the writer."""
    if session.get_bind().dialect.name == "sqlite":
        await session.commit()
        await session.execute(_TAKE_WRITE_LOCK)

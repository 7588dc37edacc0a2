"""SQLite writers of one process take turns instead of failing with "database is locked"."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from nubes.core.db import Database
from tests.conftest import make_settings

# Longer than SQLite's busy timeout (5 s, core/db.py): without turns the second writer gives up.
HOLD_S = 6.0


async def test_a_writer_waits_for_a_long_transaction_instead_of_failing(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path / 'turns.db'}")
    database = Database.from_settings(settings)
    try:
        async with database.engine.begin() as connection:
            await connection.execute(text("CREATE TABLE marks (who TEXT NOT NULL)"))
        first_wrote = asyncio.Event()

        async def slow_writer() -> None:
            async with database.writer_sessions() as session:
                await session.execute(text("INSERT INTO marks VALUES ('slow')"))
                first_wrote.set()
                await asyncio.sleep(HOLD_S)
                await session.commit()

        async def second_writer() -> None:
            await first_wrote.wait()
            async with database.writer_sessions() as session:
                await session.execute(text("INSERT INTO marks VALUES ('second')"))
                await session.commit()

        await asyncio.gather(slow_writer(), second_writer())
        async with database.sessions() as session:
            order = list(await session.scalars(text("SELECT who FROM marks ORDER BY rowid")))
        assert order == ["slow", "second"]
    finally:
        await database.dispose()

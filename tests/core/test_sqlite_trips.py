"""SQLite's driver (nubes.core.sqlite): how often a statement crosses to aiosqlite's thread; fewer trips change nothing else.

Trips are counted by wrapping aiosqlite's queue (`Connection._execute`) for the test: it is what every
trip goes through. SQLite only: PostgreSQL has its own driver.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import Column, MetaData, Table, Uuid, insert, select, text
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError, OperationalError

from nubes.config import Settings
from nubes.core.db import Database

TABLE = "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL UNIQUE)"


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every function handed to aiosqlite's thread from now on, by name."""
    handed: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        handed.append(getattr(fn, "func", fn).__name__)
        return await original(self, fn, *args, **kwargs)  # type: ignore[no-untyped-call]  # aiosqlite's private queue

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return handed


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path / 'trips.db'}")
    database = Database.from_settings(settings)
    async with database.engine.begin() as connection:
        await connection.execute(text(TABLE))
        await connection.execute(text("INSERT INTO notes (body) VALUES ('first')"))
    # Open a pooled connection now, so the counts below leave out connecting.
    async with database.reader_sessions() as session:
        await session.execute(text("SELECT 1"))
    yield database
    await database.dispose()


async def test_a_read_request_makes_no_trip(database: Database, trips: list[str]) -> None:
    async with database.reader_sessions() as session:
        bodies = (await session.execute(text("SELECT body FROM notes ORDER BY id"))).scalars().all()
        count = (await session.execute(text("SELECT count(*) FROM notes"))).scalar_one()
    assert bodies == ["first"]
    assert count == 1
    assert trips == []  # BEGIN went with the first SELECT, both ran here, and the rollback too


async def test_a_write_is_one_trip_per_statement_and_one_for_the_commit(database: Database, trips: list[str]) -> None:
    async with database.writer_sessions() as session, session.begin():
        await session.execute(text("INSERT INTO notes (body) VALUES ('second')"))
        updated = await session.execute(text("UPDATE notes SET body = body || '!' WHERE body = 'second'"))
        assert isinstance(updated, CursorResult)
        assert updated.rowcount == 1
    # BEGIN IMMEDIATE goes with the first statement to the thread (it may wait for the lock); holding the lock,
    # the second cannot wait and runs here; the commit may sync, so it is a trip.
    assert trips == ["_statement", "commit"]
    async with database.reader_sessions() as session:
        assert (await session.execute(text("SELECT body FROM notes ORDER BY id"))).scalars().all() == ["first", "second!"]


async def test_an_empty_transaction_makes_no_trip(database: Database, trips: list[str]) -> None:
    async with database.engine.connect() as connection:
        await connection.begin()
        await connection.commit()
        await connection.begin()
        await connection.rollback()
    assert trips == []


async def test_a_deferred_begin_still_reads_one_snapshot(database: Database) -> None:
    """Two reads of one transaction see the same data though a write committed between them: BEGIN was really sent."""
    async with database.reader_sessions() as reader:
        before = (await reader.execute(text("SELECT count(*) FROM notes"))).scalar_one()
        async with database.writer_sessions() as writer, writer.begin():
            await writer.execute(text("INSERT INTO notes (body) VALUES ('meanwhile')"))
        after = (await reader.execute(text("SELECT count(*) FROM notes"))).scalar_one()
    assert before == after == 1
    async with database.reader_sessions() as reader:
        assert (await reader.execute(text("SELECT count(*) FROM notes"))).scalar_one() == 2


async def test_a_failed_write_rolls_back_and_the_connection_goes_on(database: Database) -> None:
    async with database.writer_sessions() as session:
        with pytest.raises(IntegrityError):  # noqa: PT012 - the first insert must be rolled back with the second
            async with session.begin():
                await session.execute(text("INSERT INTO notes (body) VALUES ('kept?')"))
                await session.execute(text("INSERT INTO notes (body) VALUES ('first')"))  # UNIQUE
    with pytest.raises(OperationalError, match="no such table"):
        async with database.reader_sessions() as session:
            await session.execute(text("SELECT * FROM missing"))
    async with database.reader_sessions() as session:
        assert (await session.execute(text("SELECT body FROM notes"))).scalars().all() == ["first"]


async def test_many_concurrent_sessions_read_and_write_the_same_file(database: Database) -> None:
    async def write(index: int) -> None:
        async with database.writer_sessions() as session, session.begin():
            await session.execute(text("INSERT INTO notes (body) VALUES (:body)"), {"body": f"note {index} {uuid.uuid4()}"})

    async def read() -> int:
        async with database.reader_sessions() as session:
            return int((await session.execute(text("SELECT count(*) FROM notes"))).scalar_one())

    counts = await asyncio.gather(*(write(index) if index % 2 else read() for index in range(60)))
    assert all(1 <= count <= 31 for count in counts if count is not None)
    assert await read() == 31


async def test_uuids_read_back_as_the_ones_written(database: Database) -> None:
    """`HexUuid` builds UUIDs without parsing: they must equal, hash and print as uuid.UUID's own, hyphens or not."""
    column = Table("things", MetaData(), Column("id", Uuid, primary_key=True), Column("other", Uuid, nullable=True))
    written = [uuid.uuid4() for _ in range(50)] + [uuid.UUID(int=0), uuid.UUID(int=2**128 - 1)]
    async with database.engine.begin() as connection:
        await connection.run_sync(column.metadata.create_all)
        await connection.execute(insert(column), [{"id": value, "other": None} for value in written])
        hyphenated = uuid.uuid4()  # as a hand-written row would hold it
        await connection.execute(text("INSERT INTO things (id) VALUES (:id)"), {"id": str(hyphenated)})
    async with database.reader_sessions() as session:
        rows = (await session.execute(select(column.c.id, column.c.other))).all()
    read = {row.id for row in rows}
    assert read == {*written, hyphenated}
    assert all(type(value) is uuid.UUID and str(value) == str(uuid.UUID(str(value))) for value in read)
    assert {hash(value) for value in read} == {hash(value) for value in (*written, hyphenated)}
    assert {row.other for row in rows} == {None}


async def test_waiting_for_the_write_lock_never_stalls_the_event_loop(database: Database, tmp_path: Path) -> None:
    """Another process holds the write lock: our writer waits for it in aiosqlite's thread while reads go on."""
    other = sqlite3.connect(tmp_path / "trips.db", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO notes (body) VALUES ('other process')")

    async def write() -> None:
        async with database.writer_sessions() as session, session.begin():
            await session.execute(text("INSERT INTO notes (body) VALUES ('after the wait')"))

    writer = asyncio.create_task(write())
    reads = 0
    for _ in range(20):  # 20 reads over ~0.2 s while the writer waits
        async with database.reader_sessions() as session:
            reads += int((await session.execute(text("SELECT count(*) FROM notes"))).scalar_one() == 1)
        await asyncio.sleep(0.01)
    assert not writer.done()
    other.execute("COMMIT")
    other.close()
    await asyncio.wait_for(writer, 5)
    assert reads == 20
    async with database.reader_sessions() as session:
        bodies = set((await session.execute(text("SELECT body FROM notes"))).scalars())
    assert bodies == {"first", "other process", "after the wait"}

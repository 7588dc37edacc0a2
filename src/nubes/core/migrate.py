"""Apply and check Alembic migrations from code (`nubes serve`, `nubes migrate`, the tests)."""

from __future__ import annotations

import asyncio
import fcntl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import BinaryIO

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).resolve().parents[3] / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at our migrations; with `connection`, env.py runs on it."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    config.attributes["connection"] = connection
    return config


# The install-wide lock of a start's schema work: a PostgreSQL advisory lock key ("nubes" + 1), or a file beside SQLite's.
_POSTGRES_LOCK_KEY = 0x6E75626573 + 1


@asynccontextmanager
async def install_lock(engine: AsyncEngine) -> AsyncIterator[None]:
    """Hold the install's start lock: replicas and workers starting at once migrate and bootstrap one after the other.

    PostgreSQL: a session advisory lock on a connection of its own (released when it closes, also if this process
    dies). SQLite: an exclusive `flock` on `<database>.start-lock` (released by the kernel likewise).
    """
    if engine.dialect.name == "postgresql":
        async with engine.connect() as connection:
            await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _POSTGRES_LOCK_KEY})
            await connection.commit()
            try:
                yield
            finally:
                await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _POSTGRES_LOCK_KEY})
                await connection.commit()
        return
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        yield
        return
    handle = await asyncio.to_thread(_locked, Path(database + ".start-lock"))
    try:
        yield
    finally:
        handle.close()  # closing drops the flock


def _locked(path: Path) -> BinaryIO:
    handle = path.open("ab")
    fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
    return handle


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database to `revision` in one transaction per migration run."""
    async with engine.connect() as connection:
        await connection.run_sync(_in_one_transaction, lambda sync: command.upgrade(alembic_config(sync), revision))


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Take the database back to `revision` (`base` empties it)."""
    async with engine.connect() as connection:
        await connection.run_sync(_in_one_transaction, lambda sync: command.downgrade(alembic_config(sync), revision))


def _in_one_transaction(sync: Connection, run: Callable[[Connection], None]) -> None:
    """`run` in one transaction; on SQLite with foreign keys off meanwhile, checked before the commit.

    SQLite changes most of a table by copying it into a new one and dropping the old (Alembic's batch mode); with
    foreign keys on, that drop fires the ON DELETE actions of every row pointing at it, so the documents of a
    migrated vocabulary table lost their types and tags. SQLite's own procedure for such changes: foreign keys
    off (outside the transaction: inside one the pragma does nothing), the change, `PRAGMA foreign_key_check`.
    """
    sqlite = sync.dialect.name == "sqlite"
    if sqlite:
        _pragma(sync, "PRAGMA foreign_keys=OFF")
    try:
        with sync.begin():
            run(sync)
            if sqlite and (broken := sync.exec_driver_sql("PRAGMA foreign_key_check").fetchall()):
                raise RuntimeError(f"the migration left rows pointing at nothing: {broken[:5]}")
    finally:
        if sqlite:
            _pragma(sync, "PRAGMA foreign_keys=ON")


def _pragma(sync: Connection, statement: str) -> None:
    """A PRAGMA on the connection itself, outside any transaction SQLAlchemy would begin for it."""
    dbapi = sync.connection.dbapi_connection
    if dbapi is None:
        raise RuntimeError("the connection is closed")
    cursor = dbapi.cursor()
    try:
        cursor.execute(statement)
    finally:
        cursor.close()


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    async with engine.connect() as connection:
        return await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())


def head_revision() -> str | None:
    """The newest revision in the migrations folder."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def check(engine: AsyncEngine) -> None:
    """Fail (alembic.util.exc.AutogenerateDiffsDetected) when the models differ from the migrated schema."""
    async with engine.connect() as connection:
        await connection.run_sync(lambda sync: command.check(alembic_config(sync)))

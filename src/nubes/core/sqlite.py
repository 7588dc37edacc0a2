"""SQLite through aiosqlite with one trip to its thread per statement, and none for an empty transaction.

SQLAlchemy's aiosqlite adapter hands each statement to aiosqlite's thread four times (open a cursor,
execute, fetch, close), then a `BEGIN` and a `ROLLBACK` per read request, and one more rollback when the
pool takes the connection back. Each trip is a thread wake-up both ways; on a read request they cost
more than the SQL itself (a primary-key lookup takes microseconds). This dialect keeps aiosqlite, its
thread and its error handling, and changes only how often it crosses over:

- a statement is one trip: a cursor is opened, executed, read to the end and closed in the thread;
- a deferred `BEGIN` waits for the transaction's first statement and goes with it (`defer_begin`);
- a commit or rollback with nothing begun, and the pool's reset of an idle connection, cost no trip.

It reaches into aiosqlite's connection (`_execute`, `_connection`) the way SQLAlchemy's own adapter does
(`_tx`, `_conn`); aiosqlite is pinned, and tests/core/test_sqlite_trips.py counts the trips.
"""

from __future__ import annotations

import collections
import sqlite3
import uuid
from collections.abc import Sequence
from functools import partial
from typing import Any

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.sql import sqltypes

DRIVER = "nubes_aiosqlite"
IMMEDIATE = "BEGIN IMMEDIATE"

_Outcome = tuple[Any, Sequence[Any], int, int | None]


def _statement(connection: sqlite3.Connection, begin: str | None, operation: str, parameters: Any, *, many: bool) -> _Outcome:
    """In aiosqlite's thread: the pending BEGIN, then the statement, its rows and counts, the cursor closed."""
    if begin is not None:
        connection.execute(begin)
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else ()
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _reads(operation: str) -> bool:
    """A plain SELECT: in WAL mode it never waits for a lock, so it may run on the caller's thread."""
    return operation[:6].upper() == "SELECT"


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor whose statements each make one trip to the connection's thread, rows included."""

    __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount")

    def _make_new_cursor(self, connection: Any) -> Any:
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1
        return None  # the real cursor lives only inside each trip

    def _aenter_cursor(self, cursor: Any) -> Any:
        return cursor

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]  # DBAPI: None until a row is inserted

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    async def _async_soft_close(self) -> None:
        return None  # every trip closes its cursor

    def close(self) -> None:
        self._rows.clear()

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        return await self._trip(operation, parameters, many=False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        return await self._trip(operation, seq_of_parameters, many=True)

    async def _trip(self, operation: Any, parameters: Any, *, many: bool) -> None:
        adapted = self._adapt_connection
        async with adapted._execute_mutex:
            driver = self._connection
            if isinstance(adapted, OneTripConnection):
                begin = adapted.take_pending_begin()
                here = adapted.runs_here(begin, operation)
            else:
                begin, here = None, False
            run = partial(_statement, driver._conn, begin, operation, parameters, many=many)
            outcome = run() if here else await driver._execute(run)  # aiosqlite's queue, as SQLAlchemy's adapter uses it
            if begin == IMMEDIATE and isinstance(adapted, OneTripConnection):
                adapted.holds_write_lock = True
            self._description, rows, self._rowcount, self._lastrowid = outcome
            self._rows = collections.deque(rows)


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """aiosqlite's adapted connection with one-trip cursors, a deferred BEGIN and free empty endings.

    Where a statement runs: what may wait goes to aiosqlite's thread (taking the write lock, a commit, which
    may checkpoint and sync, and a write outside a transaction that holds the lock); what cannot wait runs
    on the caller's thread, as a function call: a plain SELECT (WAL readers never wait for a lock), every
    statement of a transaction that already holds the write lock (nobody else can be writing), a rollback.
    """

    __slots__ = ("_pending_begin", "holds_write_lock")

    _cursor_cls = OneTripCursor

    def __init__(self, dbapi: Any, connection: Any) -> None:
        super().__init__(dbapi, connection)
        self._pending_begin: str | None = None
        self.holds_write_lock = False

    def defer_begin(self, statement: str) -> None:
        """Send `statement` (a BEGIN) with the next statement instead of on its own."""
        self._pending_begin = statement

    def take_pending_begin(self) -> str | None:
        """The BEGIN still to send, if any; it is sent once."""
        begin, self._pending_begin = self._pending_begin, None
        return begin

    def runs_here(self, begin: str | None, operation: str) -> bool:
        """Whether `operation` (after `begin`, if any) runs on the caller's thread rather than as a trip."""
        if begin is None:
            return (self.holds_write_lock and self._in_transaction()) or _reads(operation)
        return begin == "BEGIN" and _reads(operation)

    def _in_transaction(self) -> bool:
        driver = self._connection._connection  # None once closed
        return driver is not None and driver.in_transaction

    def rollback(self) -> None:
        self.holds_write_lock = False
        if self.take_pending_begin() is None and self._in_transaction():
            self._connection._conn.rollback()  # never waits for a lock nor the disk: here, not a trip

    def commit(self) -> None:
        try:
            if self.take_pending_begin() is None and self._in_transaction():
                super().commit()
        finally:
            self.holds_write_lock = False


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """aiosqlite as a DBAPI module whose connections are `OneTripConnection`s."""

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)


def _uuid_of_hex(value: str | None) -> uuid.UUID | None:
    """A stored UUID (32 hex digits) as `uuid.UUID`, without `UUID()` parsing every format it accepts (half the cost)."""
    if value is None:
        return None
    if len(value) != 32:  # written with hyphens or braces by something else
        return uuid.UUID(value)
    number = int(value, 16)  # ValueError as UUID() raises for what is not hex
    made = _new_object(uuid.UUID)
    _set_attribute(made, "int", number)  # UUID is immutable: its own __init__ sets these two the same way
    _set_attribute(made, "is_safe", _UNKNOWN_SAFETY)
    return made


_new_object = object.__new__
_set_attribute = object.__setattr__
_UNKNOWN_SAFETY = uuid.SafeUUID.unknown  # an enum member costs a property lookup each time it is named


class HexUuid(sqltypes.Uuid):  # type: ignore[type-arg]  # generic over what it returns; both kinds are handled
    """SQLite's UUID columns (32 hex digits of text), read with `_uuid_of_hex`: listings read two per row."""

    def result_processor(self, dialect: Any, coltype: object) -> Any:
        if not self.as_uuid:
            return super().result_processor(dialect, coltype)  # type: ignore[no-untyped-call]
        return _uuid_of_hex


class OneTripDialect(SQLiteDialect_aiosqlite):
    """SQLAlchemy's aiosqlite dialect over `OneTripDBAPI`, with `HexUuid` for UUID columns."""

    driver = DRIVER
    supports_statement_cache = True
    colspecs = {**SQLiteDialect_aiosqlite.colspecs, sqltypes.Uuid: HexUuid}  # noqa: RUF012 - SQLAlchemy reads it from the class

    @classmethod
    def import_dbapi(cls) -> OneTripDBAPI:
        return OneTripDBAPI(__import__("aiosqlite"), sqlite3)


def defer_begin(dbapi_connection: Any, statement: str) -> bool:
    """Have `statement` go with the connection's next statement; False when the connection cannot (run it now)."""
    if isinstance(dbapi_connection, OneTripConnection):
        dbapi_connection.defer_begin(statement)
        return True
    return False


registry.register(f"sqlite.{DRIVER}", __name__, "OneTripDialect")

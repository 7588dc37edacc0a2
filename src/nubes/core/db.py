"""Database engine, sessions and the declarative base, the same on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, ClassVar

import structlog
from fastapi import Depends, Request
from sqlalchemy import Boolean, ColumnElement, DateTime, Dialect, MetaData, String, TypeDecorator, Uuid, bindparam, event, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, ORMExecuteState, QueryableAttribute, Session
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import SQLCoreOperations
from sqlalchemy.sql.type_api import TypeEngine
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.util import await_only

from nubes.config import Settings, private_file
from nubes.core import sqlite
from nubes.core.errors import NubesError
from nubes.core.jobs import settle_before_answer

log = structlog.get_logger("nubes.db")

# Stable constraint names, so migrations autogenerate the same way on both engines.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on both engines (SQLite drops the offset; this puts it back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: Nubes stores only timezone-aware UTC times")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], datetime | None] | None:
        """On SQLite, the stored text straight to an aware datetime (one C parse, not SQLAlchemy's and then ours)."""
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        parse = datetime.fromisoformat

        def process(value: str | None) -> datetime | None:
            if value is None:
                return None
            try:
                return parse(value + "+00:00")  # stored without an offset, in UTC; six times cheaper than .replace()
            except ValueError:  # written with an offset by something else
                parsed = parse(value)
                return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)

        return process


def utcnow() -> datetime:
    """Now, timezone-aware, in UTC: the only clock the models use."""
    return datetime.now(UTC)


LIKE_ESCAPE = "\\"


def _like_literal(fragment: str) -> str:
    """`fragment` with LIKE's wildcards and the escape character made literal."""
    return fragment.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")


def like_contains(
    column: SQLCoreOperations[str] | SQLCoreOperations[str | None], fragment: str, *, ignore_case: bool = False
) -> ColumnElement[bool]:
    """`column` contains `fragment` literally: its `%`, `_` and `\\` are escaped, never wildcards (every LIKE goes here)."""
    pattern = f"%{_like_literal(fragment)}%"
    return column.ilike(pattern, escape=LIKE_ESCAPE) if ignore_case else column.like(pattern, escape=LIKE_ESCAPE)


def like_prefix(column: SQLCoreOperations[str] | SQLCoreOperations[str | None], fragment: str) -> ColumnElement[bool]:
    """`column` starts with `fragment` literally (case-sensitive), wildcards escaped as in `like_contains`."""
    return column.like(f"{_like_literal(fragment)}%", escape=LIKE_ESCAPE)


class _Ids(TypeDecorator[list[uuid.UUID]]):
    """Many ids as one value: a JSON array of hex strings on SQLite (read with `json_each`), a `uuid[]` on PostgreSQL."""

    impl = String
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return dialect.type_descriptor(postgresql.ARRAY(Uuid()) if dialect.name == "postgresql" else String())

    def process_bind_param(self, value: list[uuid.UUID] | None, dialect: Dialect) -> Any:
        if value is None or dialect.name == "postgresql":
            return value
        return json.dumps([each.hex for each in value])


class OneOf(ColumnElement[bool]):
    """`column` is one of many ids, bound as ONE parameter: see `one_of`."""

    inherit_cache = True
    _traverse_internals = [  # noqa: RUF012 - SQLAlchemy's own attribute, a list in its base
        ("column", InternalTraversal.dp_clauseelement),
        ("ids", InternalTraversal.dp_clauseelement),
    ]
    type = Boolean()
    _is_implicitly_boolean = True  # a comparison: no `= 1` after it on SQLite

    def __init__(self, column: ColumnElement[Any] | QueryableAttribute[Any], values: Sequence[uuid.UUID]) -> None:
        self.column = column.__clause_element__()
        self.ids = bindparam(None, list(values), type_=_Ids(), unique=True)


@compiles(OneOf, "sqlite")
def _one_of_sqlite(element: OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    column, ids = compiler.process(element.column, **kw), compiler.process(element.ids, **kw)
    return f"{column} IN (SELECT value FROM json_each({ids}))"  # noqa: S608 - compiled SQL of a column and a parameter


@compiles(OneOf, "postgresql")
def _one_of_postgresql(element: OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{compiler.process(element.column, **kw)} = ANY({compiler.process(element.ids, **kw)})"


def one_of(column: ColumnElement[Any] | QueryableAttribute[Any], values: Sequence[uuid.UUID]) -> ColumnElement[bool]:
    """`column IN values` for a thousand ids: one JSON array (SQLite's `json_each`) or one `uuid[]` (PostgreSQL's
    `= ANY`) instead of a thousand parameters, which SQLAlchemy compiles and binds at ~3 µs each (a search's facets
    over its 1,000 ranked matches spent 4 ms there)."""
    return OneOf(column, values)


class Base(DeclarativeBase):
    """Every table of every domain derives from this base."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime}


def create_engine(settings: Settings) -> AsyncEngine:
    """Build the async engine for the configured database with the right per-engine options."""
    url = make_url(settings.effective_database_url)
    if url.get_backend_name() == "sqlite":
        _private_sqlite_files(url.database)
        if url.get_driver_name() == "aiosqlite":
            url = url.set(drivername=f"sqlite+{sqlite.DRIVER}")
        # A connection is a thread and a file handle: keep them open (the default 5 + 10 overflow closed and
        # reopened a connection, thread included, for most requests under 32 concurrent clients).
        engine = create_async_engine(
            url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_pool_size,
            connect_args={"timeout": settings.db_connect_timeout, "check_same_thread": False},
        )
        _tune_sqlite(engine)
        return engine
    engine = create_async_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        # No JIT: Nubes' queries are short, and PostgreSQL compiled one whose plan it overestimated (a recursive CTE
        # of shares) for 0.5-0.8 s to run it in 10 ms (bench/bench_documents.py, search). Random reads priced as
        # on SSDs or a cached working set (PostgreSQL's default, 4, is a spinning disk's): with it, the planner read
        # every document to find 1,000 by primary key for search facets (53 ms against 3.8 ms). A plan for each
        # statement's values: asyncpg prepares statements, and after five runs PostgreSQL may keep a generic plan
        # that does not know the words searched for (a word in every document then took 90 ms instead of 25).
        connect_args={
            "timeout": settings.db_connect_timeout,
            "server_settings": {"jit": "off", "random_page_cost": "1.1", "plan_cache_mode": "force_custom_plan"},
        },
    )
    _replace_dead_postgres_connections(engine, ping_within=settings.db_connect_timeout)
    return engine


def _private_sqlite_files(database: str | None) -> None:
    """Make the SQLite file 0600, creating it first: SQLite would create it 0644 under the usual umask.

    SQLite gives its -wal and -shm files the database file's mode, so they follow; those an older
    version left readable are closed here too.
    """
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    private_file(Path(database))
    for suffix in ("-wal", "-shm", "-journal"):
        if Path(database + suffix).exists():
            private_file(Path(database + suffix))


# A pooled PostgreSQL connection unused for longer than this is pinged before it is handed out again.
IDLE_PING_AFTER_S = 10.0
_IDLE_SINCE = "nubes_idle_since"


def _replace_dead_postgres_connections(engine: AsyncEngine, *, ping_within: float) -> None:
    """Hand out no pooled PostgreSQL connection that has died (a failover, a restart, `pg_terminate_backend`).

    Not SQLAlchemy's `pool_pre_ping`: it asks the server at every checkout, and asyncpg's ping is three round trips
    (BEGIN, `;`, ROLLBACK), as many as a one-query read session makes itself (whose median went from 0.67 ms to
    1.0-1.6 ms with it, on two busy cores). Here a busy pool pays nothing. asyncpg marks a connection closed as soon
    as the event loop reads the server's close, so one the server ended is spotted at checkout for free; one idle
    longer than IDLE_PING_AFTER_S, which may have been cut without a word (a firewall forgetting an idle flow, a host
    gone), gets one `;` bounded by the connect timeout (pre-ping's has no bound). Either way the pool puts a new
    connection in its place before the request sees it. A connection that dies while a request uses it still fails
    that request, as with pre-ping; SQLAlchemy then renews the rest of the pool.
    """
    pool = engine.sync_engine.pool

    @event.listens_for(pool, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        connection = dbapi_connection.driver_connection
        if connection.is_closed():
            raise DisconnectionError("the server closed this pooled connection")
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_AFTER_S:
            return
        try:
            await_only(asyncio.wait_for(connection.execute(";"), ping_within))
        except Exception as exc:
            raise DisconnectionError(f"a pooled connection idle for {IDLE_PING_AFTER_S:g} s did not answer") from exc


def _tune_sqlite(engine: AsyncEngine) -> None:
    """WAL, foreign keys and a busy timeout on every connection; SQLAlchemy owns BEGIN so savepoints work."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    turns = _WriterTurns()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A deferred transaction that reads, then writes after another connection committed, fails at
        # once with "database is locked" (WAL snapshot), whatever the busy timeout. Requests that may
        # write take the write lock up front instead and wait their turn (see get_session).
        immediate = connection.get_execution_options().get(WRITE_INTENT, False)
        if immediate:
            turns.take(connection.info)
        statement = sqlite.IMMEDIATE if immediate else "BEGIN"
        if sqlite.defer_begin(connection.connection.dbapi_connection, statement):
            return  # sent with the transaction's first statement (a failure there rolls back: the turn is given back)
        try:
            connection.exec_driver_sql(statement)
        except BaseException:
            turns.give_back(connection.info)
            raise

    @event.listens_for(engine.sync_engine, "commit")
    @event.listens_for(engine.sync_engine, "rollback")
    def _on_end(connection: Any) -> None:
        turns.give_back(connection.info)

    @event.listens_for(engine.sync_engine.pool, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        turns.give_back(record.info)


class _WriterTurns:
    """Writers of one process take turns in arrival order before SQLite's own write lock.

    SQLite's busy handler polls with growing sleeps, so under load a waiting writer can lose the race
    again and again and fail with "database is locked" once the busy timeout is spent, while the
    transactions ahead of it each took milliseconds. A FIFO lock in the process hands the turn over
    fairly; the busy timeout is left for other processes sharing the file. A writer that waited
    `TURN_WAIT_S` goes on to SQLite's lock anyway, so a stuck transaction cannot hang the rest.
    """

    TURN_WAIT_S = 30.0
    _HELD = "nubes_writer_turn"

    def __init__(self) -> None:
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def take(self, info: dict[str, Any]) -> None:
        if info.get(self._HELD):
            return
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:  # a lock belongs to one event loop
            self._lock, self._loop = asyncio.Lock(), loop
        lock = self._lock
        try:
            await_only(asyncio.wait_for(lock.acquire(), self.TURN_WAIT_S))
        except TimeoutError:
            return
        info[self._HELD] = lock

    def give_back(self, info: dict[str, Any]) -> None:
        lock: asyncio.Lock | None = info.pop(self._HELD, None)
        if lock is not None and lock.locked():
            lock.release()


# Execution option: this session may write, so SQLite begins its transactions IMMEDIATE.
WRITE_INTENT = "nubes_write_intent"
# Session info key: this session only reads (a request with a safe method); a write in it is a bug.
READ_ONLY = "nubes_read_only"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class WriteInReadSession(RuntimeError):
    """Code running in a read-only session (a GET, HEAD or OPTIONS request) tried to write: a bug to fix."""


@event.listens_for(Session, "before_flush")
def _refuse_flush(session: Session, _context: Any, _instances: Any) -> None:
    if session.info.get(READ_ONLY) and (session.new or session.dirty or session.deleted):
        changed = [type(obj).__name__ for obj in (*session.new, *session.dirty, *session.deleted)]
        raise WriteInReadSession(f"a read-only request tried to write {sorted(set(changed))}")


@event.listens_for(Session, "do_orm_execute")
def _refuse_write_statement(state: ORMExecuteState) -> None:
    if state.session.info.get(READ_ONLY) and (state.is_insert or state.is_update or state.is_delete):
        raise WriteInReadSession(f"a read-only request tried to run {state.statement.__visit_name__}")


@dataclass(eq=False)
class Database:
    """The engine and session factory of one running app."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        engine = create_engine(settings)
        return cls(engine=engine, sessions=async_sessionmaker(engine, expire_on_commit=False))

    @cached_property
    def reader_sessions(self) -> async_sessionmaker[AsyncSession]:
        """Sessions of safe requests: they are never committed, and refuse to write (READ ONLY on PostgreSQL)."""
        engine = self.engine.execution_options(postgresql_readonly=True) if self.engine_name == "postgresql" else self.engine
        return async_sessionmaker(engine, expire_on_commit=False, info={READ_ONLY: True})

    @cached_property
    def writer_sessions(self) -> async_sessionmaker[AsyncSession]:
        """Sessions for work that may write: on SQLite their transactions begin IMMEDIATE (when first used)."""
        if self.engine_name != "sqlite":
            return self.sessions
        return async_sessionmaker(self.engine.execution_options(**{WRITE_INTENT: True}), expire_on_commit=False)

    @property
    def engine_name(self) -> str:
        """`sqlite` or `postgresql`."""
        return self.engine.dialect.name

    async def ping(self, within: float = 2.0) -> float:
        """Round-trip `SELECT 1`; return the latency in milliseconds or raise."""
        started = time.perf_counter()
        async with asyncio.timeout(within), self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return (time.perf_counter() - started) * 1000

    async def dispose(self) -> None:
        await self.engine.dispose()


class DatabaseUnreachable(Exception):
    """The database did not accept a connection within NUBES_DB_START_TIMEOUT; the message names where and why."""


# The pause after the first failed attempt to reach the database at start; it doubles up to the longest.
FIRST_PAUSE_S = 0.5
LONGEST_PAUSE_S = 10.0
# SQLSTATEs of a server that is there but cannot take the connection yet: connection exceptions (class 08),
# shutting down or starting up (57P01-57P03), out of connection slots (53300).
_NOT_YET = ("08", "57P01", "57P02", "57P03", "53300")


async def wait_until_reachable(settings: Settings) -> None:
    """Return once PostgreSQL accepts a connection, retrying with growing pauses for up to NUBES_DB_START_TIMEOUT.

    A replica or worker started while PostgreSQL fails over, restarts or is not up yet (a host booting) waits
    for it, saying so in the log, instead of exiting, which systemd would turn into a crash loop. Only what time can
    fix is waited for (refused, unresolvable, timed out, "starting up"); a wrong password or a missing database is
    raised at once. The log names host, port and database, never the password. SQLite has nothing to wait for.
    """
    if settings.database_engine != "postgresql":
        return
    url = make_url(settings.effective_database_url)
    where = {"host": url.host, "port": url.port or 5432, "database": url.database}
    engine = create_async_engine(url, poolclass=NullPool, connect_args={"timeout": settings.db_connect_timeout})
    started = time.monotonic()
    try:
        for attempt in itertools.count(1):
            try:
                async with engine.connect():
                    pass
            except Exception as exc:
                cause = _unreachable_cause(exc)
                if cause is None:
                    raise
                reason = _without(url.password, _reason(cause, settings.db_connect_timeout))
                waited = time.monotonic() - started
                if waited >= settings.db_start_timeout:
                    raise DatabaseUnreachable(
                        f"cannot reach the postgresql database {url.database} at {url.host}:{where['port']} "
                        f"({reason}; waited {waited:.0f} s)"
                    ) from None
                pause = min(FIRST_PAUSE_S * 2 ** (attempt - 1), LONGEST_PAUSE_S, settings.db_start_timeout - waited)
                log.warning(
                    "database.unreachable",
                    **where,
                    attempt=attempt,
                    waited_s=round(waited, 1),
                    retry_in_s=round(pause, 1),
                    reason=reason,
                )
                await asyncio.sleep(pause)
            else:
                if attempt > 1:
                    log.info("database.reachable", **where, attempts=attempt, waited_s=round(time.monotonic() - started, 1))
                return
    finally:
        await engine.dispose()


def _unreachable_cause(exc: BaseException) -> BaseException | None:
    """The error in `exc`'s chain that says the database cannot be reached yet, or None when it is another failure."""
    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        sqlstate = getattr(error, "sqlstate", None)
        if isinstance(error, OSError | TimeoutError) or (isinstance(sqlstate, str) and sqlstate.startswith(_NOT_YET)):
            return error
        error = error.__cause__ or error.__context__
    return None


def _reason(error: BaseException, connect_timeout: float) -> str:
    text = str(error).strip()
    if not text and isinstance(error, TimeoutError):
        return f"no answer within {connect_timeout:g} s"
    return text.splitlines()[0][:200] if text else type(error).__name__


def _without(secret: str | None, text: str) -> str:
    return text.replace(secret, "***") if secret else text


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request, by the read/write policy.

    A safe request (GET, HEAD, OPTIONS) reads in a session that is never committed and refuses writes, so
    it takes no writer lock and pays no commit. Any other request writes: its session takes the writer lock
    once (SQLite: BEGIN IMMEDIATE) and is committed when the handler returns, rolled back when it raises.
    """
    database: Database = request.app.state.db
    if request.method in SAFE_METHODS:
        async with database.reader_sessions() as session:
            yield session  # closing it ends the transaction: nothing to commit
        return
    async with database.writer_sessions() as session, finish_on_exit(session):
        yield session


async def get_write_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A writing session whatever the method: for the few safe requests whose reading is itself a fact to record.

    A public link's download counts against its limit, and a refusal is audited: those GET routes declare
    `WriteSessionDep` instead of `SessionDep` (tests/core/test_read_sessions.py lists them).
    """
    database: Database = request.app.state.db
    async with database.writer_sessions() as session, finish_on_exit(session):
        yield session


@asynccontextmanager
async def finish_on_exit(session: AsyncSession) -> AsyncIterator[None]:
    """Commit when the block succeeds; roll back when it raises, unless the error's changes must stay.

    A `NubesError` with `keep_changes` (a failed login's audit row, a revoked token family) is
    itself a fact to record: its changes are committed, then the error goes on to the client.
    """
    try:
        yield
    except NubesError as exc:
        if exc.keep_changes:
            await session.commit()
            await settle_before_answer(session)
        else:
            await session.rollback()
        raise
    except BaseException:
        await session.rollback()
        raise
    else:
        await session.commit()
        await settle_before_answer(session)


# scope="function": commit (or roll back) before the response is sent. FastAPI's default runs the
# code after `yield` once the client already has its answer, so a failed commit would have been
# acknowledged as a success.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
WriteSessionDep = Annotated[AsyncSession, Depends(get_write_session, scope="function")]

"""Fixtures shared by the whole suite: one migrated database per engine, each test in a rolled-back transaction.

The database-backed fixtures are parametrized over the engines in NUBES_TEST_ENGINES
(default `sqlite,postgresql`), so every test that touches the database runs on both.
PostgreSQL comes from NUBES_TEST_POSTGRES_URL (`make test` starts a throwaway cluster and sets it).
The browser tests add a target, `deployment` (PostgreSQL behind nginx, tests/e2e/conftest.py), which stands for
PostgreSQL in the browser tests that go through it (BROWSER_TARGETS).
`make test` runs the suite in parallel (pytest-xdist, `--dist loadscope`): each worker is its own process with its
own session fixtures, temp dirs, ports and databases; the tests of one module on one engine stay on one worker, and
those through the deployment all on one.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI, Request
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from nubes.config import Settings, load_settings
from nubes.core import migrate
from nubes.core.db import READ_ONLY, SAFE_METHODS, Database, finish_on_exit, get_session, get_write_session
from nubes.files.dav.deps import SessionMakers, session_makers
from nubes.main import create_app

# The embedded node (`local`, an agent inside the server) starts only in the tests that ask for it.
os.environ.setdefault("NUBES_LOCAL_AGENT", "off")

ENGINES = [name.strip() for name in os.environ.get("NUBES_TEST_ENGINES", "sqlite,postgresql").split(",") if name.strip()]
DEPLOYMENT = "deployment"
"""The browser tests' target besides the engines: the reference deployment (three replicas behind nginx) on PostgreSQL."""
TARGETS = [*ENGINES, DEPLOYMENT] if "postgresql" in ENGINES else ENGINES
BROWSER_TARGETS = [*(name for name in ENGINES if name != "postgresql"), DEPLOYMENT] if "postgresql" in ENGINES else ENGINES
"""Where the browser tests that also go through the deployment run: SQLite and the deployment, which is PostgreSQL (behind
nginx, three replicas). A single PostgreSQL server would add a third browser run that shows nothing the deployment does
not; the API suites behind every page run on both engines."""


def on_one_engine(preferred: str) -> pytest.MarkDecorator:
    """A test's mark: it runs on `preferred` only (or on the first engine NUBES_TEST_ENGINES names). For slow tests whose
    subject the engine does not change (say why where the mark is used); the suites of the rules run on both."""
    chosen = preferred if preferred in ENGINES else ENGINES[0]
    return pytest.mark.parametrize("engine_name", [chosen], indirect=True)


# `gw0`, `gw1`... under pytest-xdist, `main` in a plain run: in the names of what workers make on shared servers.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
# Modules that take long for few tests (real processes, browsers, Docker) are handed out first, so that no worker
# is left alone with one at the end of a parallel run.
SLOW_FIRST = ("docker", "e2e")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """One target after the other (switching sets their session fixtures up again), slow modules first in each; the
    deployment first of all: its tests are one long work unit, best started while the other workers have much left."""
    order = [DEPLOYMENT, *ENGINES]

    def rank(item: pytest.Item) -> tuple[int, int]:
        callspec = getattr(item, "callspec", None)
        target = callspec.params.get("engine_name") if callspec is not None else None
        slow = next((index for index, marker in enumerate(SLOW_FIRST) if item.get_closest_marker(marker)), len(SLOW_FIRST))
        return (order.index(target) if target in order else len(order), slow)

    items.sort(key=rank)  # stable: the order pytest and pytest-randomly chose within each rank is kept


def work_unit(nodeid: str) -> str:
    """The unit a parallel run hands to one worker: a test module on one engine (its module-scoped servers start once),
    or every test through the deployment (one worker starts its six processes, once)."""
    module, _, rest = nodeid.partition("::")
    tokens = re.split(r"[\[\]-]", rest.partition("[")[2])
    target = next((token for token in tokens if token in TARGETS), "any")
    return DEPLOYMENT if target == DEPLOYMENT else f"{module}:{target}"


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """`--dist loadscope` by `work_unit` (pytest-xdist's `loadgroup` cannot rename node ids under pytest 9)."""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling  # noqa: PLC0415 - only a parallel run has it loaded

    class ModuleEngineScheduling(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    return ModuleEngineScheduling(config, log)


DURATIONS_REPORT = Path(__file__).resolve().parents[1] / "build" / "test-durations.json"
"""Seconds per test (setup, call and teardown), written by every run: where the suite's time goes (work_unit)."""
_durations: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Add up each test's phases (in a parallel run, the controller receives every worker's reports)."""
    _durations[report.nodeid] = _durations.get(report.nodeid, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Where the time went, by work unit (a module on one target), and every test's time in DURATIONS_REPORT."""
    if WORKER != "main" or len(_durations) < 2:
        return
    units: dict[str, float] = {}
    for nodeid, seconds in _durations.items():
        units[work_unit(nodeid)] = units.get(work_unit(nodeid), 0.0) + seconds
    DURATIONS_REPORT.parent.mkdir(exist_ok=True)
    DURATIONS_REPORT.write_text(json.dumps(dict(sorted(_durations.items(), key=lambda item: -item[1])), indent=0))
    terminalreporter.section("time by module and target (the 15 largest)")
    for unit, seconds in sorted(units.items(), key=lambda item: -item[1])[:15]:
        terminalreporter.write_line(f"{seconds:8.1f}s  {unit}")
    terminalreporter.write_line(f"{sum(units.values()):8.1f}s  in all; every test's time: {DURATIONS_REPORT}")


@pytest.fixture(scope="session", params=ENGINES)
def engine_name(request: pytest.FixtureRequest) -> str:
    """`sqlite` or `postgresql`: the engine this copy of the test runs on (`deployment` for some browser tests, which
    parametrize it with TARGETS: PostgreSQL behind nginx, tests/e2e/conftest.py)."""
    name: str = request.param
    return name


@pytest.fixture(scope="session")
async def database_url(engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """A fresh, empty database on the engine under test, dropped at the end of the session."""
    async with empty_database(engine_name, tmp_path_factory.mktemp("sqlite") / "nubes.db") as url:
        yield url


async def create_postgres_database() -> str:
    """Create an empty database on the test PostgreSQL server and return its URL."""
    admin_url = os.environ.get("NUBES_TEST_POSTGRES_URL")
    if not admin_url:
        pytest.fail("NUBES_TEST_POSTGRES_URL is not set: run the suite with `make test`, which starts PostgreSQL")
    admin = make_url(admin_url)
    name = f"nubes_test_{WORKER}_{secrets.token_hex(4)}"
    connection = await asyncpg.connect(admin.set(drivername="postgresql").render_as_string(hide_password=False))
    await connection.execute(f'CREATE DATABASE "{name}"')
    await connection.close()
    return admin.set(database=name).render_as_string(hide_password=False)


async def drop_postgres_database(url: str) -> None:
    """Drop a database made by `create_postgres_database`, closing whatever still uses it."""
    target = make_url(url)
    admin = make_url(os.environ["NUBES_TEST_POSTGRES_URL"])
    connection = await asyncpg.connect(admin.set(drivername="postgresql").render_as_string(hide_password=False))
    await connection.execute(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
    await connection.close()


def engine_of(target: str) -> str:
    """The database engine of a test target: itself, or PostgreSQL for the deployment."""
    return "postgresql" if target == DEPLOYMENT else target


@contextlib.asynccontextmanager
async def empty_database(engine_name: str, sqlite_path: Path) -> AsyncIterator[str]:
    """The URL of an empty database of the engine under test: a SQLite file at `sqlite_path`, or a fresh PostgreSQL
    database, dropped afterwards (for the tests that serve real processes, which commit)."""
    if engine_name == "sqlite":
        yield f"sqlite+aiosqlite:///{sqlite_path}"
        return
    url = await create_postgres_database()
    try:
        yield url
    finally:
        await drop_postgres_database(url)


@pytest.fixture(scope="session")
async def server_database_url(engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """An empty database of its own for the served process (it bootstraps and commits, unlike the other tests); the
    deployment's processes share one on PostgreSQL."""
    async with empty_database(engine_of(engine_name), tmp_path_factory.mktemp("serve-db") / "nubes.db") as url:
        yield url


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings for a test: its own data dir, no UI build unless given."""
    # argon2id stays argon2id, only cheaper: the suite hashes hundreds of passwords.
    values: dict[str, object] = {
        "data_dir": data_dir,
        "web_dist": data_dir / "no-ui",
        "argon2_time_cost": 1,
        "argon2_memory_kib": 1024,
        "argon2_parallelism": 1,
    }
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings pointing at the session's database."""
    return make_settings(tmp_path_factory.mktemp("data"), database_url=database_url)


@pytest.fixture(scope="session")
async def database(settings: Settings) -> AsyncIterator[Database]:
    """The session's database, migrated to head once."""
    db = Database.from_settings(settings)
    await migrate.upgrade(db.engine)
    yield db
    await db.dispose()


@pytest.fixture
async def connection(database: Database) -> AsyncIterator[AsyncConnection]:
    """A connection inside a transaction that is rolled back after the test: nothing a test writes survives it."""
    async with database.engine.connect() as conn:
        transaction = await conn.begin()
        yield conn
        if transaction.is_active:
            await transaction.rollback()


@pytest.fixture
def sessions(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    """Sessions bound to the test's transaction; their commits become savepoints."""
    return async_sessionmaker(bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint")


@pytest.fixture
async def session(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One session inside the test's transaction."""
    async with sessions() as db_session:
        yield db_session


@pytest.fixture
def app(settings: Settings, database: Database, sessions: async_sessionmaker[AsyncSession]) -> FastAPI:
    """The real app; its request sessions run inside the test's transaction."""
    application = create_app(settings, database=database)

    async def session_in_test_transaction(request: Request) -> AsyncIterator[AsyncSession]:
        # The same read/write policy as get_session: a safe request's session refuses writes and is not committed.
        if request.method in SAFE_METHODS:
            async with sessions(info={READ_ONLY: True}) as db_session:
                yield db_session
            return
        async with sessions() as db_session, finish_on_exit(db_session):
            yield db_session

    async def write_session_in_test_transaction() -> AsyncIterator[AsyncSession]:
        async with sessions() as db_session, finish_on_exit(db_session):
            yield db_session

    async def dav_sessions_in_test_transaction() -> SessionMakers:
        # WebDAV opens its own sessions (a PROPFIND reads while it streams; credentials are checked in a session ended
        # before the request's): the same two kinds, in the test's transaction.
        return SessionMakers(reader=functools.partial(sessions, info={READ_ONLY: True}), writer=sessions)

    application.dependency_overrides[get_session] = session_in_test_transaction
    application.dependency_overrides[get_write_session] = write_session_in_test_transaction
    application.dependency_overrides[session_makers] = dav_sessions_in_test_transaction
    return application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process, with its lifespan run."""
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http

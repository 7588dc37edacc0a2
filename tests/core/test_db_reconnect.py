"""PostgreSQL dropping connections or not there yet: a server keeps answering and a start waits (core/db.py).

A failover, a restart or `pg_terminate_backend` ends the pool's connections; the next requests get new ones instead
of a 500. A connection cut silently while idle is pinged and replaced. `nubes serve` and `nubes worker` started while
PostgreSQL cannot be reached wait for it, up to NUBES_DB_START_TIMEOUT, rather than exit into a crash loop.
PostgreSQL only: SQLite's file cannot go away like that. A small TCP relay in front of the suite's PostgreSQL plays
the unreachable server, and the network that cuts a connection without a word.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from nubes.core import db
from nubes.core.db import Database
from tests.conftest import ENGINES, empty_database, make_settings
from tests.serving import ADMIN_PASSWORD, ADMIN_USERNAME, free_port, serve, stop_process

pytestmark = [
    pytest.mark.timeout(300),  # servers start on a machine the other test workers keep busy
    pytest.mark.parametrize("engine_name", [engine for engine in ENGINES if engine == "postgresql"], indirect=True),
]

PASSWORD = "Never-In-A-Log-7"  # in the URLs the servers get (the test cluster trusts loopback and never asks for it)
ROUNDS = 3


@pytest.fixture
async def postgres_url(engine_name: str, tmp_path: Path) -> AsyncIterator[str]:
    async with empty_database(engine_name, tmp_path / "unused.db") as url:
        yield url


class Relay:
    """A loopback port in front of PostgreSQL: refuses connections until `open()`, then relays them.

    The port is bound from the start but listens only once opened, so until then a connection is refused exactly
    as by a server that is down, and no other process can take the port meanwhile. `cut_silently()` makes the
    connections relayed so far swallow everything from then on, without closing them: a network that forgets them.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._cut: list[threading.Event] = []
        self._sockets: list[socket.socket] = [self._listener]

    def url_for(self, database_url: str) -> str:
        """`database_url` through this relay, with a password that must never show up in a log."""
        url = make_url(database_url).set(host="127.0.0.1", port=self.port, password=PASSWORD)
        return url.render_as_string(hide_password=False)

    def open(self) -> None:
        self._listener.listen(64)
        threading.Thread(target=self._accept, daemon=True).start()

    def cut_silently(self) -> None:
        for cut in self._cut:
            cut.set()

    def close(self) -> None:
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
                upstream = socket.create_connection(self._target)
            except OSError:
                return
            cut = threading.Event()
            self._cut.append(cut)
            self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink, cut), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket, cut: threading.Event) -> None:
        try:
            while data := source.recv(65536):
                if not cut.is_set():
                    sink.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)


@contextlib.contextmanager
def relay_to(database_url: str) -> Iterator[Relay]:
    target = make_url(database_url)
    relay = Relay(target.host or "127.0.0.1", target.port or 5432)
    try:
        yield relay
    finally:
        relay.close()


async def terminate_backends(database_url: str) -> None:
    """End every connection to the database, as a failover or a restart does, and wait until they are gone."""
    database = make_url(database_url).database
    admin = make_url(os.environ["NUBES_TEST_POSTGRES_URL"]).set(drivername="postgresql")
    connection = await asyncpg.connect(admin.render_as_string(hide_password=False))
    try:
        # The pids first, then the terminations: in one WHERE clause PostgreSQL may call pg_terminate_backend on rows
        # before the other conditions filtered them out (other databases' connections, this one).
        pids = [
            row["pid"]
            for row in await connection.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", database
            )
        ]
        assert pids, "the server held no connection to terminate"
        await connection.execute("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid", pids)
        deadline = time.monotonic() + 10
        while await connection.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1::int[])", pids):
            assert time.monotonic() < deadline, "terminated backends did not exit"
            await asyncio.sleep(0.05)
    finally:
        await connection.close()


def log_events(log: Path, event: str) -> list[dict[str, object]]:
    """The JSON log lines of one event."""
    entries = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    return [entry for entry in entries if entry.get("event") == event]


async def test_requests_right_after_every_connection_was_terminated_are_served(postgres_url: str, tmp_path: Path) -> None:
    """GIVEN a server whose pool holds several connections, WHEN PostgreSQL ends them all (several times over),
    THEN the reads and writes that follow are answered, none with a 500."""
    with serve(postgres_url, tmp_path) as server:
        bearer = {"Authorization": f"Bearer {server.admin_token()}"}
        async with httpx.AsyncClient(base_url=server.url, headers=bearer, timeout=30) as http:
            folder = (await http.post("/api/files/folders", json={"name": "kept"})).json()["id"]
            reads = ["/api/users/me", f"/api/files/{folder}", "/api/files", f"/api/files?parent_id={folder}"]
            for round_ in range(ROUNDS):
                # Requests at once, so the pool holds several connections for PostgreSQL to end.
                await asyncio.gather(*(http.get(path) for path in reads * 3))
                await terminate_backends(postgres_url)
                answers = [await http.get(path) for path in reads]
                answers += await asyncio.gather(*(http.get(path) for path in reads * 2))
                written = await http.post("/api/files/folders", json={"parent_id": folder, "name": f"after-{round_}"})
                assert [answer.status_code for answer in answers] == [200] * len(answers), [a.text for a in answers]
                assert written.status_code == 201, written.text
            listed = (await http.get("/api/files", params={"parent_id": folder})).json()["items"]
            assert sorted(item["name"] for item in listed) == [f"after-{round_}" for round_ in range(ROUNDS)]
    assert not log_events(server.log, "request.crashed")


async def test_a_pooled_connection_cut_silently_while_idle_is_replaced(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN a pooled connection idle for longer than IDLE_PING_AFTER_S, WHEN the network has dropped it without
    closing it, THEN the next session's checkout pings it, gives up within the connect timeout and connects anew."""
    monkeypatch.setattr(db, "IDLE_PING_AFTER_S", 0.2)
    with relay_to(postgres_url) as relay:
        relay.open()
        database = Database.from_settings(make_settings(tmp_path, database_url=relay.url_for(postgres_url), db_connect_timeout=1))
        try:
            async with database.sessions() as session:
                assert await session.scalar(text("SELECT 1")) == 1
            relay.cut_silently()
            await asyncio.sleep(0.3)
            started = time.monotonic()
            async with asyncio.timeout(20), database.sessions() as session:
                assert await session.scalar(text("SELECT 2")) == 2
            assert 0.9 < time.monotonic() - started < 10  # the ping waited for its answer about the connect timeout
        finally:
            await database.dispose()


def open_after_waits(relay: Relay, log: Path, waits: int) -> threading.Thread:
    """Open `relay` once the process writing `log` has logged `waits` failed attempts to reach the database."""

    def watch() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with contextlib.suppress(FileNotFoundError):
                if log.read_text().count('"database.unreachable"') >= waits:
                    break
            time.sleep(0.05)
        relay.open()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    return watcher


def test_a_server_started_before_postgresql_is_reachable_waits_and_comes_up(postgres_url: str, tmp_path: Path) -> None:
    """GIVEN PostgreSQL refusing connections at first, WHEN `nubes serve` starts, THEN it logs that it waits (where,
    never the password), comes up once PostgreSQL answers, and serves."""
    with relay_to(postgres_url) as relay:
        open_after_waits(relay, tmp_path / "serve.log", waits=3)
        with serve(relay.url_for(postgres_url), tmp_path) as server:
            me = httpx.get(f"{server.url}/api/users/me", headers={"Authorization": f"Bearer {server.admin_token()}"})
            assert me.status_code == 200, me.text
    waits = log_events(server.log, "database.unreachable")
    assert [wait["attempt"] for wait in waits] == [1, 2, 3]
    assert {(wait["host"], wait["port"], wait["database"]) for wait in waits} == {
        ("127.0.0.1", relay.port, make_url(postgres_url).database)
    }
    assert [wait["retry_in_s"] for wait in waits] == [0.5, 1.0, 2.0]
    assert all("Connect call failed" in str(wait["reason"]) for wait in waits)
    reached = log_events(server.log, "database.reachable")
    assert [entry["attempts"] for entry in reached] == [4]
    assert PASSWORD not in server.log.read_text()


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_a_start_gives_up_after_the_start_timeout(command: str, postgres_url: str, tmp_path: Path) -> None:
    """GIVEN PostgreSQL that never answers, WHEN `nubes serve` or `nubes worker` starts with NUBES_DB_START_TIMEOUT=3,
    THEN it tries again with growing pauses, then exits nonzero with one line saying what it could not reach."""
    with relay_to(postgres_url) as relay, (tmp_path / "output.log").open("w+") as output:
        env = {key: value for key, value in os.environ.items() if not key.startswith("NUBES_")}
        env |= {
            "NUBES_DATA_DIR": str(tmp_path),
            "NUBES_DATABASE_URL": relay.url_for(postgres_url),
            "NUBES_DB_START_TIMEOUT": "3",
            "NUBES_ADMIN_USERNAME": ADMIN_USERNAME,
            "NUBES_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "NUBES_LOCAL_AGENT": "off",
            "NUBES_PORT": str(free_port()),
        }
        process = subprocess.Popen([sys.executable, "-m", "nubes", command], env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            started = time.monotonic()
            returncode = process.wait(timeout=120)
            took = time.monotonic() - started
        finally:
            stop_process(process)
        output.seek(0)
        printed = output.read()
    assert returncode == 2, printed
    errors = [line for line in printed.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, printed
    where = f"{make_url(postgres_url).database} at 127.0.0.1:{relay.port}"
    assert errors[0].startswith(f"error: NUBES_DATABASE_URL: cannot reach the postgresql database {where} ([Errno 111]")
    assert errors[0].endswith("start it or fix the URL (NUBES_DB_START_TIMEOUT=3 s)")
    pauses = [json.loads(line)["retry_in_s"] for line in printed.splitlines() if '"database.unreachable"' in line]
    assert pauses[:2] == [0.5, 1.0]  # doubling, the last one cut to the time left
    assert sum(pauses) <= 3
    assert took >= 3
    assert PASSWORD not in printed
    assert "Traceback" not in printed

"""What Nubes writes stays private: the data dir is its user's alone and no log line carries a URL's secrets.

Issue 11, item 6: the SQLite files were 0644, and a console ticket appeared whole in uvicorn's WebSocket line.
"""

from __future__ import annotations

import os
import stat
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from nubes.agent.files import VolumeFiles
from nubes.config import Settings
from nubes.core.db import Database
from nubes.core.logging import redact_query
from nubes.core.storage import open_storage
from tests.conftest import create_postgres_database, drop_postgres_database, empty_database, make_settings
from tests.serving import Server, serve, websocket_handshake
from tests.test_cli import nubes

SECRET = "console-ticket-" + uuid.uuid4().hex
OLD_SECRET_KEY = "an-older-install-generated-this-" + uuid.uuid4().hex


def _open_to_others(root: Path, *, skip: frozenset[str] = frozenset()) -> list[str]:
    """Every path under `root` (and root itself) that group or others may use, with its mode."""
    found = []
    for path in [root, *root.rglob("*")]:
        if path.name in skip or path.is_symlink():
            continue
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & 0o077:
            found.append(f"{path.relative_to(root.parent)} {oct(mode)}")
    return found


def _names(folder: Path) -> set[str]:
    return {path.name for path in folder.iterdir()}


def _as_an_older_install_left_it(data_dir: Path, sqlite_file: Path | None) -> None:
    """A data dir as versions before this fix left it: readable by everyone."""
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)
    (data_dir / "secret_key").write_text(OLD_SECRET_KEY + "\n")
    (data_dir / "secret_key").chmod(0o644)
    if sqlite_file is not None:
        sqlite_file.touch()  # an empty file is an empty SQLite database
        sqlite_file.chmod(0o644)


@pytest.fixture(scope="module")
async def private_database_url(engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """The served database: for SQLite, inside the data dir (the default layout)."""
    async with empty_database(engine_name, tmp_path_factory.mktemp("private") / "data" / "nubes.db") as url:
        yield url


@pytest.fixture(scope="module")
def private_server(private_database_url: str, engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if engine_name == "sqlite":
        data_dir = Path(private_database_url.removeprefix("sqlite+aiosqlite:///")).parent
        _as_an_older_install_left_it(data_dir, data_dir / "nubes.db")
    else:
        data_dir = tmp_path_factory.mktemp("private") / "data"
        _as_an_older_install_left_it(data_dir, None)
    # The test harness itself creates serve.log in the data dir before the server runs: not Nubes' file.
    with serve(private_database_url, data_dir) as running:
        yield running


def test_a_served_data_dir_is_private(private_server: Server, engine_name: str) -> None:
    """GIVEN a data dir an older version left readable WHEN `nubes serve` runs and stores a file
    THEN the dir, the database and its -wal/-shm, the secret and every blob and folder are the server user's only."""
    data_dir = private_server.log.parent
    headers = {"Authorization": f"Bearer {private_server.admin_token()}"}
    stored = httpx.post(f"{private_server.url}/api/files/upload/raw", params={"name": "a.txt"}, content=b"a", headers=headers)
    assert stored.status_code == 201, stored.text
    assert (data_dir / "secret_key").read_text().strip() == OLD_SECRET_KEY  # tightened, not replaced
    assert list((data_dir / "blobs").glob("??/??/*"))
    if engine_name == "sqlite":
        assert {"nubes.db", "nubes.db-wal", "nubes.db-shm"} <= _names(data_dir)
    assert _open_to_others(data_dir, skip=frozenset({"serve.log"})) == []


def test_no_log_line_carries_a_query_string_secret(private_server: Server) -> None:
    """GIVEN a console socket opened with `?ticket=` and a request with a secret in its query
    THEN the server's log names the paths but never the secrets (uvicorn's own WebSocket line included)."""
    container = uuid.uuid4()
    answer = websocket_handshake(private_server, f"/api/ws/containers/{container}?ticket={SECRET}&other=1")
    assert answer.startswith(b"HTTP/1.1 ")
    httpx.get(f"{private_server.url}/api/health", params={"token": SECRET})
    deadline = time.monotonic() + 30
    while f"/api/ws/containers/{container}" not in private_server.log.read_text():
        assert time.monotonic() < deadline, "the socket was never logged"
        time.sleep(0.05)
    log = private_server.log.read_text()
    assert SECRET not in log
    assert f"/api/ws/containers/{container}?ticket=[redacted]&other=[redacted]" in log
    assert redact_query(f"GET https://h/p?ticket={SECRET} done") == "GET https://h/p?ticket=[redacted] done"


async def test_in_process_the_database_and_data_dir_are_private(engine_name: str, database_url: str, tmp_path: Path) -> None:
    """GIVEN the usual umask 022 and a data dir an older version left readable WHEN the settings are loaded,
    the database opened and written, and the blob store opened (as the app factory does, without `nubes serve`)
    THEN everything in the data dir is the process user's only."""
    previous = os.umask(0o022)
    try:
        data_dir = tmp_path / "data"
        sqlite_file = data_dir / "nubes.db" if engine_name == "sqlite" else None
        _as_an_older_install_left_it(data_dir, sqlite_file)
        url = f"sqlite+aiosqlite:///{sqlite_file}" if sqlite_file is not None else database_url
        settings: Settings = make_settings(data_dir, database_url=url)
        database = Database.from_settings(settings)
        try:
            async with database.engine.begin() as connection:
                await connection.execute(text("CREATE TABLE IF NOT EXISTS probe_private (id INTEGER)"))
                await connection.execute(text("DROP TABLE probe_private"))
            open_storage(settings)
            if sqlite_file is not None:
                assert {"nubes.db-wal", "nubes.db-shm"} <= _names(data_dir)
            assert _open_to_others(data_dir) == []
        finally:
            await database.dispose()
        # A database SQLite has yet to create is created private too.
        if engine_name == "sqlite":
            fresh = make_settings(tmp_path / "fresh", database_url=f"sqlite+aiosqlite:///{tmp_path / 'fresh' / 'nubes.db'}")
            database = Database.from_settings(fresh)
            try:
                async with database.engine.begin() as connection:
                    await connection.execute(text("SELECT 1"))
            finally:
                await database.dispose()
            assert _open_to_others(tmp_path / "fresh") == []
    finally:
        os.umask(previous)


async def test_nubes_migrate_leaves_a_private_data_dir(engine_name: str, tmp_path: Path) -> None:
    """GIVEN a fresh data dir and the usual umask WHEN `nubes migrate` creates the database and the first admin
    THEN nothing it wrote is readable by group or others."""
    previous = os.umask(0o022)  # the child inherits it: `nubes migrate` must tighten it itself
    url = "" if engine_name == "sqlite" else await create_postgres_database()
    try:
        data_dir = tmp_path / "data"
        env = {"NUBES_DATA_DIR": str(data_dir), "NUBES_DATABASE_URL": url, "NUBES_ADMIN_PASSWORD": "Harbor-Lantern-Quartz-42"}
        result = nubes("migrate", env=env)
        assert result.returncode == 0, result.stderr
        if engine_name == "sqlite":
            assert "nubes.db" in _names(data_dir)
        assert _open_to_others(data_dir) == []
    finally:
        os.umask(previous)
        if url:
            await drop_postgres_database(url)


def test_container_files_keep_their_modes_under_the_servers_umask(engine_name: str, tmp_path: Path) -> None:
    """GIVEN the umask `nubes serve` sets (077) WHEN the embedded node's file manager writes into a volume
    THEN the files and folders get the modes a container expects (the volume is the container's, not Nubes' data)."""
    del engine_name  # the same on both engines: no database involved
    previous = os.umask(0o077)
    try:
        root = tmp_path / "volume"
        root.mkdir()
        volume = VolumeFiles(root)
        upload = uuid.uuid4()
        volume.write_chunk("server.properties", upload, 0, b"motd=hi\n")
        assert volume.commit("server.properties", upload).mode == 0o644
        assert volume.mkdir("world").mode == 0o755
    finally:
        os.umask(previous)

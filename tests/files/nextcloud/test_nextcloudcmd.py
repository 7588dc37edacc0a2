"""The real Nextcloud desktop client's command-line sync (`nextcloudcmd`, Debian's nextcloud-desktop-cmd 3.7) against a
real `nubes serve` on each engine: two-way sync, a conflict copy, a large file in chunks, and a chunked upload that
resumes after the server is killed in the middle of it.

The client signs in with an app password over HTTP Basic; it reads status.php, the OCS capabilities and user, and
PROPFINDs with the oc:/nc: properties; files larger than its chunk size go up through
`/remote.php/dav/uploads/<user>/<transfer>/<chunk>` (the 3.7 client names chunks by number, "NG" chunking).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import empty_database
from tests.serving import ADMIN_PASSWORD, ADMIN_USERNAME, READY_WITHIN, free_port, stop_process

NEXTCLOUDCMD = shutil.which("nextcloudcmd")
pytestmark = [
    pytest.mark.timeout(900),
    pytest.mark.skipif(NEXTCLOUDCMD is None, reason="nextcloudcmd is not installed: `make test` installs it"),
]
CHUNK = 5_000_000
LARGE = 30_000_000


@dataclass
class Nubes:
    """A `nubes serve` on a fixed port (the client's sync journal is keyed by the URL: a restart must keep it)."""

    url: str
    port: int
    data_dir: Path
    database_url: str
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {key: value for key, value in os.environ.items() if not key.startswith("NUBES_")}
        env |= {
            "NUBES_DATA_DIR": str(self.data_dir),
            "NUBES_DATABASE_URL": self.database_url,
            "NUBES_ADMIN_USERNAME": ADMIN_USERNAME,
            "NUBES_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "NUBES_LOGIN_RATE_LIMIT": "1000/minute",
            "NUBES_LOCAL_AGENT": "off",
            "NUBES_PORT": str(self.port),
        }
        with (self.data_dir / "serve.log").open("a") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "nubes", "serve"], env=env, stdout=output, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + READY_WITHIN
        while self.process.poll() is None and time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.url}/api/ready", timeout=1).status_code == 200:
                    return
            time.sleep(0.2)
        pytest.fail(f"nubes serve did not start:\n{(self.data_dir / 'serve.log').read_text()[-5000:]}")

    def kill(self) -> None:
        """SIGKILL: no graceful end, as a crash or a power cut would stop it."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)
            self.process = None


@pytest.fixture(scope="module")
async def nc_database_url(engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    async with empty_database(engine_name, tmp_path_factory.mktemp("nextcloudcmd-db") / "nubes.db") as url:
        yield url


@pytest.fixture(scope="module")
def nubes(nc_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nubes]:
    port = free_port()
    server = Nubes(
        url=f"http://127.0.0.1:{port}", port=port, data_dir=tmp_path_factory.mktemp("nextcloudcmd"), database_url=nc_database_url
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def app_password(nubes: Nubes) -> str:
    """An app password of the first admin, made through the REST API as the account page makes it."""
    login = httpx.post(f"{nubes.url}/api/auth/login", json={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD})
    login.raise_for_status()
    made = httpx.post(
        f"{nubes.url}/api/users/me/app-passwords",
        json={"name": "nextcloudcmd"},
        headers={"Authorization": f"Bearer {login.json()['access_token']}"},
    )
    made.raise_for_status()
    password: str = made.json()["password"]
    return password


def sync(nubes: Nubes, password: str, local: Path, log: Path, *, remote_path: str, **env: str) -> int:
    """One `nextcloudcmd` run (its output appended to `log`); returns its exit status."""
    command = [
        str(NEXTCLOUDCMD), "--non-interactive", "-u", ADMIN_USERNAME, "-p", password, "--path", remote_path,
        "--max-sync-retries", "1", str(local), nubes.url,
    ]  # fmt: skip
    with log.open("a") as output:
        return subprocess.run(
            command, stdout=output, stderr=subprocess.STDOUT, env={**os.environ, **env}, timeout=600, check=False
        ).returncode


def dav(nubes: Nubes, password: str, method: str, path: str, content: bytes | None = None) -> httpx.Response:
    return httpx.request(
        method,
        f"{nubes.url}/remote.php/dav/files/{ADMIN_USERNAME}/{path}",
        auth=(ADMIN_USERNAME, password),
        content=content,
        timeout=60,
    )


def test_two_way_sync_and_a_conflict_copy(nubes: Nubes, app_password: str, tmp_path: Path) -> None:
    """GIVEN files made on either side WHEN the client syncs THEN each appears on the other; GIVEN one file changed on
    both sides WHEN it syncs THEN the server's version wins the name and the local one is kept as a conflict copy."""
    assert dav(nubes, app_password, "MKCOL", "two-way").status_code == 201
    local, log = tmp_path / "local", tmp_path / "client.log"
    local.mkdir()
    (local / "from-laptop.txt").write_text("made on the laptop")
    (local / "sub dir").mkdir()
    (local / "sub dir" / "ünïcode #1.txt").write_text("nested")
    assert dav(nubes, app_password, "PUT", "two-way/from-server.txt", content=b"made on the server").status_code == 201
    assert sync(nubes, app_password, local, log, remote_path="/two-way") == 0, log.read_text()[-5000:]
    assert (local / "from-server.txt").read_text() == "made on the server"
    assert dav(nubes, app_password, "GET", "two-way/from-laptop.txt").content == b"made on the laptop"
    assert dav(nubes, app_password, "GET", "two-way/sub%20dir/%C3%BCn%C3%AFcode%20%231.txt").content == b"nested"
    # A second run with nothing changed changes nothing.
    assert sync(nubes, app_password, local, log, remote_path="/two-way") == 0
    # Both sides change the same file.
    time.sleep(1.1)  # a new mtime the client notices
    (local / "from-laptop.txt").write_text("laptop edit")
    assert dav(nubes, app_password, "PUT", "two-way/from-laptop.txt", content=b"server edit").status_code == 204
    assert sync(nubes, app_password, local, log, remote_path="/two-way") == 0, log.read_text()[-5000:]
    assert (local / "from-laptop.txt").read_text() == "server edit"
    conflicts = [path for path in local.iterdir() if "conflicted copy" in path.name]
    assert len(conflicts) == 1, sorted(path.name for path in local.iterdir())
    assert conflicts[0].read_text() == "laptop edit"
    # A deletion on the server reaches the laptop.
    assert dav(nubes, app_password, "DELETE", "two-way/from-server.txt").status_code == 204
    assert sync(nubes, app_password, local, log, remote_path="/two-way") == 0
    assert not (local / "from-server.txt").exists()


def test_a_large_file_goes_up_in_chunks_and_down_again(nubes: Nubes, app_password: str, tmp_path: Path) -> None:
    assert dav(nubes, app_password, "MKCOL", "large").status_code == 201
    local, log = tmp_path / "local", tmp_path / "client.log"
    local.mkdir()
    payload = os.urandom(LARGE)
    (local / "big.bin").write_bytes(payload)
    chunked = {"OWNCLOUD_CHUNK_SIZE": str(CHUNK), "OWNCLOUD_MAX_CHUNK_SIZE": str(CHUNK), "OWNCLOUD_MIN_CHUNK_SIZE": str(CHUNK)}
    chunked["OWNCLOUD_PARALLEL_CHUNK"] = "3"  # several chunks of the file in flight at once
    assert sync(nubes, app_password, local, log, remote_path="/large", **chunked) == 0, log.read_text()[-5000:]
    text = log.read_text()
    assert "PropagateUploadFileNG" in text
    assert "/.file" in text
    assert text.count("/remote.php/dav/uploads/") >= LARGE // CHUNK
    stored = dav(nubes, app_password, "GET", "large/big.bin")
    assert hashlib.sha256(stored.content).hexdigest() == hashlib.sha256(payload).hexdigest()
    # Down again into an empty folder.
    other = tmp_path / "other"
    other.mkdir()
    assert sync(nubes, app_password, other, tmp_path / "down.log", remote_path="/large") == 0
    assert (other / "big.bin").read_bytes() == payload


def test_a_chunked_upload_resumes_after_the_server_is_killed(nubes: Nubes, app_password: str, tmp_path: Path) -> None:
    """GIVEN a large file going up in chunks WHEN the server is killed (SIGKILL) after some chunks arrived and started
    again THEN the client's next run asks which chunks the server has, sends only the rest, and the file is whole."""
    assert dav(nubes, app_password, "MKCOL", "resume").status_code == 201
    local, log = tmp_path / "local", tmp_path / "client.log"
    local.mkdir()
    payload = os.urandom(12 * CHUNK + 123)
    (local / "resumed.bin").write_bytes(payload)
    chunked = {"OWNCLOUD_CHUNK_SIZE": str(CHUNK), "OWNCLOUD_MAX_CHUNK_SIZE": str(CHUNK), "OWNCLOUD_MIN_CHUNK_SIZE": str(CHUNK)}
    command = [
        str(NEXTCLOUDCMD), "--non-interactive", "-u", ADMIN_USERNAME, "-p", app_password, "--path", "/resume",
        "--max-sync-retries", "1", "--uplimit", "8000", str(local), nubes.url,
    ]  # fmt: skip
    with log.open("a") as output:
        client = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env={**os.environ, **chunked})
    try:
        deadline = time.monotonic() + 300
        while log.read_text().count('FINISHED WITH STATUS "OK" QVariant(int, 201)') < 3:
            assert client.poll() is None, log.read_text()[-5000:]
            assert time.monotonic() < deadline, "the client did not get 3 chunks up"
            time.sleep(0.05)
        nubes.kill()
        assert client.wait(timeout=300) != 0  # the run fails: the server went away
    finally:
        if client.poll() is None:
            client.kill()
    nubes.start()
    with (tmp_path / "second.log").open("w"):
        pass
    assert sync(nubes, app_password, local, tmp_path / "second.log", remote_path="/resume", **chunked) == 0
    second = (tmp_path / "second.log").read_text()
    assert "Reusing existing data" in second or "Resuming" in second, second[-5000:]
    stored = dav(nubes, app_password, "GET", "resume/resumed.bin")
    assert len(stored.content) == len(payload)
    assert hashlib.sha256(stored.content).hexdigest() == hashlib.sha256(payload).hexdigest()

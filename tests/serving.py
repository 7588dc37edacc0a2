"""Start real processes for tests that need them: `nubes serve` (browser tests, schemathesis, replicas) and redis-server."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "Harbor-Lantern-Quartz-42"
PORT_ATTEMPTS = 3
READY_WITHIN = 120  # seconds for a process to start (migrations included) on a machine the other test workers keep busy


@dataclass
class Server:
    """A running `nubes serve` with its first admin."""

    url: str
    log: Path
    admin_username: str = ADMIN_USERNAME
    admin_password: str = ADMIN_PASSWORD
    pid: int = 0  # the server process, for tests that kill it
    redis_url: str = ""  # the Redis it shares with other processes, if any

    def admin_token(self) -> str:
        """An access token of the first admin, from a real login."""
        response = httpx.post(
            f"{self.url}/api/auth/login", json={"username": self.admin_username, "password": self.admin_password}
        )
        response.raise_for_status()
        token: str = response.json()["access_token"]
        return token


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 20 s, unless it already ended."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def websocket_handshake(server: Server, target: str) -> bytes:
    """The raw answer of `server` to a WebSocket upgrade request for `target` (path and query)."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(
            f"GET {target} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        return connection.recv(65536)


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def serve(database_url: str, data_dir: Path, **env_extra: str) -> Iterator[Server]:
    """`nubes serve` on a free loopback port with its own data dir; stopped on exit."""
    log = data_dir / "serve.log"
    env = {key: value for key, value in os.environ.items() if not key.startswith("NUBES_")}
    env |= {
        "NUBES_DATA_DIR": str(data_dir),
        "NUBES_DATABASE_URL": database_url,
        "NUBES_ADMIN_USERNAME": ADMIN_USERNAME,
        "NUBES_ADMIN_PASSWORD": ADMIN_PASSWORD,
        # Browser tests sign in many times from 127.0.0.1; the limit itself is tested in tests/identity.
        "NUBES_LOGIN_RATE_LIMIT": "1000/minute",
        # The embedded node only where a test asks for it (env_extra).
        "NUBES_LOCAL_AGENT": "off",
        # argon2id as in production, only cheap: served tests sign in and make users thousands of times (0.25 s of CPU
        # each at the production cost); the cost itself is the settings' business, tested in tests/identity.
        "NUBES_ARGON2_TIME_COST": "1",
        "NUBES_ARGON2_MEMORY_KIB": "1024",
        "NUBES_ARGON2_PARALLELISM": "1",
        **env_extra,
    }
    # A port found free can be taken by a parallel worker before the server binds it: then try another.
    for attempt in range(PORT_ATTEMPTS):
        port = free_port()
        with log.open("w") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "nubes", "serve"],
                env=env | {"NUBES_PORT": str(port)},
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + READY_WITHIN
            while True:
                if process.poll() is not None:
                    break
                with contextlib.suppress(httpx.TransportError):
                    if httpx.get(f"{url}/api/ready", timeout=1).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    pytest.fail(f"nubes serve did not become ready within {READY_WITHIN} s:\n{log.read_text()}")
                time.sleep(0.2)
            if process.returncode is not None:
                output_text = log.read_text()
                if "address already in use" in output_text.lower() and attempt + 1 < PORT_ATTEMPTS:
                    continue
                pytest.fail(f"nubes serve exited with {process.returncode}:\n{output_text}")
            yield Server(url=url, log=log, pid=process.pid, redis_url=env.get("NUBES_REDIS_URL", ""))
            return
        finally:
            stop_process(process)


class RedisProcess:
    """A throwaway redis-server on a loopback port (`make test` installs Debian's), which a test may stop and start
    again on the same port (Redis going away under a deployment, then coming back). A `persistent` one keeps its data
    across the restart (an append-only file, as production Redis runs); otherwise it comes back empty."""

    def __init__(self, workdir: Path, *, persistent: bool = False) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed: run the suite with `make test`, which installs it")
        appendonly = "yes" if persistent else "no"
        self._arguments = [binary, "--bind", "127.0.0.1", "--save", "", "--appendonly", appendonly, "--dir", str(workdir)]
        self._process: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start on the current port, or on a free one the first time (another when a parallel worker took it)."""
        for attempt in range(PORT_ATTEMPTS):
            port = self.port or free_port()
            process = subprocess.Popen(
                [*self._arguments, "--port", str(port)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            deadline = time.monotonic() + 20
            while process.poll() is None and time.monotonic() < deadline:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
                        conn.sendall(b"PING\r\n")
                        if conn.recv(16).startswith(b"+PONG"):
                            self._process, self.port = process, port
                            return
                except OSError:
                    time.sleep(0.05)
            process.kill()
            process.wait(timeout=10)
            if self.port or attempt + 1 == PORT_ATTEMPTS:
                pytest.fail(f"redis-server did not start on port {port}")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None


@contextlib.contextmanager
def redis_process(workdir: Path, *, persistent: bool = False) -> Iterator[RedisProcess]:
    """A started `RedisProcess`, stopped on exit."""
    redis = RedisProcess(workdir, persistent=persistent)
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


@contextlib.contextmanager
def redis_server(workdir: Path) -> Iterator[str]:
    """A throwaway redis-server on a free loopback port; yields its URL."""
    with redis_process(workdir) as redis:
        yield redis.url


@dataclass
class WorkerProcess:
    """A running `nubes worker`: its log and process id (for tests that kill it)."""

    log: Path
    pid: int


@contextlib.contextmanager
def run_worker(database_url: str, data_dir: Path, **env_extra: str) -> Iterator[WorkerProcess]:
    """`nubes worker` on a database and data dir (shared with a server), stopped with SIGTERM on exit."""
    log = data_dir / "worker.log"
    env = {key: value for key, value in os.environ.items() if not key.startswith("NUBES_")}
    env |= {"NUBES_DATA_DIR": str(data_dir), "NUBES_DATABASE_URL": database_url, **env_extra}
    with log.open("w") as output:
        process = subprocess.Popen([sys.executable, "-m", "nubes", "worker"], env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + READY_WITHIN
        while "server.background" not in log.read_text():
            if process.poll() is not None:
                pytest.fail(f"nubes worker exited with {process.returncode}:\n{log.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"nubes worker did not start within {READY_WITHIN} s:\n{log.read_text()}")
            time.sleep(0.2)
        yield WorkerProcess(log=log, pid=process.pid)
    finally:
        stop_process(process)

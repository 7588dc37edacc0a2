"""Shared pieces for benchmarks: options, server processes on loopback, and wrk runs parsed into numbers."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
WRK = Path("/usr/bin/wrk")
HOST = "127.0.0.1"
# One wrk thread: the machine has 2 cores and the server needs the other one.
WRK_THREADS = 1
CONNECTIONS = 32
WARMUP_S = 2
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0

Result = dict[str, object]


class BenchError(Exception):
    """A benchmark cannot produce a trustworthy number; the message says why in one line or a few."""


# The database engines and ASGI servers `nubes serve` can run on; bench/run.py runs each benchmark on every
# engine of BENCH_ENGINES, and the benchmarks that set `EVERY_SERVER = True` on every server of BENCH_SERVERS too.
ENGINES = ("sqlite", "postgresql")
SERVERS = ("uvicorn", "granian")
DEFAULT_SERVER = "uvicorn"  # src/nubes/config.py: Settings.server


@dataclass(frozen=True)
class Options:
    """What every benchmark is told by bench/run.py."""

    duration_s: int = 5
    rounds: int = 3
    engines: tuple[str, ...] = ENGINES
    servers: tuple[str, ...] = SERVERS


@dataclass(frozen=True)
class Variant:
    """What the Nubes servers a benchmark starts run on: a database engine and an ASGI server."""

    engine: str = "sqlite"
    server: str = DEFAULT_SERVER


# Set by bench/run.py around each benchmark (`variant()`); nubes_server() and baseline_server() read it, so a
# benchmark needs no parameter to run on PostgreSQL or under another server.
_current = Variant()


@dataclass
class Server:
    """A server process started by a benchmark, listening on HOST:port."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    def url(self, path: str) -> str:
        """The loopback URL of `path` on this server."""
        return f"http://{HOST}:{self.port}{path}"

    def log_tail(self, lines: int = 15) -> str:
        """The end of the server's output, for error messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:]) or "(empty log)"

    def check_alive(self) -> None:
        """Raise if the process has exited, since numbers measured against a dead server mean nothing."""
        code = self.process.poll()
        if code is not None:
            raise BenchError(f"{self.name} exited with code {code}; its last output:\n{self.log_tail()}")


def free_port() -> int:
    """A loopback port nobody listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(**extra: str) -> dict[str, str]:
    """This process's environment without any NUBES_* variable, plus `extra`.

    A developer's NUBES_DATABASE_URL or NUBES_LOG_LEVEL must not leak into the measured server.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("NUBES_")}
    env.update(extra)
    return env


@contextlib.contextmanager
def launched(name: str, argv: list[str], *, port: int, workdir: Path, env: dict[str, str]) -> Iterator[Server]:
    """Start `argv` (not waiting for it to be ready) and always stop it on exit, even on Ctrl-C or an error."""
    log_path = workdir / f"{name}.log"
    with log_path.open("wb") as log:
        # Own session: Ctrl-C reaches only us, and we stop the server ourselves, whole process group included.
        process = subprocess.Popen(
            argv, cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(name=name, process=process, port=port, log_path=log_path)
    try:
        yield server
    finally:
        stop(server)


def stop(server: Server) -> None:
    """SIGTERM the server's process group, then SIGKILL it if it has not exited within STOP_TIMEOUT_S."""
    process = server.process
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=STOP_TIMEOUT_S)


@contextlib.contextmanager
def variant(engine: str, server: str) -> Iterator[Variant]:
    """Run the Nubes servers started inside on `engine` (sqlite or postgresql) under ASGI `server`."""
    global _current  # noqa: PLW0603 - one benchmark runs at a time; run.py sets it around each
    before, _current = _current, Variant(engine=engine, server=server)
    try:
        yield _current
    finally:
        _current = before


def current_variant() -> Variant:
    """The engine and server the benchmark now running uses."""
    return _current


class PostgresCluster:
    """A throwaway PostgreSQL cluster for the benchmarks (started at most once per bench/run.py run).

    Like scripts/test-postgres.sh, but durable (fsync and synchronous commit on, PostgreSQL's defaults): the
    figures compare it with SQLite, which syncs its WAL too. Each `nubes serve` gets a database of its own.
    """

    def __init__(self) -> None:
        self.base: Path | None = None
        self.port = 0
        self._owner: list[str] = []
        self._bindir = Path()

    def admin_url(self, database: str = "postgres") -> str:
        """The asyncpg URL of `database` in the cluster, starting the cluster on first use."""
        if self.base is None:
            self._start()
        return f"postgresql+asyncpg://nubes@{HOST}:{self.port}/{database}"

    def _start(self) -> None:
        bindirs = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda path: int(path.parent.name))
        if not bindirs or not (bindirs[-1] / "pg_ctl").is_file():
            raise BenchError("PostgreSQL binaries not found under /usr/lib/postgresql; run `make bench`, which installs them")
        bindir = bindirs[-1]
        base = Path(tempfile.mkdtemp(prefix="nubes-bench-postgres-"))
        base.chmod(0o755)  # the `postgres` user runs the cluster when we are root (PostgreSQL refuses root)
        owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if owner:
            shutil.chown(base, "postgres")
        port = free_port()
        self.base, self.port, self._owner, self._bindir = base, port, owner, bindir
        data = str(base / "data")
        self._as_owner("initdb", "-D", data, "-U", "nubes", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8")
        server_options = f"-h {HOST} -p {port} -k {base} -c max_connections=200"
        self._as_owner("pg_ctl", "-D", data, "-l", str(base / "server.log"), "-w", "-t", "60", "start", "-o", server_options)

    def _as_owner(self, program: str, *args: str) -> None:
        done = subprocess.run(
            [*self._owner, str(self._bindir / program), *args], capture_output=True, text=True, check=False, cwd="/"
        )
        if done.returncode != 0:
            raise BenchError(f"{program} failed: {(done.stderr or done.stdout).strip()[-800:]}")

    def stop(self) -> None:
        """Stop the cluster (if it was started) and remove its files."""
        if self.base is None:
            return
        with contextlib.suppress(BenchError):
            self._as_owner("pg_ctl", "-D", str(self.base / "data"), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.base, ignore_errors=True)
        self.base = None

    def execute(self, statement: str) -> None:
        """Run one statement outside a transaction (CREATE/DROP DATABASE) as the cluster's owner."""
        import asyncpg  # noqa: PLC0415 - only benchmarks on PostgreSQL need it

        async def run() -> None:
            connection = await asyncpg.connect(self.admin_url().replace("+asyncpg", ""))
            try:
                await connection.execute(statement)
            finally:
                await connection.close()

        asyncio.run(run())

    @contextlib.contextmanager
    def database(self) -> Iterator[str]:
        """A fresh empty database for one server; dropped afterwards. Its asyncpg URL."""
        name = f"bench_{uuid.uuid4().hex[:12]}"
        self.execute(f'CREATE DATABASE "{name}"')
        try:
            yield self.admin_url(name)
        finally:
            with contextlib.suppress(Exception):
                self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


POSTGRES = PostgresCluster()


def database_url(workdir: Path) -> str:
    """The async SQLAlchemy URL of the database of the Nubes server started on `workdir` (see nubes_server)."""
    url_file = workdir / "nubes-database-url"
    if url_file.is_file():
        return url_file.read_text().strip()
    return f"sqlite+aiosqlite:///{workdir / 'nubes-data' / 'nubes.db'}"


@contextlib.contextmanager
def nubes_server(workdir: Path, *, database: str | None = None, **extra_env: str) -> Iterator[Server]:
    """The real `nubes serve` on a free port, with a fresh data dir under `workdir` and a fresh database.

    The engine (SQLite in the data dir, or a new database in the bench's PostgreSQL cluster) and the ASGI server
    are the current variant's (bench/run.py sets them). `database`: another server's (`database_url(its workdir)`),
    for replicas of one install.
    """
    nubes = Path(sys.executable).parent / "nubes"
    if not nubes.is_file():
        raise BenchError(f"{nubes} not found; run `make install`")
    port = free_port()
    # No embedded node unless a benchmark asks: its agent would share the machine with what is measured.
    extra_env = {"NUBES_LOCAL_AGENT": "off", "NUBES_SERVER": _current.server, **extra_env}
    with contextlib.ExitStack() as stack:
        if database is not None:
            (workdir / "nubes-database-url").write_text(database)
            extra_env["NUBES_DATABASE_URL"] = database
        elif _current.engine == "postgresql":
            url = stack.enter_context(POSTGRES.database())
            (workdir / "nubes-database-url").write_text(url)
            extra_env["NUBES_DATABASE_URL"] = url
        env = server_env(NUBES_DATA_DIR=str(workdir / "nubes-data"), NUBES_HOST=HOST, NUBES_PORT=str(port), **extra_env)
        # workdir as the cwd too, so a developer's ./.env (read by the settings) is not picked up.
        server = stack.enter_context(launched("nubes", [str(nubes), "serve"], port=port, workdir=workdir, env=env))
        yield server


@contextlib.contextmanager
def redis_process(workdir: Path) -> Iterator[Server]:
    """A throwaway redis-server on a free loopback port (no persistence), once it answers PING."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise BenchError("redis-server not found; run `make bench`, which installs it")
    port = free_port()
    argv = [binary, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no", "--dir", str(workdir)]
    with launched("redis", argv, port=port, workdir=workdir, env=server_env()) as server:
        for _ in range(200):
            with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.5) as connection:
                connection.sendall(b"PING\r\n")
                if connection.recv(16).startswith(b"+PONG"):
                    break
            server.check_alive()
            time.sleep(0.05)
        else:
            raise BenchError("redis-server did not answer PING")
        yield server


REPLICA_SECRET = "one-secret-for-every-replica-of-the-bench"  # noqa: S105 - a throwaway install's


def replicas(stack: contextlib.ExitStack, workdir: Path, count: int, **env: str) -> list[Server]:
    """`count` ready `nubes serve` replicas of one install under `workdir` (the first one's database, a throwaway
    Redis, one secret; background jobs on the first only), kept running until `stack` closes."""
    redis = stack.enter_context(redis_process(workdir))
    shared = {**env, "NUBES_REDIS_URL": f"redis://{HOST}:{redis.port}/0", "NUBES_SECRET_KEY": REPLICA_SECRET}
    servers: list[Server] = []
    for index in range(count):
        replica_dir = workdir / f"replica-{index}"
        replica_dir.mkdir()
        database = database_url(workdir / "replica-0") if index else None
        jobs = {} if index == 0 else {"NUBES_JOBS": "false"}
        servers.append(stack.enter_context(nubes_server(replica_dir, database=database, **shared, **jobs)))
        wait_ready(servers[-1], "/api/ready")
    return servers


@contextlib.contextmanager
def baseline_server(workdir: Path, flavour: str = "starlette") -> Iterator[Server]:
    """A bare app of bench/baseline_app.py (`starlette` or `fastapi`) on a free port, served like `nubes serve`.

    It runs under the current variant's ASGI server, so the ratio compares apps, not servers.
    """
    port = free_port()
    argv = [sys.executable, str(BENCH_DIR / "baseline_app.py"), HOST, str(port), flavour, _current.server]
    name = "baseline" if flavour == "starlette" else flavour
    with launched(name, argv, port=port, workdir=workdir, env=server_env()) as server:
        yield server


def http_get(server: Server, path: str, timeout: float = 2.0) -> tuple[int, bytes]:
    """One GET over loopback: status and body."""
    connection = http.client.HTTPConnection(HOST, server.port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def wait_ready(server: Server, path: str, timeout_s: float = READY_TIMEOUT_S) -> None:
    """Poll `path` until it answers 200; fail with the server's output if it exits or takes too long."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        server.check_alive()
        with contextlib.suppress(OSError, http.client.HTTPException):
            if http_get(server, path)[0] == 200:
                return
        time.sleep(0.1)
    raise BenchError(f"{server.name} not ready at {path} after {timeout_s:.0f} s; its last output:\n{server.log_tail()}")


@dataclass(frozen=True)
class WrkRun:
    """What one wrk run measured."""

    requests_per_s: float
    requests: int
    p50_ms: float
    p99_ms: float


_TIME_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def parse_wrk(output: str) -> WrkRun:
    """Read wrk's `--latency` report; raise on any error it counted, since errors make the rate meaningless.

    wrk's "Non-2xx or 3xx responses" counts statuses >= 400 only; the benchmarks check a real response first.
    """
    non_2xx = re.search(r"^\s*Non-2xx or 3xx responses:\s+(\d+)", output, re.MULTILINE)
    if non_2xx and int(non_2xx.group(1)):
        raise BenchError(f"wrk got {non_2xx.group(1)} error responses (status >= 400):\n{output}")
    socket_errors = re.search(r"^\s*Socket errors:.*$", output, re.MULTILINE)
    if socket_errors:
        raise BenchError(f"wrk reported {socket_errors.group(0).strip()}:\n{output}")
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    count = re.search(r"^\s*(\d+) requests in ", output, re.MULTILINE)
    latency = {
        match.group(1): float(match.group(2)) * _TIME_UNITS_MS[match.group(3)]
        for match in re.finditer(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.MULTILINE)
    }
    if not rate or not count or set(latency) != {"50", "99"}:
        raise BenchError(f"cannot read wrk's report:\n{output}")
    if int(count.group(1)) == 0:
        raise BenchError(f"wrk completed no request:\n{output}")
    return WrkRun(requests_per_s=float(rate.group(1)), requests=int(count.group(1)), p50_ms=latency["50"], p99_ms=latency["99"])


def wrk(
    server: Server,
    path: str,
    duration_s: int,
    *,
    connections: int = CONNECTIONS,
    headers: dict[str, str] | None = None,
    timeout_s: int = 2,
) -> WrkRun:
    """Load `path` on `server` with wrk for `duration_s`; the server must still be alive afterwards.

    A request that takes longer than `timeout_s` is a socket error, which fails the benchmark.
    """
    argv = [str(WRK), f"-t{WRK_THREADS}", f"-c{connections}", f"-d{duration_s}s", "--latency", "--timeout", f"{timeout_s}s"]
    for name, value in (headers or {}).items():
        argv += ["-H", f"{name}: {value}"]
    try:
        completed = subprocess.run(
            [*argv, server.url(path)], capture_output=True, text=True, timeout=duration_s + 30, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"wrk did not finish within {duration_s + 30} s") from exc
    if completed.returncode != 0:
        raise BenchError(f"wrk exited with code {completed.returncode}: {completed.stderr.strip() or completed.stdout.strip()}")
    server.check_alive()
    return parse_wrk(completed.stdout)


def median(values: list[float], digits: int = 1) -> float:
    """The median, rounded for the JSON line (more digits than this is noise)."""
    return round(statistics.median(values), digits)


def load_generator(connections: int = CONNECTIONS) -> str:
    """How the load was generated, for the JSON line."""
    return f"wrk -t{WRK_THREADS} -c{connections}"


NGINX_BINARY = Path("/usr/sbin/nginx")


def rss_kib(pid: int) -> int:
    """The resident memory of a running process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@contextlib.contextmanager
def peak_rss(pid: int) -> Iterator[list[int]]:
    """Sample the process's RSS every 20 ms while the block runs; the list holds the peak (KiB) afterwards."""
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            with contextlib.suppress(OSError):
                peak[0] = max(peak[0], rss_kib(pid))
            done.wait(0.02)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        done.set()
        thread.join()


@contextlib.contextmanager
def nginx_serving(workdir: Path, root: Path) -> Iterator[Server]:
    """nginx on a free loopback port serving `root`, one process (master_process off: no privilege drop), sendfile on."""
    if not NGINX_BINARY.is_file():
        raise BenchError(f"{NGINX_BINARY} not found; run `make bench`, which installs nginx")
    port = free_port()
    home = workdir / "nginx"
    home.mkdir()
    temp = {name: home / name for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
    config = home / "nginx.conf"
    config.write_text(
        f"""daemon off;
master_process off;
worker_processes 1;
pid {home / "nginx.pid"};
error_log {home / "error.log"} warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    default_type application/octet-stream;
    client_body_temp_path {temp["client_body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    server {{
        listen {HOST}:{port};
        root {root};
        location = /ready {{ return 200 "ok"; }}
    }}
}}
"""
    )
    with launched(
        "nginx", [str(NGINX_BINARY), "-c", str(config), "-p", str(home)], port=port, workdir=home, env=server_env()
    ) as server:
        wait_ready(server, "/ready")
        yield server

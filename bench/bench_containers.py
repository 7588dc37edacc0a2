"""Containers on a real Docker Engine, against Docker itself measured in the same run; and 500 agents on one server.

- `container_create_to_running`: `POST /api/containers` (start) until the API says `running`, and
  `container_start_to_running`: `POST .../power start` until `running`, each as a ratio to `docker run -d`
  of the same test image (the median of several, each measured here). A real `nubes serve` and a real
  `nubes agent` process; the egg has no install script (the install is the egg's own business).
- `console_lines_per_s`: lines a WebSocket console client receives per second from a container that
  prints as fast as it can, as a ratio to what `docker logs -f` of the same container delivers in the same
  seconds (both follow at once; the median of a few rounds).
- `agents_command_round_trip`: 500 simulated agents (one process, each its own WebSocket speaking
  the protocol) connected to one server; `GET /api/containers/{id}/logs` is a command to a container's
  agent and its answer: p50 and p99 of that round trip, as a ratio to `GET /api/health` on the same server.
- `agents_command_round_trip_across_replicas`: the same with three replicas of one install (one database, one
  Redis), agent i connected to replica i mod 3, and every command asked on the replica after its agent's: the
  request, the relay through Redis to the replica holding the agent, the agent's answer and its way back.
- `console_lines_per_s_across_replicas`: on the same three replicas, a real agent connected to replica A and the
  container of `console_lines_per_s`; a console opened on A (the agent's own replica) and one opened on B (its
  output relayed agent -> A -> Redis -> B -> browser), in alternating rounds, each against `docker logs -f` at the
  same time as in `console_lines_per_s`. The ratio is B's lines to A's (the median of the paired rounds), next to
  the CPU per line of each side: what the relay costs. Each round also checks the numbered lines for breaks, so a
  relay that loses or reorders output shows up as such rather than as a lower rate.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import websockets

from bench.harness import BenchError, Options, Result, Server, free_port, nubes_server, replicas, wait_ready
from nubes.compute.agents import protocol

ROOT = Path(__file__).resolve().parent.parent
IMAGE = "nubes-test/busybox:1"
PASSWORD = "Bench-Granite-Falcon-73"  # noqa: S105 - a throwaway server's first admin
SERVER_ENV = {"NUBES_ADMIN_PASSWORD": PASSWORD, "NUBES_LOGIN_RATE_LIMIT": "100000/minute", "NUBES_ACCESS_TOKEN_TTL": "3600"}
STARTS = 5
FAKE_AGENTS = 500
REPLICAS = 3
ROUND_TRIPS = 300
CONSOLE_SECONDS = 5.0
CONSOLE_WARMUP = 1.0
CONSOLE_ROUNDS = 3
ACROSS_PAIRS = 5  # rounds on the agent's replica and across, alternating: a pair each
CHATTER = 'i=0; while true; do echo "line $i"; i=$((i+1)); done'
DROPPED_NOTICE = re.compile(r"^(\d+) lines were dropped")


def _egg(name: str, startup: str) -> dict[str, Any]:
    return {
        "meta": {"version": "PTDL_v2"},
        "name": name,
        "author": "bench@nubes.example",
        "docker_images": {"Busybox": IMAGE},
        "startup": startup,
        "config": {"stop": "^C"},
        "variables": [],
    }


def _docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True, timeout=120).stdout


def _docker_ready() -> None:
    result = subprocess.run([str(ROOT / "scripts" / "test-docker.sh"), "start"], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BenchError(f"no Docker Engine (scripts/test-docker.sh start): {result.stderr.strip()[-500:]}")


class Api:
    def __init__(self, server: Server) -> None:
        self.http = httpx.Client(base_url=server.url(""), timeout=60)
        token = self.call("POST", "/api/auth/login", 200, json={"username": "admin", "password": PASSWORD})["access_token"]
        self.http.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, status: int, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        if response.status_code != status:
            raise BenchError(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return response.json() if response.content else None

    def wait_state(self, container_id: str, state: str, within: float = 120) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.call("GET", f"/api/containers/{container_id}", 200)["state"] == state:
                return
            time.sleep(0.02)
        raise BenchError(f"container {container_id} not {state} within {within:.0f} s")


def _site(api: Api, name: str, ports: int) -> tuple[str, str, str]:
    cluster = api.call("POST", "/api/clusters", 201, json={"name": name})["id"]
    node = api.call(
        "POST", "/api/nodes", 201, json={"name": name, "cluster_id": cluster, "cpu": 400, "memory_mb": 8192, "disk_mb": 100_000}
    )
    if ports:
        free = sorted({free_port() for _ in range(ports)})
        api.call(
            "POST", f"/api/nodes/{node['id']}/allocations", 201, json={"ip": "127.0.0.1", "ports": [str(port) for port in free]}
        )
    return cluster, node["id"], node["registration_token"]


@contextlib.contextmanager
def _agent(server: Server, token: str, workdir: Path) -> Iterator[subprocess.Popen[bytes]]:
    log = (workdir / "agent.log").open("wb")
    command = [str(Path(sys.executable).parent / "nubes"), "agent", "--server", server.url("").rstrip("/"), "--token", token]
    process = subprocess.Popen([*command, "--state-dir", str(workdir / "agent")], stdout=log, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def _lifecycle(api: Api, server: Server, workdir: Path) -> list[Result]:
    cluster, node_id, token = _site(api, "docker", ports=STARTS + 2)
    try:
        return _measure(api, server, workdir, (cluster, node_id, token))
    finally:
        _remove_containers(node_id)


def _remove_containers(node_id: str) -> None:
    """Remove the node's containers that are left (a delete not carried out before the agent or server stopped)."""
    for name in _docker("ps", "-aq", "--filter", f"label=io.nubes.node={node_id}").split():
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)


def _wait_online(api: Api, node_id: str) -> None:
    deadline = time.monotonic() + 60
    while api.call("GET", f"/api/nodes/{node_id}", 200)["status"] != "online":
        if time.monotonic() > deadline:
            raise BenchError("the agent did not connect")
        time.sleep(0.1)


def _measure(api: Api, server: Server, workdir: Path, site: tuple[str, str, str]) -> list[Result]:
    cluster, node_id, token = site
    sleeper = api.call("POST", "/api/eggs/import", 201, json=_egg("Sleeper", "exec sleep 3600"))["id"]
    chatter = api.call("POST", "/api/eggs/import", 201, json=_egg("Chatter", CHATTER))["id"]
    created: list[float] = []
    started: list[float] = []
    baseline: list[float] = []
    with _agent(server, token, workdir):
        _wait_online(api, node_id)
        limits = {"cpu": 100, "memory_mb": 64, "disk_mb": 100, "pids": 64}
        for index in range(STARTS):
            body = {"name": f"s{index}", "egg_id": sleeper, "cluster_id": cluster, "limits": limits, "start": True}
            begun = time.perf_counter()
            container_id = api.call("POST", "/api/containers", 202, json=body)["container"]["id"]
            api.wait_state(container_id, "running")
            created.append(time.perf_counter() - begun)
            api.call("POST", f"/api/containers/{container_id}/power", 202, json={"action": "kill"})
            api.wait_state(container_id, "stopped")
            begun = time.perf_counter()
            api.call("POST", f"/api/containers/{container_id}/power", 202, json={"action": "start"})
            api.wait_state(container_id, "running")
            started.append(time.perf_counter() - begun)
            api.call("DELETE", f"/api/containers/{container_id}", 202)
            name = f"nubes-bench-{uuid.uuid4().hex[:8]}"
            begun = time.perf_counter()
            _docker("run", "-d", "--name", name, "--memory", "64m", "--pids-limit", "64", IMAGE, "sleep", "3600")
            baseline.append(time.perf_counter() - begun)
            subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
            print(
                f"containers: round {index + 1}: create {created[-1]:.2f} s, start {started[-1]:.2f} s, "
                f"docker run {baseline[-1]:.2f} s",
                file=sys.stderr,
            )
        console = _console(api, server, cluster, chatter)
    docker_s = _median(baseline)
    return [
        {
            "benchmark": "container_create_to_running",
            "unit": "s",
            "nubes_s": round(_median(created), 3),
            "docker_run_s": round(docker_s, 3),
            "ratio": round(_median(created) / docker_s, 2),
            "rounds": STARTS,
        },
        {
            "benchmark": "container_start_to_running",
            "unit": "s",
            "nubes_s": round(_median(started), 3),
            "docker_run_s": round(docker_s, 3),
            "ratio": round(_median(started) / docker_s, 2),
            "rounds": STARTS,
        },
        console,
    ]


def _chatter(api: Api, cluster: str, egg_id: str) -> str:
    """A running container of the Chatter egg (it prints numbered lines as fast as it can): its id."""
    body = {
        "name": "chatter",
        "egg_id": egg_id,
        "cluster_id": cluster,
        "start": True,
        "limits": {"cpu": 100, "memory_mb": 64, "disk_mb": 1000},
    }
    container_id: str = api.call("POST", "/api/containers", 202, json=body)["container"]["id"]
    api.wait_state(container_id, "running")
    return container_id


def _console_url(server: Server, container_id: str) -> str:
    return server.url(f"/api/ws/containers/{container_id}").replace("http://", "ws://")


def _console(api: Api, server: Server, cluster: str, egg_id: str) -> Result:
    container_id = _chatter(api, cluster, egg_id)
    url = _console_url(server, container_id)
    token = api.http.headers["Authorization"]
    runs: list[ConsoleRound] = []
    for index in range(CONSOLE_ROUNDS):
        runs.append(_console_round(url, token, f"nubes-{container_id}"))
        print(f"containers: console round {index + 1}: {runs[-1].describe()}", file=sys.stderr)
    api.call("DELETE", f"/api/containers/{container_id}", 202)
    ratios = [run.ratio for run in runs]
    return {
        "benchmark": "console_lines_per_s",
        "unit": "lines/s",
        "websocket": round(_median([run.ws_lines for run in runs]) / CONSOLE_SECONDS),
        "docker_logs_f": round(_median([run.docker_lines for run in runs]) / CONSOLE_SECONDS),
        "ratio": round(_median(ratios), 3),
        "ratio_runs": [round(ratio, 3) for ratio in ratios],
        "seconds": CONSOLE_SECONDS,
        "rounds": CONSOLE_ROUNDS,
    }


@dataclass
class ConsoleRound:
    """What one console round counted: lines in the window on each side, and what the console's sequence showed.

    The Chatter container numbers its lines, so the client checks the whole stream it receives (warm-up included):
    `jumps` lists each break in the numbering, as the numbers skipped (positive) or how far it went back (negative:
    lines received again), and `dropped` what the server said it dropped (a client reading slower than the container
    prints). The container prints faster than any follower reads, and Docker keeps two json-file logs of 10 MB
    (~120,000 of these lines each, the agent's rule): a follower that falls a file behind loses what was rotated
    away, or reads part of it again; `docker logs -f` too. Those jumps (forward by about a file's worth, back by a
    line to a file) come in the middle of the agent's batches and on either side; a relay losing or reordering
    frames would break the numbering at a frame's edge (a frame is at most 2000 lines), across replicas only.
    """

    ws_lines: int
    docker_lines: int
    jumps: list[int] = field(default_factory=list)
    dropped: int = 0
    cpu_s: float = 0.0  # CPU time of the processes this benchmark started, but `docker logs -f`, in the same seconds

    @property
    def ratio(self) -> float:
        """The console's lines to `docker logs -f`'s."""
        return self.ws_lines / max(self.docker_lines, 1)

    @property
    def cpu_ms_per_1000_lines(self) -> float:
        """What a thousand lines cost the servers, the agent and Redis: steadier than a rate on a busy machine."""
        return self.cpu_s * 1_000_000 / max(self.ws_lines, 1)

    def describe(self) -> str:
        """One line for the progress output."""
        return (
            f"{self.ws_lines} lines (jumps {self.jumps}, {self.dropped} dropped), "
            f"docker logs -f {self.docker_lines} lines in the same {CONSOLE_SECONDS:.0f} s"
        )


def _cpu_seconds(but: int) -> float:
    """User and system CPU time so far of this process's descendants (servers, agent, Redis) except `but`'s tree.

    This process (the console client) is not counted, nor Docker's daemon (the same work on either side).
    """
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rpartition(")")[2].split()
            pid = int(stat.parent.name)
            parents[pid], ticks[pid] = int(fields[1]), int(fields[11]) + int(fields[12])
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    total, waiting = 0, [pid for pid in children.get(os.getpid(), []) if pid != but]
    while waiting:
        pid = waiting.pop()
        total += ticks.get(pid, 0)
        waiting += children.get(pid, [])
    return total / os.sysconf("SC_CLK_TCK")


def _line_number(line: str) -> int | None:
    head, _, number = line.rpartition(" ")
    return int(number) if head == "line" and number.isdigit() else None


class _Sequence:
    """The running check of a console's numbered lines (see ConsoleRound)."""

    def __init__(self) -> None:
        self.last: int | None = None
        self.jumps: list[int] = []

    def frame(self, lines: list[str]) -> None:
        """Account for one output frame; only a frame that does not simply continue the stream is read line by line."""
        if not lines:
            return
        first, last = _line_number(lines[0]), _line_number(lines[-1])
        whole = first is not None and last is not None and last - first + 1 == len(lines)
        if whole and last is not None and (self.last is None or first == self.last + 1):
            self.last = last
            return
        for line in lines:
            number = _line_number(line)
            if number is not None:
                if self.last is not None and number != self.last + 1:
                    self.jumps.append(number - self.last - 1)
                self.last = number


def _console_round(url: str, token: str, name: str) -> ConsoleRound:
    """Lines a console client and `docker logs -f` receive in the same CONSOLE_SECONDS, following the same container.

    Both follow at once, after a warm-up, so they see the same output rate and the same load on the machine.
    """
    command = ["docker", "logs", "-f", "--since", "0s", name]
    follower = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    if follower.stdout is None:
        raise BenchError("docker logs -f gave no output pipe")
    window: list[float] = []  # start and end, set once the console is connected
    docker_lines = [0]

    def read_docker(descriptor: int) -> None:
        while chunk := os.read(descriptor, 1 << 20):
            now = time.monotonic()
            if window and window[0] <= now < window[1]:
                docker_lines[0] += chunk.count(b"\n")

    reader = threading.Thread(target=read_docker, args=(follower.stdout.fileno(),), daemon=True)
    reader.start()

    sequence = _Sequence()
    dropped = [0]
    cpu: list[float] = []  # at the window's first frame and at its end

    async def count() -> int:
        lines = 0
        async with websockets.connect(url, additional_headers={"Authorization": token}, max_size=2**24) as ws:
            start = time.monotonic() + CONSOLE_WARMUP
            window.extend([start, start + CONSOLE_SECONDS])
            while (left := window[1] - time.monotonic()) > 0:
                with contextlib.suppress(TimeoutError):
                    frame = json.loads(await asyncio.wait_for(ws.recv(), left))
                    if frame.get("type") == "output":
                        sequence.frame(frame["lines"])
                        if time.monotonic() >= start:
                            if not cpu:
                                cpu.append(_cpu_seconds(but=follower.pid))
                            lines += len(frame["lines"])
                    elif frame.get("type") == "notice" and (notice := DROPPED_NOTICE.match(frame["message"])):
                        dropped[0] += int(notice.group(1))
            cpu.append(_cpu_seconds(but=follower.pid))
        return lines

    try:
        ws_lines = asyncio.run(count())
    finally:
        follower.kill()
        follower.wait()
        reader.join(timeout=10)
    return ConsoleRound(ws_lines, docker_lines[0], sequence.jumps, dropped[0], cpu[-1] - cpu[0])


def _console_across(apis: list[Api], servers: list[Server], workdir: Path) -> Result:
    """Console lines/s on the agent's replica (A) and on another (B, relayed through Redis), in alternating rounds.

    A real agent on the local engine connects to A; the same Chatter container as `console_lines_per_s`. Rounds
    alternate in pairs, A, B / B, A / A, B ..., so both sides see the same machine load and neither always goes
    first, and each is measured against `docker logs -f` of the same seconds. `ratio` is B's lines to A's in each
    pair, the median over the pairs; `docker_adjusted_ratio` the same with each side first divided by its own
    `docker logs -f`, which takes out how fast the machine was in each window (on a busy machine `docker logs -f`
    itself varied 2x between the rounds of one pair). `*_cpu_ms_per_1000_lines` is what the lines cost the agent,
    the replicas and Redis together; `cpu_per_line_ratio` (B's to A's, paired) is the relay's price in CPU.
    """
    api = apis[0]
    cluster, node_id, token = _site(api, "relayed", ports=1)
    chatter = api.call("POST", "/api/eggs/import", 201, json=_egg("Chatter", CHATTER))["id"]
    pairs: list[tuple[ConsoleRound, ConsoleRound]] = []
    try:
        with _agent(servers[0], token, workdir):
            _wait_online(api, node_id)
            container_id = _chatter(api, cluster, chatter)
            sides = [
                (_console_url(server, container_id), asker.http.headers["Authorization"])
                for server, asker in zip(servers, apis, strict=True)
            ]
            for index in range(ACROSS_PAIRS):
                pair: dict[int, ConsoleRound] = {}
                for which in (0, 1) if index % 2 == 0 else (1, 0):  # neither side always goes first
                    pair[which] = _console_round(*sides[which], f"nubes-{container_id}")
                    where = "agent's replica" if which == 0 else "across replicas"
                    print(f"containers: console pair {index + 1}, {where}: {pair[which].describe()}", file=sys.stderr)
                pairs.append((pair[0], pair[1]))
            api.call("DELETE", f"/api/containers/{container_id}", 202)
    finally:
        _remove_containers(node_id)
    ratios = [across.ws_lines / max(here.ws_lines, 1) for here, across in pairs]
    result: Result = {
        "benchmark": "console_lines_per_s_across_replicas",
        "unit": "lines/s",
        "replicas": len(servers),
        "agents_replica": round(_median([here.ws_lines for here, _ in pairs]) / CONSOLE_SECONDS),
        "across": round(_median([across.ws_lines for _, across in pairs]) / CONSOLE_SECONDS),
        "ratio": round(_median(ratios), 3),
        "ratio_runs": [round(ratio, 3) for ratio in ratios],
        "docker_adjusted_ratio": round(_median([across.ratio / max(here.ratio, 1e-9) for here, across in pairs]), 3),
        "agents_replica_to_docker": round(_median([here.ratio for here, _ in pairs]), 3),
        "across_to_docker": round(_median([across.ratio for _, across in pairs]), 3),
        "agents_replica_to_docker_runs": [round(here.ratio, 3) for here, _ in pairs],
        "across_to_docker_runs": [round(across.ratio, 3) for _, across in pairs],
        "agents_replica_cpu_ms_per_1000_lines": round(_median([here.cpu_ms_per_1000_lines for here, _ in pairs]), 2),
        "across_cpu_ms_per_1000_lines": round(_median([across.cpu_ms_per_1000_lines for _, across in pairs]), 2),
        "cpu_per_line_ratio": round(
            _median([across.cpu_ms_per_1000_lines / max(here.cpu_ms_per_1000_lines, 1e-9) for here, across in pairs]), 3
        ),
    }
    for prefix, rounds in (("agents_replica", [here for here, _ in pairs]), ("across", [across for _, across in pairs])):
        result[f"{prefix}_jumps"] = [jump for run in rounds for jump in run.jumps]
        result[f"{prefix}_dropped"] = sum(run.dropped for run in rounds)
    return {**result, "seconds": CONSOLE_SECONDS, "pairs": ACROSS_PAIRS}


# --- 500 simulated agents ------------------------------------------------------------------------------


async def _fake_agent(
    url: str, credential: str, *, ready: asyncio.Event, connected: list[int], retries: list[int], stop: asyncio.Event
) -> None:
    """One simulated agent: connect (retrying with backoff as the real one does), hello, answer commands."""
    delay = 0.5
    while True:
        try:
            ws = await websockets.connect(
                url, additional_headers={"Authorization": f"Bearer {credential}"}, max_size=2**22, open_timeout=60
            )
            break
        except (OSError, TimeoutError, websockets.InvalidStatus, websockets.InvalidHandshake):
            retries.append(1)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10)
    async with ws:
        welcome = protocol.server_message.validate_json(await ws.recv())
        if not isinstance(welcome, protocol.Welcome):
            raise BenchError("no welcome")
        await ws.send(protocol.Hello(agent_version="bench").model_dump_json())
        connected.append(1)
        if len(connected) == FAKE_AGENTS:
            ready.set()
        receiver = asyncio.create_task(_answer_commands(ws))
        await stop.wait()
        receiver.cancel()


async def _answer_commands(ws: Any) -> None:
    async for text in ws:
        message = protocol.server_message.validate_json(text)
        if isinstance(message, protocol.Command):
            state = "stopped" if message.action in {"create", "stop", "kill", "logs"} else "running"
            result = protocol.CommandResult(
                command_id=message.id,
                idempotency_key=message.idempotency_key,
                container_id=message.container_id,
                ok=True,
                state=state,
                output="a log line\n" if message.action == "logs" else "",
            )
            await ws.send(result.model_dump_json())
        elif isinstance(message, protocol.Ping):
            await ws.send(protocol.Heartbeat().model_dump_json())


def _round_trips(asked: list[tuple[Api, str]]) -> tuple[list[float], list[float]]:
    """Milliseconds of each command round trip (`logs` to a simulated agent, asked through the API paired with each
    container), and of `GET /api/health` on the same API in between."""
    trips, health = [], []
    for index in range(ROUND_TRIPS):
        api, container_id = asked[index % len(asked)]
        begun = time.perf_counter()
        api.call("GET", f"/api/containers/{container_id}/logs?tail=1", 200)
        trips.append((time.perf_counter() - begun) * 1000)
        begun = time.perf_counter()
        api.call("GET", "/api/health", 200)
        health.append((time.perf_counter() - begun) * 1000)
    return trips, health


def _register_nodes(api: Api, cluster: str) -> list[tuple[str, str]]:
    """FAKE_AGENTS nodes of `cluster`, registered: (node id, agent credential) each; the first 50 with a port."""
    credentials: list[tuple[str, str]] = []
    started = time.perf_counter()
    for index in range(FAKE_AGENTS):
        node = api.call(
            "POST",
            "/api/nodes",
            201,
            json={"name": f"fake-{index:03}", "cluster_id": cluster, "cpu": 100, "memory_mb": 1024, "disk_mb": 1024},
        )
        registered = api.call("POST", "/api/nodes/register", 200, json={"token": node["registration_token"]})
        credentials.append((node["id"], registered["credential"]))
        if index < 50:
            api.call("POST", f"/api/nodes/{node['id']}/allocations", 201, json={"ip": "127.0.0.1", "ports": ["30000"]})
    print(f"containers: {FAKE_AGENTS} nodes registered in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return credentials


def _agents(apis: list[Api], servers: list[Server]) -> Result:
    """500 simulated agents spread over `servers` (agent i on server i mod n); with several servers, each command is
    asked on the server after the one its agent is connected to, so it crosses replicas through Redis."""
    api = apis[0]
    cluster = api.call("POST", "/api/clusters", 201, json={"name": "many"})["id"]
    egg_id = api.call("POST", "/api/eggs/import", 201, json=_egg("Fake", "true"))["id"]
    credentials = _register_nodes(api, cluster)
    urls = [server.url("/api/ws/agent").replace("http://", "ws://") for server in servers]
    holder = {node_id: index % len(servers) for index, (node_id, _) in enumerate(credentials)}
    loop = asyncio.new_event_loop()
    ready, stop = asyncio.Event(), asyncio.Event()
    connected: list[int] = []
    retries: list[int] = []
    tasks: list[asyncio.Task[None]] = []

    async def connect_all() -> None:
        for index, (_, credential) in enumerate(credentials):
            url = urls[index % len(urls)]
            agent = _fake_agent(url, credential, ready=ready, connected=connected, retries=retries, stop=stop)
            tasks.append(asyncio.create_task(agent))
            await asyncio.sleep(0.01)  # a ramp, as real agents come up
        await asyncio.wait_for(ready.wait(), 300)

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(connect_all(), loop).result(timeout=400)
        deadline = time.monotonic() + 120
        while (online := sum(1 for node in api.call("GET", "/api/nodes", 200) if node["status"] == "online")) < FAKE_AGENTS:
            if time.monotonic() > deadline:
                break
            time.sleep(1)
        print(
            f"containers: {len(connected)} fake agents connected ({len(retries)} retried connects), {online} nodes online",
            file=sys.stderr,
        )
        containers = []
        for index in range(20):
            body = {
                "name": f"f{index}",
                "egg_id": egg_id,
                "cluster_id": cluster,
                "limits": {"cpu": 10, "memory_mb": 16, "disk_mb": 10},
            }
            containers.append(api.call("POST", "/api/containers", 202, json=body)["container"]["id"])
        installed = []
        for container_id in containers:
            with contextlib.suppress(BenchError):  # a node whose connection is still being set up: left out
                api.wait_state(container_id, "stopped", within=120)
                installed.append(container_id)
        if not installed:
            raise BenchError("no container got installed on the simulated agents")
        containers = installed
        asked = []
        for container_id in containers:
            node_id = api.call("GET", f"/api/containers/{container_id}", 200)["node_id"]
            asked.append((apis[(holder[node_id] + 1) % len(apis)], container_id))
        for asking, container_id in asked[:5]:  # warm-up
            asking.call("GET", f"/api/containers/{container_id}/logs", 200)
        trips, health = _round_trips(asked)
    finally:
        loop.call_soon_threadsafe(stop.set)
        time.sleep(1)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
    return {
        "benchmark": "agents_command_round_trip" if len(servers) == 1 else "agents_command_round_trip_across_replicas",
        "unit": "ms",
        "replicas": len(servers),
        "agents": len(connected),
        "nodes_online": online,
        "connect_retries": len(retries),
        "p50_ms": round(_percentile(trips, 0.5), 2),
        "p99_ms": round(_percentile(trips, 0.99), 2),
        "health_p50_ms": round(_percentile(health, 0.5), 2),
        "health_p99_ms": round(_percentile(health, 0.99), 2),
        "ratio": round(_percentile(trips, 0.5) / _percentile(health, 0.5), 2),
        "round_trips": ROUND_TRIPS,
        "containers": len(containers),
    }


def run(options: Options) -> list[Result]:
    """One server for the Docker figures, another for the 500 agents; three replicas for the console and the 500 across."""
    del options  # counts, not durations, drive these
    _docker_ready()
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="nubes-bench-") as raw:
        workdir = Path(raw)
        with nubes_server(workdir, **SERVER_ENV) as server:
            wait_ready(server, "/api/ready")
            results += _lifecycle(Api(server), server, workdir)
    with tempfile.TemporaryDirectory(prefix="nubes-bench-") as raw, nubes_server(Path(raw), **SERVER_ENV) as server:
        wait_ready(server, "/api/ready")
        results.append(_agents([Api(server)], [server]))
    with tempfile.TemporaryDirectory(prefix="nubes-bench-") as raw, contextlib.ExitStack() as stack:
        servers = replicas(stack, Path(raw), REPLICAS, **SERVER_ENV)
        apis = [Api(server) for server in servers]
        # The console first: its agent and container are gone before the 500 simulated agents connect.
        results.append(_console_across(apis, servers, Path(raw)))
        results.append(_agents(apis, servers))
    return results

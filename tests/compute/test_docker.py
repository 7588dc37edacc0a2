"""The real thing: `nubes serve`, `nubes agent` processes over a real WebSocket, and a real Docker Engine.

`make test` starts dockerd when no engine answers and imports the busybox test image
(scripts/test-docker.sh); this module runs that script too, so it also works on its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from nubes.compute.agents.protocol import LABEL_CONTAINER
from tests.compute.eggs import ECHO_EGG, egg
from tests.conftest import empty_database
from tests.serving import Server, free_port, serve

pytestmark = [pytest.mark.docker, pytest.mark.timeout(300)]  # real processes on a shared, busy machine

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def _docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True, timeout=60).stdout


@pytest.fixture(scope="session")
def docker_engine() -> None:
    """A Docker Engine that answers, with the test image built locally."""
    result = subprocess.run(
        [str(ROOT / "scripts" / "test-docker.sh"), "start"], capture_output=True, text=True, timeout=180, check=False
    )
    if result.returncode != 0:
        pytest.fail(
            f"no Docker Engine for the container tests (make test-deps, then scripts/test-docker.sh start):\n{result.stderr}"
        )


@pytest.fixture(scope="module")
async def compute_database_url(engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """An empty database of the module's own server."""
    async with empty_database(engine_name, tmp_path_factory.mktemp("compute-db") / "nubes.db") as url:
        yield url


@pytest.fixture(scope="module")
def server(docker_engine: None, compute_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real `nubes serve`."""
    with serve(compute_database_url, tmp_path_factory.mktemp("compute-serve")) as running:
        yield running


@dataclass
class Api:
    """The platform admin's HTTP client."""

    http: httpx.Client
    server: Server | None = None  # to sign in again when the token expires

    def call(self, method: str, path: str, status: int, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        if response.status_code == 401 and status != 401 and self.server is not None:
            # Access tokens live 5 minutes and this module runs longer: sign in again, once.
            self.http.headers["Authorization"] = f"Bearer {self.server.admin_token()}"
            response = self.http.request(method, path, **kwargs)
        assert response.status_code == status, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None


@pytest.fixture(scope="module")
def api(server: Server) -> Iterator[Api]:
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.admin_token()}"}, timeout=30) as http:
        yield Api(http, server)


class AgentProcess:
    """A `nubes agent` process with its own state dir; restartable, killable."""

    def __init__(self, server: Server, state_dir: Path, token: str) -> None:
        self.server, self.state_dir, self.token = server, state_dir, token
        self.log = state_dir.parent / f"{state_dir.name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.env_extra: dict[str, str] = {}  # NUBES_AGENT_* settings of the next start

    def start(self) -> AgentProcess:
        env = {key: value for key, value in os.environ.items() if not key.startswith("NUBES_")} | self.env_extra
        command = [sys.executable, "-m", "nubes", "agent", "--server", self.server.url, "--token", self.token]
        command += ["--state-dir", str(self.state_dir), "--disk-check-seconds", "1"]
        with self.log.open("a") as output:
            self.process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
        return self

    def kill(self, sig: int = signal.SIGKILL) -> None:
        assert self.process is not None
        self.process.send_signal(sig)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.kill(signal.SIGTERM)


def wait_for(what: str, probe: Callable[[], T | None], within: float = 90) -> T:
    """Poll until `probe` gives something (a deadline for hangs, not a speed assertion)."""
    deadline = time.monotonic() + within
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.3)


@dataclass
class Site:
    """A cluster with one node whose agent runs, and the echo egg."""

    cluster_id: str
    node_id: str
    egg_id: str
    agent: AgentProcess
    ports: list[int]


@pytest.fixture
def site(api: Api, server: Server, tmp_path: Path) -> Iterator[Site]:
    suffix = uuid.uuid4().hex[:6]
    cluster = api.call("POST", "/api/clusters", 201, json={"name": f"cluster-{suffix}"})
    node = api.call(
        "POST",
        "/api/nodes",
        201,
        json={"name": f"node-{suffix}", "cluster_id": cluster["id"], "cpu": 200, "memory_mb": 2048, "disk_mb": 10_000},
    )
    ports = sorted({free_port(), free_port()})
    api.call(
        "POST", f"/api/nodes/{node['id']}/allocations", 201, json={"ip": "127.0.0.1", "ports": [str(port) for port in ports]}
    )
    imported = api.call("POST", "/api/eggs/import", 201, json=ECHO_EGG)
    agent = AgentProcess(server, tmp_path / "agent", node["registration_token"]).start()
    wait_for("the agent to connect", lambda: api.call("GET", f"/api/nodes/{node['id']}", 200)["status"] == "online")
    try:
        yield Site(cluster_id=cluster["id"], node_id=node["id"], egg_id=imported["id"], agent=agent, ports=ports)
    finally:
        agent.stop()
        for name in _docker("ps", "-aq", "--filter", f"label=io.nubes.node={node['id']}").split():
            subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)


def _create(api: Api, site: Site, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "echo",
        "egg_id": site.egg_id,
        "cluster_id": site.cluster_id,
        "environment": {"GREETING": "hi"},
        "limits": {"cpu": 50, "memory_mb": 96, "disk_mb": 100, "pids": 64},
        "start": True,
    }
    body.update(changes)
    accepted: dict[str, Any] = api.call("POST", "/api/containers", 202, json=body)
    return accepted


def _state(api: Api, container_id: str, *wanted: str) -> dict[str, Any] | None:
    container: dict[str, Any] = api.call("GET", f"/api/containers/{container_id}", 200)
    return container if container["state"] in wanted else None


def _job(api: Api, job_id: str) -> dict[str, Any] | None:
    job: dict[str, Any] = api.call("GET", f"/api/jobs/{job_id}", 200)
    return job if job["status"] in {"succeeded", "failed"} else None


def _power(api: Api, container_id: str, action: str) -> None:
    api.call("POST", f"/api/containers/{container_id}/power", 202, json={"action": action})


def _docker_ids(container_id: str) -> list[str]:
    return _docker(
        "ps", "-aq", "--filter", f"label={LABEL_CONTAINER}={container_id}", "--filter", "label=io.nubes.role=server"
    ).split()


def test_lifecycle_through_the_api_on_a_real_engine(api: Api, site: Site) -> None:
    accepted = _create(api, site)
    container_id = accepted["container"]["id"]
    wait_for("running", lambda: _state(api, container_id, "running"))
    create_job = api.call("GET", f"/api/jobs/{accepted['job']['id']}", 200)
    assert create_job["status"] == "succeeded"
    assert "installing" in create_job["output"]

    # GIVEN a running container WHEN Docker is asked THEN the limits, the lack of privileges and the one mount are there.
    inspected = json.loads(_docker("inspect", f"nubes-{container_id}"))[0]
    host = inspected["HostConfig"]
    assert host["Memory"] == 96 * 1024 * 1024
    assert host["MemorySwap"] == 96 * 1024 * 1024
    assert host["NanoCpus"] == 500_000_000
    assert host["PidsLimit"] == 64
    assert host["CapDrop"] == ["ALL"]
    assert not host["CapAdd"]
    assert host["SecurityOpt"] == ["no-new-privileges"]
    assert host["Privileged"] is False
    volume = site.agent.state_dir / "volumes" / container_id
    assert host["Binds"] == [f"{volume.resolve()}:/home/container"]
    assert "docker.sock" not in json.dumps(inspected)
    assert host["PortBindings"][f"{site.ports[0]}/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": str(site.ports[0])}]
    assert inspected["Config"]["User"] == "1000:1000"
    assert (volume / "installed.txt").read_text() == "hello\n"

    logs = wait_for(
        "the greeting", lambda: (lines := api.call("GET", f"/api/containers/{container_id}/logs?tail=5", 200)["lines"]) and lines
    )
    assert logs[0] == f"started hi on {site.ports[0]} with 96"

    # The egg's stop command is the stdin line `stop`: the server says bye and exits 0, no kill needed.
    _power(api, container_id, "stop")
    wait_for("stopped", lambda: _state(api, container_id, "stopped"))
    assert api.call("GET", f"/api/containers/{container_id}/logs?tail=5", 200)["lines"][-1] == "bye"
    assert json.loads(_docker("inspect", f"nubes-{container_id}"))[0]["State"]["ExitCode"] == 0

    _power(api, container_id, "restart")
    wait_for("running again", lambda: _state(api, container_id, "running"))
    _power(api, container_id, "kill")
    wait_for("killed", lambda: _state(api, container_id, "stopped"))

    api.call("DELETE", f"/api/containers/{container_id}", 202)
    wait_for("deleted", lambda: api.http.get(f"/api/containers/{container_id}").status_code == 404)
    assert _docker_ids(container_id) == []
    assert not volume.exists()
    jobs = api.call("GET", "/api/jobs", 200, params={"container_id": container_id})["items"]
    assert [job["action"] for job in reversed(jobs)] == ["create", "start", "stop", "restart", "kill", "delete"]
    assert {job["status"] for job in jobs} == {"succeeded"}


def test_a_missing_image_fails_the_job_with_how_to_load_it(api: Api, site: Site) -> None:
    absent = api.call("POST", "/api/eggs/import", 201, json=egg(name="Absent", docker_images={"Gone": "nubes-test/absent:1"}))
    accepted = _create(api, site, egg_id=absent["id"])
    job = wait_for("the create job to end", lambda: _job(api, accepted["job"]["id"]))
    assert job["status"] == "failed"
    assert "nubes-test/absent:1 is not on this node" in job["error"]
    assert "docker load" in job["error"]
    container = api.call("GET", f"/api/containers/{accepted['container']['id']}", 200)
    assert container["state"] == "install_failed"
    # A failed install can be deleted, which frees its allocation.
    api.call("DELETE", f"/api/containers/{accepted['container']['id']}", 202)
    wait_for("deleted", lambda: api.http.get(f"/api/containers/{accepted['container']['id']}").status_code == 404)


def test_a_failing_install_script_and_a_crash_are_reported(api: Api, site: Site) -> None:
    broken = egg(name="Broken install")
    broken["scripts"] = {
        "installation": {
            "script": "echo about to fail\nexit 3\n",
            "container": ECHO_EGG["docker_images"]["Busybox"],
            "entrypoint": "sh",
        }
    }
    accepted = _create(api, site, egg_id=api.call("POST", "/api/eggs/import", 201, json=broken)["id"])
    job = wait_for("the create job to end", lambda: _job(api, accepted["job"]["id"]))
    assert job["status"] == "failed"
    assert "exited with code 3" in job["error"]
    assert "about to fail" in job["output"]

    crashing = egg(name="Crasher", startup="echo dying; sleep 1; exit 7")
    crasher = _create(api, site, egg_id=api.call("POST", "/api/eggs/import", 201, json=crashing)["id"], environment={})
    container = wait_for("crashed", lambda: _state(api, crasher["container"]["id"], "crashed"))
    assert "7" in container["state_reason"] or container["state_reason"] == "exited right after starting"


def _stopped_for_disk(api: Api, container_id: str) -> dict[str, Any] | None:
    found = _state(api, container_id, "stopped")
    return found if found and "disk limit" in found["state_reason"] else None


def test_a_volume_over_its_disk_limit_is_stopped_with_the_reason(api: Api, site: Site) -> None:
    filler = egg(name="Filler", startup="dd if=/dev/zero of=big bs=1M count=3; echo filled; while true; do sleep 1; done")
    egg_id = api.call("POST", "/api/eggs/import", 201, json=filler)["id"]
    limits = {"cpu": 50, "memory_mb": 96, "disk_mb": 1, "pids": 64}
    container_id = _create(api, site, egg_id=egg_id, environment={}, limits=limits)["container"]["id"]
    container = wait_for("stopped for its disk use", lambda: _stopped_for_disk(api, container_id))
    assert "uses 3 MiB, over its disk limit of 1 MiB" in container["state_reason"]
    assert container["desired_state"] == "stopped"
    assert not json.loads(_docker("inspect", f"nubes-{container_id}"))[0]["State"]["Running"]


def test_agent_killed_and_restarted_converges_without_duplicates(api: Api, site: Site) -> None:
    first = _create(api, site)["container"]["id"]
    wait_for("running", lambda: _state(api, first, "running"))

    # GIVEN the agent dies hard WHEN work is asked of its node meanwhile THEN it waits, and nothing is lost or doubled.
    site.agent.kill(signal.SIGKILL)
    wait_for("the node to be offline", lambda: api.call("GET", f"/api/nodes/{site.node_id}", 200)["status"] == "offline")
    assert _docker_ids(first), "the container keeps running while its agent is away"
    _power(api, first, "stop")
    second = _create(api, site, name="echo-2")["container"]["id"]
    assert api.call("GET", f"/api/containers/{second}", 200)["state"] == "installing"

    site.agent.start()  # the saved credential; the used token is ignored
    wait_for("the first stopped", lambda: _state(api, first, "stopped"))
    wait_for("the second running", lambda: _state(api, second, "running"))
    assert len(_docker_ids(first)) == 1
    assert len(_docker_ids(second)) == 1

    # A container that stopped while the agent was away is restarted when it should run.
    site.agent.kill(signal.SIGKILL)
    _docker("kill", f"nubes-{second}")
    site.agent.start()
    wait_for("the second running again", lambda: json.loads(_docker("inspect", f"nubes-{second}"))[0]["State"]["Running"])
    wait_for("its state running", lambda: _state(api, second, "running"))
    assert len(_docker_ids(second)) == 1


def test_revoking_a_node_disconnects_its_agent_for_good(api: Api, site: Site) -> None:
    credential_file = site.agent.state_dir / "credential.json"
    assert credential_file.stat().st_mode & 0o777 == 0o600
    credential = json.loads(credential_file.read_text())["credential"]
    again = api.http.post("/api/nodes/register", json={"token": site.agent.token})
    assert again.status_code == 404  # the registration token worked once

    api.call("POST", f"/api/nodes/{site.node_id}/revoke", 200)
    assert site.agent.process is not None
    assert site.agent.process.wait(timeout=60) == 3, site.agent.log.read_text()[-2000:]
    assert "revoked" in site.agent.log.read_text()
    with pytest.raises(InvalidStatus) as refused:
        connect(_ws_url(api) + "/api/ws/agent", additional_headers={"Authorization": f"Bearer {credential}"}, open_timeout=10)
    assert refused.value.response.status_code == 403


def _ws_url(api: Api) -> str:
    return str(api.http.base_url).rstrip("/").replace("http://", "ws://")


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nbn_not-a-credential"}, {"Authorization": "Basic eDp5"}])
def test_the_agent_socket_refuses_without_a_node_credential(api: Api, headers: dict[str, str]) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(_ws_url(api) + "/api/ws/agent", additional_headers=headers, open_timeout=10)
    assert refused.value.response.status_code == 403


def test_a_node_credential_is_no_key_to_the_api(api: Api, site: Site) -> None:
    credential = json.loads((site.agent.state_dir / "credential.json").read_text())["credential"]
    for path in ("/api/nodes", f"/api/nodes/{site.node_id}", "/api/containers", "/api/eggs"):
        response = httpx.get(str(api.http.base_url) + path, headers={"Authorization": f"Bearer {credential}"})
        assert response.status_code == 401, path


# --- the console ----------------------------------------------------------------------------------


@contextlib.contextmanager
def _signed_in(server: Server) -> Iterator[httpx.Client]:
    """A browser-like client: a fresh session whose cookies the console socket uses."""
    with httpx.Client(base_url=server.url, timeout=30) as http:
        response = http.post(
            "/api/auth/login",
            json={"username": server.admin_username, "password": server.admin_password},
            headers={"Origin": server.url},
        )
        assert response.status_code == 200, response.text
        yield http


def _cookie_header(http: httpx.Client) -> str:
    return "; ".join(f"{name}={value}" for name, value in http.cookies.items())


def _until(ws: ClientConnection, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """Read frames until one is wanted (recv has its own timeout, so a silent socket fails the test)."""
    while True:
        frame: dict[str, Any] = json.loads(ws.recv(timeout=60))
        if wanted(frame):
            return frame


def _has_line(text: str) -> Callable[[dict[str, Any]], bool]:
    return lambda frame: frame.get("type") == "output" and any(text in line for line in frame["lines"])


def _kept(frames: list[dict[str, Any]], frame: dict[str, Any]) -> list[dict[str, Any]]:
    frames.append(frame)
    return frames


def _noticed(frames: list[dict[str, Any]]) -> bool:
    return any(frame.get("type") == "notice" and "Input too fast" in frame["message"] for frame in frames)


def _echoed(frames: list[dict[str, Any]], text: str) -> bool:
    return any(_has_line(text)(frame) for frame in frames)


def test_console_streams_output_and_takes_input_lines(api: Api, site: Site, server: Server) -> None:
    container_id = _create(api, site)["container"]["id"]
    wait_for("running", lambda: _state(api, container_id, "running"))
    with _signed_in(server) as browser:
        url = _ws_url(api) + f"/api/ws/containers/{container_id}"
        with connect(url, additional_headers={"Cookie": _cookie_header(browser), "Origin": server.url}, open_timeout=10) as ws:
            assert _until(ws, lambda frame: frame.get("type") == "state")["state"] == "running"
            _until(ws, _has_line("started hi"))
            ws.send(json.dumps({"type": "input", "line": "hello console"}))
            _until(ws, _has_line("got hello console"))
            stats = _until(ws, lambda frame: frame.get("type") == "stats")
            assert stats["memory_limit_bytes"] == 96 * 1024 * 1024
            assert 0 < stats["memory_bytes"] < stats["memory_limit_bytes"]
            assert stats["cpu_percent"] >= 0
            assert stats["disk_bytes"] > 0  # installed.txt
            ws.send(json.dumps({"type": "input", "line": "x" * 5000}))
            assert "at most 4096" in _until(ws, lambda frame: frame.get("type") == "notice")["message"]
            # A burst beyond the input budget (20 lines at once, then 10 a second): the excess is dropped, with a notice.
            for number in range(60):
                ws.send(json.dumps({"type": "input", "line": f"burst {number}"}))
            seen: list[dict[str, Any]] = []
            _until(ws, lambda frame: _noticed(_kept(seen, frame)) and _echoed(seen, "got burst 0"))
            assert not _echoed(seen, "got burst 59"), "the excess was dropped, not delivered"
            # The egg's stop command typed into the console stops it, and the state follows.
            time.sleep(1)  # the input budget refills (not a speed assertion: the line would be dropped otherwise)
            ws.send(json.dumps({"type": "input", "line": "stop"}))
            _until(ws, _has_line("bye"))
            assert _until(ws, lambda frame: frame.get("type") == "state")["state"] in {"stopped", "crashed"}


FLOOD_LINES = 30_000


def test_console_delivers_a_flood_of_output_whole_and_in_order(api: Api, site: Site, server: Server) -> None:
    """GIVEN a container that prints 30,000 numbered lines at once, a line not in UTF-8 and one of 70,000 characters
    WHEN a console watches THEN every line arrives once and in order, many to a frame, the long one cut in two."""
    startup = (
        f'echo ready; read go; i=0; while [ $i -lt {FLOOD_LINES} ]; do echo "n $i"; i=$((i+1)); done; '
        "printf 'bad \\377 byte\\n'; head -c 70000 /dev/zero | tr '\\0' x; echo; echo flood done; exec sleep 3600"
    )
    flood = egg(name="Flood", startup=startup, config={**ECHO_EGG["config"], "stop": "^C"})
    container_id = _create(api, site, egg_id=api.call("POST", "/api/eggs/import", 201, json=flood)["id"])["container"]["id"]
    wait_for("running", lambda: _state(api, container_id, "running"))
    with _signed_in(server) as browser:
        url = _ws_url(api) + f"/api/ws/containers/{container_id}"
        with connect(url, additional_headers={"Cookie": _cookie_header(browser), "Origin": server.url}, open_timeout=10) as ws:
            _until(ws, _has_line("ready"))
            ws.send(json.dumps({"type": "input", "line": "go"}))
            lines: list[str] = []
            frames = 0
            while "flood done" not in lines:
                frame = _until(ws, lambda frame: frame.get("type") == "output")
                lines += frame["lines"]
                frames += 1
    numbers = [int(line.removeprefix("n ")) for line in lines if line.startswith("n ")]
    assert numbers == list(range(FLOOD_LINES))
    assert frames <= FLOOD_LINES // 5, "output travels many lines to a frame"
    assert "bad \ufffd byte" in lines
    assert lines[-3:-1] == ["x" * 65_536, "x" * (70_000 - 65_536)]


def test_console_refuses_other_sites_and_strangers(api: Api, site: Site, server: Server) -> None:
    container_id = _create(api, site, start=False)["container"]["id"]
    url = _ws_url(api) + f"/api/ws/containers/{container_id}"
    with _signed_in(server) as browser:
        cookie = _cookie_header(browser)
        for headers in (
            {"Cookie": cookie, "Origin": "https://evil.example"},  # cross-site WebSocket hijacking
            {"Origin": server.url},  # no credential
            {"Cookie": "nubes_access=forged", "Origin": server.url},
        ):
            with pytest.raises(InvalidStatus) as refused:
                connect(url, additional_headers=headers, open_timeout=10)
            assert refused.value.response.status_code == 403, headers
        other = _ws_url(api) + f"/api/ws/containers/{uuid.uuid4()}"
        with pytest.raises(InvalidStatus):
            connect(other, additional_headers={"Cookie": cookie, "Origin": server.url}, open_timeout=10)


def test_console_ticket_opens_one_container_once(api: Api, site: Site) -> None:
    first = _create(api, site, start=False)["container"]["id"]
    second = _create(api, site, name="echo-2", start=False)["container"]["id"]
    wait_for("installed", lambda: _state(api, first, "stopped"))
    issued = api.call("POST", f"/api/containers/{first}/console-ticket", 200)
    with connect(_ws_url(api) + issued["url"], open_timeout=10) as ws:
        assert _until(ws, lambda frame: frame.get("type") == "state")["state"] == "stopped"
    for url in (issued["url"], f"/api/ws/containers/{second}?ticket={issued['ticket']}"):
        with pytest.raises(InvalidStatus) as refused:
            connect(_ws_url(api) + url, open_timeout=10)
        assert refused.value.response.status_code == 403
    fresh = api.call("POST", f"/api/containers/{first}/console-ticket", 200)["ticket"]
    with pytest.raises(InvalidStatus):
        connect(_ws_url(api) + f"/api/ws/containers/{second}?ticket={fresh}", open_timeout=10)


def test_console_closes_when_access_ends(api: Api, site: Site, server: Server) -> None:
    with _signed_in(server) as browser, _signed_in(server) as other_tab:
        container_id = _create(api, site, start=False)["container"]["id"]
        wait_for("installed", lambda: _state(api, container_id, "stopped"))
        url = _ws_url(api) + f"/api/ws/containers/{container_id}"
        with connect(url, additional_headers={"Cookie": _cookie_header(browser), "Origin": server.url}, open_timeout=10) as ws:
            _until(ws, lambda frame: frame.get("type") == "state")
            mine = browser.get("/api/users/me/sessions").json()
            target = next(item["id"] for item in mine if item["current"])
            ended = other_tab.delete(
                f"/api/users/me/sessions/{target}",
                headers={"X-CSRF-Token": other_tab.cookies["nubes_csrf"], "Origin": server.url},
            )
            assert ended.status_code == 204, ended.text
            with pytest.raises(ConnectionClosed) as closed:
                _until(ws, lambda frame: False)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4401


# --- several nodes, and a server restart -------------------------------------------------------------


def test_two_agents_share_a_cluster_and_placement_spreads_by_room(api: Api, site: Site, server: Server, tmp_path: Path) -> None:
    node_b = api.call(
        "POST",
        "/api/nodes",
        201,
        json={
            "name": f"node-b-{uuid.uuid4().hex[:6]}",
            "cluster_id": site.cluster_id,
            "cpu": 200,
            "memory_mb": 2048,
            "disk_mb": 10_000,
        },
    )
    api.call("POST", f"/api/nodes/{node_b['id']}/allocations", 201, json={"ip": "127.0.0.1", "ports": [str(free_port())]})
    agent_b = AgentProcess(server, tmp_path / "agent-b", node_b["registration_token"]).start()
    try:
        wait_for("the second agent", lambda: api.call("GET", f"/api/nodes/{node_b['id']}", 200)["status"] == "online")
        # GIVEN two nodes of 2048 MiB WHEN two containers of 1500 MiB are asked for THEN each node gets one.
        big = {"cpu": 50, "memory_mb": 1500, "disk_mb": 100, "pids": 64}
        first = _create(api, site, limits=big)["container"]
        second = _create(api, site, name="echo-2", limits=big)["container"]
        assert {first["node_id"], second["node_id"]} == {site.node_id, node_b["id"]}
        for container in (first, second):
            _wait_running(api, container["id"])
            labels = json.loads(_docker("inspect", f"nubes-{container['id']}"))[0]["Config"]["Labels"]
            assert labels["io.nubes.node"] == container["node_id"]
        third = api.http.post("/api/containers", json={**_create_body(site), "name": "echo-3", "limits": big})
        assert third.status_code == 409
        assert "memory (needs 1500 MiB, 548 MiB free)" in third.json()["detail"]
    finally:
        agent_b.stop()
        for name in _docker("ps", "-aq", "--filter", f"label=io.nubes.node={node_b['id']}").split():
            subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)


def _wait_running(api: Api, container_id: str) -> None:
    wait_for("running", lambda: _state(api, container_id, "running"))


def _create_body(site: Site) -> dict[str, Any]:
    return {"name": "echo", "egg_id": site.egg_id, "cluster_id": site.cluster_id, "environment": {"GREETING": "hi"}}


@contextlib.contextmanager
def _serve_on(database_url: str, data_dir: Path, port: int) -> Iterator[str]:
    """`nubes serve` on a given port (the agent's saved URL must stay the same across the restart)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("NUBES_")}
    env |= {
        "NUBES_DATA_DIR": str(data_dir),
        "NUBES_DATABASE_URL": database_url,
        "NUBES_PORT": str(port),
        "NUBES_ADMIN_PASSWORD": "Harbor-Lantern-Quartz-42",
        "NUBES_LOCAL_AGENT": "off",
    }
    with (data_dir.parent / f"{data_dir.name}-{time.monotonic_ns()}.log").open("w") as output:
        process = subprocess.Popen([sys.executable, "-m", "nubes", "serve"], env=env, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for("the server", lambda: _ready(url), within=60)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/ready", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def test_containers_keep_running_across_a_server_restart(site: Site, compute_database_url: str, tmp_path: Path) -> None:
    """GIVEN an agent on a server WHEN the server stops and starts again THEN the container ran on and is re-adopted."""
    del site  # only for the engine and the test image
    port = free_port()
    data_dir = tmp_path / "restart-data"
    with _serve_on(compute_database_url, data_dir, port) as url:
        token = httpx.post(f"{url}/api/auth/login", json={"username": "admin", "password": "Harbor-Lantern-Quartz-42"}).json()
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token['access_token']}"}, timeout=30) as http:
            api = Api(http)
            cluster = api.call("POST", "/api/clusters", 201, json={"name": f"restart-{uuid.uuid4().hex[:6]}"})
            node = api.call(
                "POST",
                "/api/nodes",
                201,
                json={
                    "name": f"restart-{uuid.uuid4().hex[:6]}",
                    "cluster_id": cluster["id"],
                    "cpu": 100,
                    "memory_mb": 1024,
                    "disk_mb": 10_000,
                },
            )
            api.call("POST", f"/api/nodes/{node['id']}/allocations", 201, json={"ip": "127.0.0.1", "ports": [str(free_port())]})
            egg_id = api.call("POST", "/api/eggs/import", 201, json=ECHO_EGG)["id"]
            agent = AgentProcess(
                Server(url=url, log=data_dir / "serve.log"), tmp_path / "restart-agent", node["registration_token"]
            )
            agent.start()
            body = {**_create_body(Site(cluster["id"], node["id"], egg_id, agent, [])), "start": True}
            container_id = api.call("POST", "/api/containers", 202, json=body)["container"]["id"]
            wait_for("running", lambda: _state(api, container_id, "running"))
    try:
        started_at = json.loads(_docker("inspect", f"nubes-{container_id}"))[0]["State"]["StartedAt"]
        assert json.loads(_docker("inspect", f"nubes-{container_id}"))[0]["State"]["Running"], (
            "the server is down, the container runs on"
        )
        with _serve_on(compute_database_url, data_dir, port) as url:
            token = httpx.post(f"{url}/api/auth/login", json={"username": "admin", "password": "Harbor-Lantern-Quartz-42"}).json()
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token['access_token']}"}, timeout=30) as http:
                api = Api(http)
                wait_for("the agent back", lambda: api.call("GET", f"/api/nodes/{node['id']}", 200)["status"] == "online")
                assert _state(api, container_id, "running")
                assert len(_docker_ids(container_id)) == 1
                assert json.loads(_docker("inspect", f"nubes-{container_id}"))[0]["State"]["StartedAt"] == started_at
                api.call("DELETE", f"/api/containers/{container_id}", 202)
                wait_for("deleted", lambda: http.get(f"/api/containers/{container_id}").status_code == 404)
    finally:
        agent.stop()
        subprocess.run(["docker", "rm", "-f", f"nubes-{container_id}"], capture_output=True, check=False)


# --- a container's files, through the agent ----------------------------------------------------------


def _files(api: Api, container_id: str) -> str:
    return f"/api/containers/{container_id}/files"


def test_container_files_through_the_agent(api: Api, site: Site) -> None:
    container_id = _create(api, site, start=False)["container"]["id"]
    wait_for("installed", lambda: _state(api, container_id, "stopped"))
    base = _files(api, container_id)
    listed = api.call("GET", base, 200)
    assert [(entry["name"], entry["kind"]) for entry in listed["entries"]] == [("installed.txt", "file")]
    assert api.http.get(f"{base}/content", params={"path": "installed.txt"}).content == b"hello\n"

    # Writing into a folder that does not exist is refused; after mkdir it works.
    missing = api.http.put(f"{base}/content", params={"path": "config/server.properties"}, content=b"motd=hi\n")
    assert missing.status_code == 404, missing.text
    assert api.call("POST", f"{base}/mkdir", 201, json={"path": "config"})["kind"] == "directory"
    written = api.call("PUT", f"{base}/content", 200, params={"path": "config/server.properties"}, content=b"motd=hi\n")
    assert written["size"] == 8
    # A larger file goes over the agent socket in several chunks and arrives whole.
    big = os.urandom(700_000)
    api.call("PUT", f"{base}/content", 200, params={"path": "config/world.bin"}, content=big)
    assert api.http.get(f"{base}/content", params={"path": "config/world.bin"}).content == big
    volume = site.agent.state_dir / "volumes" / container_id
    assert (volume / "config" / "server.properties").read_bytes() == b"motd=hi\n"
    assert (volume / "config" / "server.properties").stat().st_uid == 1000, "owned by the container's user"

    moved = api.call("POST", f"{base}/rename", 200, json={"path": "config/server.properties", "target": "server.properties"})
    assert moved["path"] == "server.properties"
    taken = api.http.post(f"{base}/rename", json={"path": "server.properties", "target": "installed.txt"})
    assert taken.status_code == 409
    api.call("DELETE", base, 204, params={"path": "config"})
    names = [entry["name"] for entry in api.call("GET", base, 200)["entries"]]
    assert names == ["installed.txt", "server.properties"]
    assert api.http.get(f"{base}/content", params={"path": "config/world.bin"}).status_code == 404

    # The container sees what was written, at its home.
    _power(api, container_id, "start")
    wait_for("running", lambda: _state(api, container_id, "running"))
    assert "motd=hi" in _docker("exec", f"nubes-{container_id}", "cat", "/home/container/server.properties")


def test_container_file_names_follow_the_cloud_s_rules_and_any_name_downloads_safely(api: Api, site: Site) -> None:
    """GIVEN a file the container itself named with CR, LF, a quote and a semicolon WHEN it is downloaded THEN one
    safe Content-Disposition line that carries the exact name; and no write path creates such a name."""
    container_id = _create(api, site)["container"]["id"]
    wait_for("running", lambda: _state(api, container_id, "running"))
    base = _files(api, container_id)
    weird = 'report\r\nSet-Cookie: x=1; "evil".txt'
    _docker("exec", f"nubes-{container_id}", "sh", "-c", 'printf made-inside > "/home/container/$1"', "sh", weird)
    assert weird in [entry["name"] for entry in api.call("GET", base, 200)["entries"]]
    downloaded = api.http.get(f"{base}/content", params={"path": weird})
    assert downloaded.status_code == 200, downloaded.text
    assert downloaded.content == b"made-inside"
    assert "set-cookie" not in downloaded.headers
    disposition = downloaded.headers.get_list("content-disposition")
    assert len(disposition) == 1
    assert disposition[0].isascii()
    assert disposition[0].isprintable()
    assert disposition[0].endswith("filename*=UTF-8''" + quote(weird, safe=""))

    volume = site.agent.state_dir / "volumes" / container_id
    for bad in ("a\r\nb.txt", "tab\there", "nul\x01"):
        assert api.http.put(f"{base}/content", params={"path": bad}, content=b"x").status_code == 422
        assert api.http.post(f"{base}/mkdir", json={"path": bad}).status_code == 422
        assert api.http.post(f"{base}/rename", json={"path": weird, "target": bad}).status_code == 422
        assert not (volume / bad).exists()
    assert api.call("POST", f"{base}/rename", 200, json={"path": weird, "target": "report.txt"})["path"] == "report.txt"


def test_container_files_refuse_every_way_out(api: Api, site: Site) -> None:
    limits = {"cpu": 50, "memory_mb": 96, "disk_mb": 1, "pids": 64}
    container_id = _create(api, site, start=False, limits=limits)["container"]["id"]
    wait_for("installed", lambda: _state(api, container_id, "stopped"))
    base = str(api.http.base_url).rstrip("/") + _files(api, container_id)
    volume = site.agent.state_dir / "volumes" / container_id
    (volume / "to-root").symlink_to("/")
    (volume / "up").symlink_to("..")
    hostile = {
        "content?path=../../etc/passwd": 400,
        "content?path=%2e%2e%2f%2e%2e%2fetc%2fpasswd": 400,
        "content?path=%2Fetc%2Fpasswd": 400,
        "content?path=to-root%2Fetc%2Fpasswd": 403,
        "content?path=up%2Fcredential.json": 403,
        "content?path=a%00b": 422,
        "?path=to-root": 403,
        "?path=..": 400,
        "?path=/": 400,
    }
    for suffix, status in hostile.items():
        url = f"{base}/{suffix}" if suffix.startswith("content") else base + suffix
        response = api.http.get(url)
        assert response.status_code == status, f"{suffix}: {response.status_code} {response.text}"
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "root:x:0" not in response.text
    for body in ({"path": "up/escaped"}, {"path": "to-root/tmp/escaped"}, {"path": "../escaped"}):
        assert api.http.post(f"{base}/mkdir", json=body).status_code in {400, 403}
    assert api.http.post(f"{base}/rename", json={"path": "installed.txt", "target": "up/stolen.txt"}).status_code == 403
    assert api.http.put(f"{base}/content", params={"path": "up/planted.txt"}, content=b"x").status_code == 403
    assert not (volume.parent / "escaped").exists()
    assert not (volume.parent / "stolen.txt").exists()
    assert not (volume.parent / "planted.txt").exists()
    assert (volume / "installed.txt").exists()

    # Beyond the container's disk limit (1 MiB): refused, declared or streamed, and no part file stays behind.
    too_big = api.http.put(f"{base}/content", params={"path": "big.bin"}, content=b"\0" * (2 * 1024 * 1024))
    assert too_big.status_code == 413, too_big.text

    def stream() -> Iterator[bytes]:
        for _ in range(8):
            yield b"\0" * 262_144

    streamed = api.http.put(f"{base}/content", params={"path": "big.bin"}, content=stream())
    assert streamed.status_code == 413, streamed.text
    assert sorted(path.name for path in volume.iterdir()) == ["installed.txt", "to-root", "up"]

    # A symlink swapped in during a loop of reads: each read gives the file inside or a refusal, never /etc/passwd.
    (volume / "inside.txt").write_text("inside\n")
    stop = False

    def racer() -> None:
        while not stop:
            link = volume / ".race.tmp"
            link.unlink(missing_ok=True)
            link.symlink_to("/etc/passwd")
            link.replace(volume / "race")
            (volume / "race").unlink()
            os.link(volume / "inside.txt", volume / "race")

    thread = threading.Thread(target=racer, daemon=True)
    thread.start()
    outcomes: dict[int, int] = {}
    try:
        for _ in range(150):
            response = api.http.get(f"{base}/content", params={"path": "race"})
            outcomes[response.status_code] = outcomes.get(response.status_code, 0) + 1
            assert b"root:x:0" not in response.content
            if response.status_code == 200:
                assert response.content == b"inside\n"
            else:
                assert response.status_code in {403, 404}, response.text
    finally:
        stop = True
        thread.join(timeout=10)
    assert outcomes.get(200), f"no read got the file: {outcomes}"
    assert set(outcomes) - {200}, f"the racer never won a round: {outcomes}"


def _gave_up(api: Api, container_id: str) -> dict[str, Any] | None:
    found = _state(api, container_id, "crashed")
    return found if found and "gave up" in found["state_reason"] else None


def test_a_crashing_container_is_restarted_then_left_crashed(api: Api, site: Site) -> None:
    crashing = egg(name="Crash loop", startup="echo dying; sleep 1; exit 7")
    egg_id = api.call("POST", "/api/eggs/import", 201, json=crashing)["id"]
    policy = {"mode": "on-crash", "max_retries": 2, "window_seconds": 600, "backoff_seconds": 1}
    container_id = _create(api, site, egg_id=egg_id, environment={}, restart=policy)["container"]["id"]
    container = wait_for("auto-restart to give up", lambda: _gave_up(api, container_id), within=180)
    assert "Crashed 3 times" in container["state_reason"]
    assert "exited with code 7" in container["state_reason"] or "right after starting" in container["state_reason"]
    assert container["desired_state"] == "stopped"
    jobs = api.call("GET", "/api/jobs", 200, params={"container_id": container_id})["items"]
    restarts = [job for job in jobs if job["actor_name"] == "auto-restart"]
    assert len(restarts) == 2
    assert {job["action"] for job in restarts} == {"start"}
    assert {job["status"] for job in restarts} == {"succeeded"}
    assert all("after a crash" in job["output"] for job in restarts)
    logs = api.call("GET", f"/api/containers/{container_id}/logs?tail=10", 200)["lines"]
    assert logs.count("dying") == 3, logs
    assert not json.loads(_docker("inspect", f"nubes-{container_id}"))[0]["State"]["Running"]

    # A container with the default policy (never) that crashes stays crashed, with no restart job.
    never = _create(api, site, name="never", egg_id=egg_id, environment={})["container"]["id"]
    wait_for("crashed", lambda: _state(api, never, "crashed"))
    jobs = api.call("GET", "/api/jobs", 200, params={"container_id": never})["items"]
    assert [job["action"] for job in reversed(jobs)] == ["create", "start"]


# --- the embedded node -------------------------------------------------------------------------------


def _local_node(server: Server) -> dict[str, Any] | None:
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.admin_token()}"}, timeout=30) as http:
        nodes = [node for node in http.get("/api/nodes").json() if node["name"] == "local"]
        assert len(nodes) <= 1
        return nodes[0] if nodes and nodes[0]["status"] == "online" else None


def test_serve_with_a_docker_engine_runs_node_local(docker_engine: None, compute_database_url: str, tmp_path: Path) -> None:
    """GIVEN a reachable Docker Engine WHEN `nubes serve` starts with NUBES_LOCAL_AGENT=auto THEN node `local` is online;
    AND a restart finds the same node, cluster and credential (idempotent)."""
    del docker_engine
    data_dir = tmp_path / "embedded"
    data_dir.mkdir()
    with serve(compute_database_url, data_dir, NUBES_LOCAL_AGENT="auto") as running:
        node = wait_for("node local online", lambda: _local_node(running))
        credential_file = data_dir / "local-agent" / "credential.json"
        assert credential_file.stat().st_mode & 0o777 == 0o600
        with httpx.Client(base_url=running.url, headers={"Authorization": f"Bearer {running.admin_token()}"}) as http:
            clusters = {cluster["name"]: cluster["id"] for cluster in http.get("/api/clusters").json()}
            assert node["cluster_id"] == clusters["default"]
            assert len(http.get(f"/api/nodes/{node['id']}/allocations").json()) == 10
    credential = json.loads(credential_file.read_text())["credential"]
    with serve(compute_database_url, data_dir, NUBES_LOCAL_AGENT="auto") as running:
        again = wait_for("node local online again", lambda: _local_node(running))
        assert again["id"] == node["id"]
        assert json.loads(credential_file.read_text())["credential"] == credential
        with httpx.Client(base_url=running.url, headers={"Authorization": f"Bearer {running.admin_token()}"}) as http:
            assert [cluster["name"] for cluster in http.get("/api/clusters").json()].count("default") == 1
    # Off means off: no agent connects.
    with serve(compute_database_url, data_dir, NUBES_LOCAL_AGENT="off") as running:
        token = running.admin_token()
        with httpx.Client(base_url=running.url, headers={"Authorization": f"Bearer {token}"}) as http:
            assert http.get(f"/api/nodes/{node['id']}").json()["status"] == "offline"

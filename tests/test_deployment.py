"""The reference deployment (tests/deploy.py), on loopback: nginx round robin in front of three `nubes serve` replicas
and `nubes worker` processes, all on one PostgreSQL database, one S3 bucket (moto's server) and one Redis. Through the
load balancer: which replica answers, sign-in and refresh rotation with reuse detection, the client address a trusted
proxy reports, files, shares and links written on one replica and read on the others, replicas and workers killed, Redis
going away and coming back, the sweep run once per interval, and containers driven through two real agents.

PostgreSQL only: the deployment's engine (SQLite is the one-process default).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
import secrets
import signal
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.compute.across import drive_a_container
from tests.compute.test_docker import docker_engine
from tests.conftest import ENGINES, empty_database
from tests.core.test_worker_process import a_png
from tests.deploy import REPLICAS, SWEEP_INTERVAL, Deployment, alive_one, log_events, reference_deployment
from tests.files.conftest import moto_url

pytestmark = [
    pytest.mark.timeout(300),  # five processes start on a machine the other workers keep busy
    pytest.mark.parametrize("engine_name", [engine for engine in ENGINES if engine == "postgresql"], indirect=True),
]
__all__ = ["docker_engine", "moto_url"]  # the fixtures, imported for this module


@pytest.fixture(scope="module")
async def deployment_database_url(engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    async with empty_database(engine_name, tmp_path_factory.mktemp("unused") / "nubes.db") as url:
        yield url


@pytest.fixture(scope="module")
def deployment(deployment_database_url: str, moto_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with reference_deployment(deployment_database_url, moto_url, tmp_path_factory.mktemp("deployment")) as running:
        yield running


PASSWORD = "Quiet-Harbor-Lantern-31"


def test_the_load_balancer_spreads_requests_and_every_replica_is_ready(deployment: Deployment) -> None:
    answered = [httpx.get(f"{deployment.url}/api/version").json()["replica"] for _ in range(REPLICAS * 4)]
    assert len(set(answered)) == deployment.alive()
    # Each replica itself (through nginx, with replicas killed by other tests, the one left may be marked failed for
    # `fail_timeout` after a dropped keep-alive connection: nginx's own answer then, 502, is not a replica's).
    for replica in deployment.replicas:
        if alive_one(replica):
            ready = httpx.get(f"{replica.url}/api/ready", timeout=30).json()
            assert ready["status"] == "ready"
            assert ready["checks"]["redis"]["ok"] is True


def test_sign_in_refresh_rotation_and_reuse_detection_across_replicas(deployment: Deployment) -> None:
    admin = deployment.replicas[0]
    login = {"username": admin.admin_username, "password": admin.admin_password}
    # The client claims an address; nginx appends the one it saw, and Nubes trusts nginx only.
    signed_in = httpx.post(f"{deployment.url}/api/auth/login", json=login, headers={"X-Forwarded-For": "6.6.6.6"})
    assert signed_in.status_code == 200, signed_in.text
    first = signed_in.json()
    bearer = {"Authorization": f"Bearer {first['access_token']}"}
    sessions = httpx.get(f"{deployment.url}/api/users/me/sessions", headers=bearer).json()
    assert [entry["ip"] for entry in sessions if entry["current"]] == ["127.0.0.1"]

    rotated = httpx.post(f"{deployment.url}/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    # The old refresh token again, on whichever replica: reuse; the whole family ends, the new token with it.
    reused = httpx.post(f"{deployment.url}/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401
    after = httpx.post(f"{deployment.url}/api/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert after.status_code == 401
    for _ in range(deployment.alive()):  # every replica refuses the family's access token at once (the principal cache drops it)
        me = httpx.get(f"{deployment.url}/api/users/me", headers={"Authorization": f"Bearer {second['access_token']}"})
        assert me.status_code == 401


def test_files_written_on_one_replica_are_read_on_every_other(deployment: Deployment) -> None:
    token = deployment.replicas[0].admin_token()
    bearer = {"Authorization": f"Bearer {token}"}
    names = {f"note-{index}.txt": secrets.token_bytes(2000 + index) for index in range(REPLICAS * 2)}
    with httpx.Client(base_url=deployment.url, headers=bearer, timeout=30) as http:
        folder = http.post("/api/files/folders", json={"name": f"deploy-{secrets.token_hex(3)}"}).json()["id"]
        ids = {}
        for name, data in names.items():  # round robin: each upload on the next replica
            made = http.post("/api/files/upload/raw", params={"name": name, "parent_id": folder}, content=data)
            assert made.status_code == 201, made.text
            ids[name] = made.json()["id"]
        for _ in range(deployment.alive()):
            listing = http.get("/api/files", params={"parent_id": folder}).json()
            assert sorted(item["name"] for item in listing["items"]) == sorted(names)
        for name, data in names.items():
            assert http.get(f"/api/files/{ids[name]}/content").content == data

        # A share with a member (made on one replica, listed and read through the others) and a password link.
        member = http.post("/api/admin/users", json={"username": f"deploy-{secrets.token_hex(3)}", "password": PASSWORD})
        assert member.status_code == 201, member.text
        shared = http.post(f"/api/files/{folder}/shares", json={"user_id": member.json()["id"], "permission": "view"})
        assert shared.status_code == 201, shared.text
        link = http.post(f"/api/files/{ids['note-0.txt']}/links", json={"password": PASSWORD})
        assert link.status_code == 201, link.text
    member_login = {"username": member.json()["username"], "password": PASSWORD}
    member_token = httpx.post(f"{deployment.url}/api/auth/login", json=member_login).json()["access_token"]
    with httpx.Client(base_url=deployment.url, headers={"Authorization": f"Bearer {member_token}"}, timeout=30) as http:
        for _ in range(deployment.alive()):
            with_me = http.get("/api/shares/with-me").json()
            assert [item["node"]["id"] for item in with_me["items"]] == [folder]
            assert http.get(f"/api/files/{ids['note-1.txt']}/content").content == names["note-1.txt"]
    token = link.json()["token"]
    with httpx.Client(base_url=deployment.url, timeout=30) as stranger:  # no account; the unlock cookie works everywhere
        assert stranger.get(f"/api/public/links/{token}/content").status_code == 401
        unlocked = stranger.post(
            f"/api/public/links/{token}/unlock", json={"password": PASSWORD}, headers={"Origin": deployment.url}
        )
        assert unlocked.status_code == 200, unlocked.text
        for _ in range(deployment.alive()):
            assert stranger.get(f"/api/public/links/{token}/content").content == names["note-0.txt"]


def test_a_replica_killed_is_routed_around(deployment: Deployment) -> None:
    victim = deployment.replicas[-1]
    os.kill(victim.pid, signal.SIGKILL)
    token = deployment.replicas[0].admin_token()
    with httpx.Client(base_url=deployment.url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        answers = [http.get("/api/users/me").status_code for _ in range(REPLICAS * 3)]
        replicas = {http.get("/api/version").json()["replica"] for _ in range(REPLICAS * 3)}
        made = http.post("/api/files/folders", json={"name": f"after-the-kill-{secrets.token_hex(3)}"})
    assert answers == [200] * (REPLICAS * 3)
    assert len(replicas) == deployment.alive() < REPLICAS
    assert made.status_code == 201, made.text


CHUNK = 6 * 2**20  # S3's multipart parts are at least 5 MiB, but the last


def tus_headers(bearer: dict[str, str], **extra: str) -> dict[str, str]:
    return {**bearer, "Tus-Resumable": "1.0.0", **extra}


def test_a_tus_upload_survives_the_replica_that_was_receiving_it(deployment: Deployment) -> None:
    """Chunks land on different replicas; the one receiving the second chunk is SIGKILLed mid-chunk; the client
    asks the balancer for the offset and resumes there, and the file is whole."""
    data = secrets.token_bytes(3 * CHUNK)
    bearer = {"Authorization": f"Bearer {deployment.replicas[0].admin_token()}"}
    meta = f"filename {base64.b64encode(b'resumed.bin').decode()}"
    created = httpx.post(
        f"{deployment.url}/api/uploads", headers=tus_headers(bearer, **{"Upload-Length": str(len(data)), "Upload-Metadata": meta})
    )
    assert created.status_code == 201, created.text
    path = created.headers["Location"]

    def patch(base: str, offset: int, body: bytes | Iterator[bytes]) -> httpx.Response:
        headers = tus_headers(bearer, **{"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"})
        if not isinstance(body, bytes):
            headers["Content-Length"] = str(CHUNK)
        return httpx.patch(f"{base}{path}", content=body, headers=headers, timeout=60)

    assert patch(deployment.url, 0, data[:CHUNK]).status_code == 204
    victim = next(replica for replica in reversed(deployment.replicas) if alive_one(replica))

    def dying() -> Iterator[bytes]:
        yield data[CHUNK : CHUNK + 2**20]
        yield data[CHUNK + 2**20 : CHUNK + 2 * 2**20]
        os.kill(victim.pid, signal.SIGKILL)  # two MiB of the chunk sent, the rest never arrives
        yield data[CHUNK + 2 * 2**20 : 2 * CHUNK]

    with pytest.raises(httpx.TransportError):
        patch(victim.url, CHUNK, dying())
    offset = int(httpx.head(f"{deployment.url}{path}", headers=tus_headers(bearer)).headers["Upload-Offset"])
    assert offset == CHUNK  # nothing of the cut chunk was acknowledged, so nothing of it counts
    assert patch(deployment.url, offset, data[offset : 2 * CHUNK]).status_code == 204
    assert patch(deployment.url, 2 * CHUNK, data[2 * CHUNK :]).status_code == 204
    with httpx.Client(base_url=deployment.url, headers=bearer, timeout=60) as http:
        found = http.get("/api/files/search", params={"q": "resumed"}).json()["items"]
        assert [item["size"] for item in found] == [len(data)]
        assert (
            hashlib.sha256(http.get(f"/api/files/{found[0]['id']}/content").content).hexdigest()
            == hashlib.sha256(data).hexdigest()
        )


@pytest.mark.docker
def test_a_container_driven_through_the_balancer_whatever_replica_holds_its_agent(
    docker_engine: None, deployment: Deployment, tmp_path: Path
) -> None:
    """Two agents' WebSockets go through nginx to some replicas; the API, the logs, the files and a browser console go
    through nginx to whichever replica comes next, which reaches the agent through Redis when it does not hold it.
    Then a second admin with a console open on every replica is deactivated: every console closes."""
    admin = deployment.admin()
    drive_a_container(
        api_url=deployment.url,
        agent_url=deployment.url,
        sign_out_url=deployment.url,
        admin=admin,
        workdir=tmp_path,
        replica_urls=[replica.url for replica in deployment.replicas if alive_one(replica)],
        agents=2,
    )


class StallingProxy:
    """A TCP forwarder to one address that can stop forwarding (an S3 endpoint that hangs), in a thread."""

    def __init__(self, target: tuple[str, int]) -> None:
        self._target = target
        self._flowing = threading.Event()
        self._flowing.set()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._server.getsockname()[1]
        self.stalled_requests = 0  # requests that arrived while stalled
        threading.Thread(target=self._accept, daemon=True).start()

    def stall(self) -> None:
        self._flowing.clear()

    def close(self) -> None:
        self._server.close()
        self._flowing.set()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self._target)
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, request: bool) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if request and not self._flowing.is_set():
                    self.stalled_requests += 1
                self._flowing.wait()
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


def thumbnail_attempts(database_url: str, file_id: str) -> int | None:
    """How many times a worker claimed the file's thumbnail job (None: no job)."""

    async def read() -> int | None:
        connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            value: int | None = await connection.fetchval(
                "SELECT attempts FROM file_thumbnails WHERE file_id = $1", uuid.UUID(file_id)
            )
            return value
        finally:
            await connection.close()

    return asyncio.run(read())


def test_a_job_whose_worker_is_killed_is_finished_by_another(deployment: Deployment, moto_url: str, tmp_path: Path) -> None:
    """A worker whose S3 hangs claims a thumbnail job and is SIGKILLed mid-job; once its lease (NUBES_JOB_LEASE) ends,
    the deployment's own worker claims the job again and makes the thumbnail."""
    standing = [worker for worker in deployment.workers if alive_one(worker)]
    assert standing
    for worker in standing:  # frozen, so the doomed worker is the one to claim the job
        os.kill(worker.pid, signal.SIGSTOP)
    moto = httpx.URL(moto_url)
    proxy = StallingProxy((moto.host, moto.port or 80))
    try:
        storage = deployment.env["NUBES_STORAGE_URL"].replace(moto_url, f"http://127.0.0.1:{proxy.port}")
        # Its sweep chore off: killed holding the sweep's lease, it would stop the install's sweeps for that lease.
        with deployment.start_worker(tmp_path, NUBES_STORAGE_URL=storage, NUBES_SWEEP_INTERVAL="86400") as doomed:
            proxy.stall()
            bearer = {"Authorization": f"Bearer {deployment.admin().admin_token()}"}
            made = httpx.post(
                f"{deployment.url}/api/files/upload/raw", params={"name": "killed-mid-job.png"}, content=a_png(), headers=bearer
            )
            assert made.status_code == 201, made.text
            file_id = made.json()["id"]
            deadline = time.monotonic() + 60
            while thumbnail_attempts(deployment.database_url, file_id) != 1 or not proxy.stalled_requests:
                assert time.monotonic() < deadline, "the doomed worker did not claim the job and ask S3 for the image"
                time.sleep(0.1)
            os.kill(doomed.pid, signal.SIGKILL)
    finally:
        for worker in standing:
            os.kill(worker.pid, signal.SIGCONT)
        proxy.close()
    thumbnail = f"{deployment.url}/api/files/{file_id}/thumbnail"
    deadline = time.monotonic() + 90  # the lease, then the worker's next round (it polls every 30 s)
    while (answer := httpx.get(thumbnail, headers=bearer)).status_code != 200:
        assert answer.status_code == 404, answer.text
        assert time.monotonic() < deadline, "no other worker finished the killed worker's job"
        time.sleep(0.5)
    assert answer.headers["content-type"] == "image/webp"
    assert thumbnail_attempts(deployment.database_url, file_id) == 2  # the killed worker's claim, then the other's


def sweeps(log: Path, since: datetime) -> list[datetime]:
    """When the process of `log` swept, from `since` on."""
    times = [datetime.fromisoformat(event["timestamp"]) for event in log_events(log) if event.get("event") == "files.swept"]
    return [moment for moment in times if moment >= since]


def test_the_sweep_runs_once_per_interval_across_processes(deployment: Deployment, tmp_path: Path) -> None:
    """Two workers run the sweep chore every SWEEP_INTERVAL seconds: one of them sweeps for the install (its lease)."""
    with deployment.start_worker(tmp_path) as second:
        workers = [worker for worker in [*deployment.workers, second] if alive_one(worker)]
        assert len(workers) >= 2
        since = datetime.now(UTC)
        time.sleep(8 * SWEEP_INTERVAL)
        until = datetime.now(UTC)
        swept = {worker.pid: [moment for moment in sweeps(worker.log, since) if moment <= until] for worker in workers}
    rounds = sum(len(moments) for moments in swept.values())
    seconds = (until - since).total_seconds()
    assert 2 <= rounds <= seconds / SWEEP_INTERVAL + 1, swept  # both workers sweeping would make twice as many
    assert sum(1 for moments in swept.values() if moments) == 1, swept  # the lease holder keeps it while it lives
    replicas_swept = [event for replica in deployment.replicas for event in sweeps(replica.log, since)]
    assert replicas_swept == []  # NUBES_JOBS=false on the web replicas


def test_redis_going_away_degrades_and_recovers(deployment: Deployment) -> None:
    """Redis stops: the replicas report not ready but keep serving (sign-in, reads, writes, sign-out from the
    database); it comes back on the same address: ready again, and revocations reach every replica again."""
    admin = deployment.admin()
    login = {"username": admin.admin_username, "password": admin.admin_password}
    replicas = [replica for replica in deployment.replicas if alive_one(replica)]
    # A session every replica has cached, to be signed out while Redis is away through one replica only.
    cached = httpx.post(f"{deployment.url}/api/auth/login", json=login).json()
    cached_bearer = {"Authorization": f"Bearer {cached['access_token']}"}
    for replica in replicas:
        for _ in range(2):
            assert httpx.get(f"{replica.url}/api/users/me", headers=cached_bearer).status_code == 200
    deployment.redis.stop()
    try:
        ended = httpx.post(f"{replicas[0].url}/api/auth/logout", json={"refresh_token": cached["refresh_token"]}, timeout=30)
        assert ended.status_code == 204, ended.text
        for replica in replicas:
            ready = httpx.get(f"{replica.url}/api/ready", timeout=30)
            assert ready.status_code == 503, ready.text
            assert ready.json()["checks"]["redis"]["ok"] is False
        signed_in = httpx.post(f"{deployment.url}/api/auth/login", json=login, timeout=30)
        assert signed_in.status_code == 200, signed_in.text
        tokens = signed_in.json()
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        for replica in replicas:
            assert httpx.get(f"{replica.url}/api/users/me", headers=bearer, timeout=30).status_code == 200
        made = httpx.post(
            f"{deployment.url}/api/files/folders", json={"name": f"redis-away-{secrets.token_hex(3)}"}, headers=bearer, timeout=30
        )
        assert made.status_code == 201, made.text
        # A sign-out while Redis is away: every replica refuses the session's access token (they read the database).
        assert httpx.post(f"{deployment.url}/api/auth/logout", json={"refresh_token": tokens["refresh_token"]}).status_code == 204
        for replica in replicas:
            assert httpx.get(f"{replica.url}/api/users/me", headers=bearer, timeout=30).status_code == 401
    finally:
        deployment.redis.start()
    deadline = time.monotonic() + 60
    for replica in replicas:
        while httpx.get(f"{replica.url}/api/ready", timeout=30).status_code != 200:
            assert time.monotonic() < deadline, f"{replica.url} is not ready again a minute after Redis came back"
            time.sleep(0.5)
    for replica in replicas:  # Redis kept its counters (persistent), but not the bump that could not be sent
        assert httpx.get(f"{replica.url}/api/users/me", headers=cached_bearer).status_code == 401
    # Back: a session cached on every replica, signed out through one, is refused by all of them at once.
    tokens = httpx.post(f"{deployment.url}/api/auth/login", json=login).json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    for replica in replicas:
        for _ in range(2):  # the second answer comes from the replica's principal cache
            assert httpx.get(f"{replica.url}/api/users/me", headers=bearer).status_code == 200
    assert httpx.post(f"{deployment.url}/api/auth/logout", json={"refresh_token": tokens["refresh_token"]}).status_code == 204
    for replica in replicas:
        assert httpx.get(f"{replica.url}/api/users/me", headers=bearer).status_code == 401

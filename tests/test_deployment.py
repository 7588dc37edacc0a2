"""The reference deployment, on loopback: nginx (Debian's, with deploy/nginx.conf) round robin in front of three
`nubes serve` replicas and one `nubes worker`, all on one PostgreSQL database, one S3 bucket (moto's server) and one
Redis. Through the load balancer: which replica answers, sign-in and refresh rotation with reuse detection, the
client address a trusted proxy reports, files written on one replica and read on the others, and a replica killed.

PostgreSQL only: the deployment's engine (SQLite is the one-process default).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import re
import secrets
import shutil
import signal
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.compute.across import drive_a_container
from tests.compute.test_docker import docker_engine
from tests.conftest import ENGINES, empty_database
from tests.files.conftest import moto_url
from tests.serving import Server, free_port, redis_server, run_worker, serve, stop_process

pytestmark = [
    pytest.mark.timeout(300),  # five processes start on a machine the other workers keep busy
    pytest.mark.parametrize("engine_name", [engine for engine in ENGINES if engine == "postgresql"], indirect=True),
]
__all__ = ["docker_engine", "moto_url"]  # the fixtures, imported for this module

ROOT = Path(__file__).resolve().parents[1]
NGINX = "/usr/sbin/nginx"
REPLICAS = 3
PROXY_ADDRESS = "127.0.0.2"


@dataclass
class Deployment:
    """The load balancer's URL, the replicas behind it and the Redis they share."""

    url: str
    replicas: list[Server]


@pytest.fixture(scope="module")
async def deployment_database_url(engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    async with empty_database(engine_name, tmp_path_factory.mktemp("unused") / "nubes.db") as url:
        yield url


def nginx_config(home: Path, port: int, upstreams: list[str]) -> Path:
    """deploy/nginx.conf with loopback replicas and port, inside a main config that runs nginx as this user."""
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    lines = "\n".join(f"    server {upstream} max_fails=1 fail_timeout=5s;" for upstream in upstreams)
    replica_lines = r"(?m)^    server 10\.0\.0\.\d+:8000 .*;\n(?:    server 10\.0\.0\.\d+:8000 .*;\n)*"
    site, replaced = re.subn(replica_lines, lines + "\n", site)
    assert replaced == 1, "deploy/nginx.conf lists its replicas as `server 10.0.0.x:8000 ...;` lines"
    site = site.replace("    listen 80;", f"    listen 127.0.0.1:{port};")
    # nginx reaches the replicas from its own address, as on a real network, so that the client (127.0.0.1) is not
    # a trusted proxy itself: NUBES_TRUSTED_PROXIES names 127.0.0.2 only.
    bound = f"        proxy_pass http://nubes;\n        proxy_bind {PROXY_ADDRESS};"
    site = site.replace("        proxy_pass http://nubes;", bound)
    (home / "nubes.conf").write_text(site)
    temp = "\n".join(f"    {name}_temp_path {home / name};" for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    main = home / "nginx.conf"
    main.write_text(
        f"daemon off;\nmaster_process off;\nworker_processes 1;\npid {home / 'nginx.pid'};\n"
        f"error_log {home / 'error.log'} warn;\nevents {{ worker_connections 256; }}\n"
        f"http {{\n    access_log off;\n{temp}\n    include {home / 'nubes.conf'};\n}}\n"
    )
    return main


@pytest.fixture(scope="module")
def deployment(deployment_database_url: str, moto_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    if not shutil.which(NGINX):
        pytest.fail("nginx is not installed: run the suite with `make test`, which installs it")
    bucket = f"deploy-{secrets.token_hex(4)}"
    httpx.put(f"{moto_url}/{bucket}").raise_for_status()
    with contextlib.ExitStack() as stack:
        redis_url = stack.enter_context(redis_server(tmp_path_factory.mktemp("deploy-redis")))
        port = free_port()  # the balancer's, known before the replicas start: it is their public URL
        url = f"http://127.0.0.1:{port}"
        shared = {
            "NUBES_PUBLIC_URL": url,
            "NUBES_STORAGE_URL": f"s3://{bucket}?endpoint={moto_url}&access_key_id=test&secret_access_key=test&region=us-east-1",
            "NUBES_REDIS_URL": redis_url,
            "NUBES_SECRET_KEY": "one-secret-for-every-process-of-the-deployment",
            "NUBES_TRUSTED_PROXIES": PROXY_ADDRESS,
        }
        replicas = [
            stack.enter_context(
                serve(deployment_database_url, tmp_path_factory.mktemp(f"replica-{index}"), NUBES_JOBS="false", **shared)
            )
            for index in range(REPLICAS)
        ]
        stack.enter_context(run_worker(deployment_database_url, tmp_path_factory.mktemp("deploy-worker"), **shared))
        home = tmp_path_factory.mktemp("nginx")
        config = nginx_config(home, port, [replica.url.removeprefix("http://") for replica in replicas])
        env = {key: value for key, value in os.environ.items() if not key.startswith("NUBES_")}
        process = subprocess.Popen([NGINX, "-c", str(config), "-p", str(home)], env=env, stderr=subprocess.STDOUT)
        stack.callback(stop_process, process)
        for _ in range(100):
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/api/ready", timeout=2).status_code == 200:
                    break
            assert process.poll() is None, (home / "error.log").read_text()
            subprocess.run(["sleep", "0.1"], check=True)
        yield Deployment(url=url, replicas=replicas)


def alive_one(replica: Server) -> bool:
    """Whether the replica's process still runs (killed ones are reaped by nobody until the end: check its state)."""
    try:
        state = Path(f"/proc/{replica.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in {"Z", "X"}


def alive(deployment: Deployment) -> int:
    """How many replicas still run (two tests kill one each; the order of tests is not fixed)."""
    return sum(alive_one(replica) for replica in deployment.replicas)


def test_the_load_balancer_spreads_requests_and_every_replica_is_ready(deployment: Deployment) -> None:
    answered = [httpx.get(f"{deployment.url}/api/version").json()["replica"] for _ in range(REPLICAS * 4)]
    assert len(set(answered)) == alive(deployment)
    ready = httpx.get(f"{deployment.url}/api/ready").json()
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
    for _ in range(alive(deployment)):  # every replica refuses the family's access token at once (the principal cache drops it)
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
        for _ in range(alive(deployment)):
            listing = http.get("/api/files", params={"parent_id": folder}).json()
            assert sorted(item["name"] for item in listing["items"]) == sorted(names)
        for name, data in names.items():
            assert http.get(f"/api/files/{ids[name]}/content").content == data


def test_a_replica_killed_is_routed_around(deployment: Deployment) -> None:
    victim = deployment.replicas[-1]
    os.kill(victim.pid, signal.SIGKILL)
    token = deployment.replicas[0].admin_token()
    with httpx.Client(base_url=deployment.url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        answers = [http.get("/api/users/me").status_code for _ in range(REPLICAS * 3)]
        replicas = {http.get("/api/version").json()["replica"] for _ in range(REPLICAS * 3)}
        made = http.post("/api/files/folders", json={"name": f"after-the-kill-{secrets.token_hex(3)}"})
    assert answers == [200] * (REPLICAS * 3)
    assert len(replicas) == alive(deployment) < REPLICAS
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
    """The agent's WebSocket goes through nginx to some replica; the API, the logs, the files and a browser console go
    through nginx to whichever replica comes next, which reaches the agent through Redis when it does not hold it."""
    admin = next(replica for replica in deployment.replicas if alive_one(replica))
    drive_a_container(
        api_url=deployment.url, agent_url=deployment.url, sign_out_url=deployment.url, admin=admin, workdir=tmp_path
    )

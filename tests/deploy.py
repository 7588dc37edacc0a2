"""The reference deployment, on loopback, for the tests that run through it: nginx (Debian's, with deploy/nginx.conf)
round robin in front of three `nubes serve` replicas and one `nubes worker`, all on one PostgreSQL database, one S3
bucket (moto's server) and one Redis (which a test may stop and start again)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.serving import RedisProcess, Server, WorkerProcess, free_port, redis_process, run_worker, serve, stop_process

ROOT = Path(__file__).resolve().parents[1]
NGINX = "/usr/sbin/nginx"
REPLICAS = 3
PROXY_ADDRESS = "127.0.0.2"
JOB_LEASE = 4
"""Seconds a worker holds a job it claimed (NUBES_JOB_LEASE): short, so a killed worker's job is retried soon."""
SWEEP_INTERVAL = 1
"""Seconds between sweeps (NUBES_SWEEP_INTERVAL): short, so a test can count rounds across processes."""


@dataclass
class Deployment:
    """The load balancer's URL, the processes behind it, and what they share."""

    url: str
    replicas: list[Server]
    workers: list[WorkerProcess]
    redis: RedisProcess
    database_url: str
    env: dict[str, str] = field(default_factory=dict)  # what every process of the deployment is configured with

    def admin(self) -> Server:
        """A replica still running, with the first admin's credentials (its URL is the replica's own)."""
        return next(replica for replica in self.replicas if alive_one(replica))

    def alive(self) -> int:
        """How many replicas still run (tests kill some; the order of tests is not fixed)."""
        return sum(alive_one(replica) for replica in self.replicas)

    def start_worker(self, data_dir: Path, **env: str) -> contextlib.AbstractContextManager[WorkerProcess]:
        """One more `nubes worker` of the deployment (its settings overridden by `env`)."""
        return run_worker(self.database_url, data_dir, **(self.env | env))


def alive_one(process: Server | WorkerProcess) -> bool:
    """Whether the process still runs (killed ones are reaped by nobody until the end: check its state)."""
    try:
        state = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in {"Z", "X"}


def log_events(log: Path) -> list[dict[str, Any]]:
    """The JSON log lines of a process."""
    return [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]


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


@contextlib.contextmanager
def reference_deployment(
    database_url: str, moto_url: str, home: Path, *, public_host: str = "127.0.0.1", **env: str
) -> Iterator[Deployment]:
    """Start the deployment in `home` on an empty database (`env` adds settings to every process); stop it on exit.

    `public_host` is the balancer's name in its URL and NUBES_PUBLIC_URL (it listens on 127.0.0.1 either way): the
    browser tests use `localhost`, as WebAuthn refuses an IP address as relying party.
    """
    if not shutil.which(NGINX):
        pytest.fail("nginx is not installed: run the suite with `make test`, which installs it")
    bucket = f"deploy-{secrets.token_hex(4)}"
    httpx.put(f"{moto_url}/{bucket}").raise_for_status()
    with contextlib.ExitStack() as stack:
        (home / "redis").mkdir()
        redis = stack.enter_context(redis_process(home / "redis", persistent=True))
        port = free_port()  # the balancer's, known before the replicas start: it is their public URL
        url = f"http://{public_host}:{port}"
        shared = {
            "NUBES_PUBLIC_URL": url,
            "NUBES_STORAGE_URL": f"s3://{bucket}?endpoint={moto_url}&access_key_id=test&secret_access_key=test&region=us-east-1",
            "NUBES_REDIS_URL": redis.url,
            "NUBES_SECRET_KEY": "one-secret-for-every-process-of-the-deployment",
            "NUBES_TRUSTED_PROXIES": PROXY_ADDRESS,
            "NUBES_JOB_LEASE": str(JOB_LEASE),
            "NUBES_SWEEP_INTERVAL": str(SWEEP_INTERVAL),
            **env,
        }
        replicas = []
        for index in range(REPLICAS):
            (home / f"replica-{index}").mkdir()
            replicas.append(stack.enter_context(serve(database_url, home / f"replica-{index}", NUBES_JOBS="false", **shared)))
        (home / "worker").mkdir()
        worker = stack.enter_context(run_worker(database_url, home / "worker", **shared))
        (home / "nginx").mkdir()
        config = nginx_config(home / "nginx", port, [replica.url.removeprefix("http://") for replica in replicas])
        clean_env = {key: value for key, value in os.environ.items() if not key.startswith("NUBES_")}
        process = subprocess.Popen([NGINX, "-c", str(config), "-p", str(home / "nginx")], env=clean_env, stderr=subprocess.STDOUT)
        stack.callback(stop_process, process)
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/api/ready", timeout=2).status_code == 200:
                    break
            assert process.poll() is None, (home / "nginx" / "error.log").read_text()
            assert time.monotonic() < deadline, "nginx did not answer within 10 s"
            time.sleep(0.1)
        yield Deployment(url=url, replicas=replicas, workers=[worker], redis=redis, database_url=database_url, env=shared)

"""Replicas behind nginx: `GET /api/users/me` and `GET /api/files/<id>` with 1, 2 and 3 `nubes serve` replicas.

- `replicas_me_rps`, `replicas_file_get_rps`: requests/s through nginx (deploy/nginx.conf, its replica lines and
  port replaced) with N replicas of one install (same database, secret and Redis), N = 1, 2, 3; the ratio is N
  replicas to 1 replica, measured in the same run. wrk -t1 -c32 as everywhere.

On this 2-core machine the ratio cannot approach N: wrk, nginx and every replica share the two cores (one replica
already uses about one), so a second replica adds at most the other core minus what nginx and wrk take, and a third
only competes. The figure says how much of the machine Nubes turns into requests, and that nothing in a replica
serialises across replicas (a shared lock would show as a ratio below 1).
"""

from __future__ import annotations

import contextlib
import re
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from bench.files_support import SERVER_ENV, call_json, create_folder, login, root_id, seed_files
from bench.harness import (
    BENCH_DIR,
    CONNECTIONS,
    HOST,
    WARMUP_S,
    BenchError,
    Options,
    Result,
    Server,
    free_port,
    launched,
    load_generator,
    median,
    replicas,
    server_env,
    wait_ready,
    wrk,
)

NGINX = Path("/usr/sbin/nginx")
REDIS = "redis-server"
COUNTS = (1, 2, 3)


def _nginx_config(home: Path, port: int, upstreams: list[Server]) -> Path:
    site = (BENCH_DIR.parent / "deploy" / "nginx.conf").read_text()
    lines = "".join(f"    server {HOST}:{upstream.port} max_fails=1 fail_timeout=5s;\n" for upstream in upstreams)
    replica_lines = r"(?m)^    server 10\.0\.0\.\d+:8000 .*;\n(?:    server 10\.0\.0\.\d+:8000 .*;\n)*"
    site, replaced = re.subn(replica_lines, lines, site)
    if replaced != 1:
        raise BenchError("deploy/nginx.conf no longer lists its replicas as `server 10.0.0.x:8000 ...;` lines")
    (home / "nubes.conf").write_text(site.replace("    listen 80;", f"    listen {HOST}:{port};"))
    temp = "".join(f"    {name}_temp_path {home / name};\n" for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    config = home / "nginx.conf"
    config.write_text(
        f"daemon off;\nmaster_process off;\nworker_processes 1;\npid {home / 'nginx.pid'};\n"
        f"error_log {home / 'error.log'} warn;\nevents {{ worker_connections 1024; }}\n"
        f"http {{\n    access_log off;\n{temp}    include {home / 'nubes.conf'};\n}}\n"
    )
    return config


@contextlib.contextmanager
def _balancer(workdir: Path, replicas: list[Server]) -> Iterator[Server]:
    if not NGINX.is_file():
        raise BenchError(f"{NGINX} not found; run `make bench`, which installs nginx")
    home = Path(tempfile.mkdtemp(prefix=f"nginx-{len(replicas)}-", dir=workdir))
    port = free_port()
    config = _nginx_config(home, port, replicas)
    with launched("nginx", [str(NGINX), "-c", str(config), "-p", str(home)], port=port, workdir=home, env=server_env()) as lb:
        wait_ready(lb, "/api/ready")
        yield lb


def run(options: Options) -> list[Result]:
    """Start three replicas of one install, then measure through nginx with the first 1, 2 and 3 of them."""
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nubes-bench-")))
        servers = replicas(stack, workdir, max(COUNTS), **SERVER_ENV)
        token = login(servers[0])
        folder = create_folder(servers[0], token, root_id(servers[0], token), "replicas")
        file_id = seed_files(workdir / "replica-0", folder, ["one file.txt"])[0]
        auth = {"Authorization": f"Bearer {token}"}
        paths = {"me": "/api/users/me", "file_get": f"/api/files/{file_id}"}
        rates: dict[str, dict[int, list[float]]] = {name: {count: [] for count in COUNTS} for name in paths}
        for count in COUNTS:
            with _balancer(workdir, servers[:count]) as balancer:
                if call_json(balancer, "GET", paths["file_get"], token=token)["id"] != file_id:
                    raise BenchError("the balancer answered another file")
                for path in paths.values():
                    wrk(balancer, path, WARMUP_S, headers=auth)
                for round_index in range(options.rounds):
                    for name, path in paths.items():
                        measured = wrk(balancer, path, options.duration_s, headers=auth)
                        rates[name][count].append(measured.requests_per_s)
                        print(
                            f"replicas: {count} replica(s) round {round_index + 1}/{options.rounds} {name:8} "
                            f"{measured.requests_per_s:9.1f} req/s",
                            file=sys.stderr,
                        )
    results: list[Result] = []
    for name, what in (("me", "GET /api/users/me"), ("file_get", "GET /api/files/<id>")):
        by_count = {count: median(rates[name][count]) for count in COUNTS}
        results.append(
            {
                "benchmark": f"replicas_{name}_rps",
                "unit": "requests/s",
                "what": f"{what} through nginx, 1 to {max(COUNTS)} replicas",
                **{f"replicas_{count}": by_count[count] for count in COUNTS},
                "ratio": round(by_count[max(COUNTS)] / by_count[1], 3),
                **{f"ratio_{count}": round(by_count[count] / by_count[1], 3) for count in COUNTS},
                "baseline_is": "the same through nginx with 1 replica",
                "rounds": options.rounds,
                "duration_s": options.duration_s,
                "connections": CONNECTIONS,
                "load_generator": load_generator(),
                "runs": {str(count): rates[name][count] for count in COUNTS},
            }
        )
    return results

"""The apps gateway: what passing through `/apps/<slug>/` costs, against calling the service directly.

- `gateway_get_small`: requests/s of a small JSON answer (`GET /hello`, 17 bytes) of a bare Starlette service
  (bench/gateway_service.py, uvicorn, one process), through Nubes' gateway (`GET /apps/bench/hello`, a bearer token:
  the caller resolved, the service's target and the signed assertion kept, the request forwarded over a kept-alive
  connection) against the same GET straight to the service, same wrk settings. `ratio` = proxied / direct (target
  ≥ 0.6; 1.0 would be a free proxy). Both processes share the machine's two cores with wrk. Nubes' own floor is
  measured too: `GET /api/health` of the same server (`nubes_health`; `ratio_to_health` = proxied / health), since
  any request through Nubes pays its framework and middleware first (health alone is ~0.23 of bare Starlette).
- `gateway_download_1gib`: `curl -o /dev/null` of a 1 GiB answer streamed by the service, through the gateway against
  straight from the service: MiB/s, `ratio` = proxied / direct, and Nubes' peak RSS during the proxied downloads
  (constant memory: the body is never held).

Rounds alternate the order of the two sides. Runs on the default ASGI server only.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.files_support import call_json, signed_in_nubes
from bench.harness import (
    BENCH_DIR,
    CONNECTIONS,
    HOST,
    WARMUP_S,
    BenchError,
    Options,
    Result,
    Server,
    WrkRun,
    free_port,
    launched,
    load_generator,
    median,
    peak_rss,
    rss_kib,
    server_env,
    wait_ready,
    wrk,
)

SLUG = "bench"
SMALL = "/hello"
HEALTH = "/api/health"
MIB = 1024 * 1024
SIZE = 1024 * MIB
CURL = Path("/usr/bin/curl")


def run(options: Options) -> list[Result]:
    """Start the service and Nubes, register the service, then alternate direct and proxied runs."""
    if not CURL.is_file():
        raise BenchError(f"{CURL} not found; run `make bench`, which installs curl")
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nubes-bench-")))
        port = free_port()
        service = stack.enter_context(
            launched(
                "service",
                [sys.executable, str(BENCH_DIR / "gateway_service.py"), HOST, str(port)],
                port=port,
                workdir=workdir,
                env=server_env(),
            )
        )
        nubes, token = stack.enter_context(signed_in_nubes(workdir))
        wait_ready(service, "/health")
        body = json.dumps({"base_url": service.url("")}).encode()
        call_json(
            nubes, "POST", "/api/apps/admin/services", expect=201, token=token, body=body,
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        auth = {"Authorization": f"Bearer {token}"}
        results = [_small(nubes, service, auth, options)]
        results.append(_download(nubes, service, auth, options.rounds))
        nubes.check_alive()
    return results


def _check(server: Server, path: str, headers: dict[str, str]) -> None:
    """Fail unless `path` answers 200 with the service's body: wrk alone would count a redirect as a success."""
    connection = http.client.HTTPConnection(HOST, server.port, timeout=5)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        status, answer = response.status, response.read()
    finally:
        connection.close()
    if status != 200 or json.loads(answer) != {"hello": "world"}:
        raise BenchError(f"{server.name} GET {path} answered {status} {answer[:200]!r}")


def _small(nubes: Server, service: Server, auth: dict[str, str], options: Options) -> Result:
    proxied_path = f"/apps/{SLUG}{SMALL}"
    _check(service, SMALL, {})
    _check(nubes, proxied_path, auth)
    wrk(service, SMALL, WARMUP_S)
    wrk(nubes, proxied_path, WARMUP_S, headers=auth)
    wrk(nubes, HEALTH, WARMUP_S)
    sides = {
        "proxied": lambda: wrk(nubes, proxied_path, options.duration_s, headers=auth),
        "direct": lambda: wrk(service, SMALL, options.duration_s),
        "health": lambda: wrk(nubes, HEALTH, options.duration_s),
    }
    runs: dict[str, list[WrkRun]] = {name: [] for name in sides}
    for round_index in range(options.rounds):
        order = list(sides) if round_index % 2 == 0 else list(sides)[::-1]
        for step in order:
            measured = sides[step]()
            runs[step].append(measured)
            print(
                f"gateway: round {round_index + 1}/{options.rounds} {step:8} {measured.requests_per_s:9.1f} req/s  "
                f"p99 {measured.p99_ms:.2f} ms",
                file=sys.stderr,
            )
    proxied = median([r.requests_per_s for r in runs["proxied"]])
    direct = median([r.requests_per_s for r in runs["direct"]])
    health = median([r.requests_per_s for r in runs["health"]])
    return {
        "benchmark": "gateway_get_small",
        "unit": "requests/s",
        "what": "GET of a 17-byte JSON answer through /apps/<slug>/ (bearer token) against straight from the service",
        "nubes": proxied,
        "baseline": direct,
        "baseline_is": "the same GET straight to the service (bare Starlette on uvicorn, one process)",
        "ratio": round(proxied / direct, 3),
        "nubes_health": health,
        "ratio_to_health": round(proxied / health, 3),
        "rounds": options.rounds,
        "duration_s": options.duration_s,
        "connections": CONNECTIONS,
        "load_generator": load_generator(),
        "nubes_p50_ms": median([r.p50_ms for r in runs["proxied"]], 2),
        "nubes_p99_ms": median([r.p99_ms for r in runs["proxied"]], 2),
        "baseline_p50_ms": median([r.p50_ms for r in runs["direct"]], 2),
        "baseline_p99_ms": median([r.p99_ms for r in runs["direct"]], 2),
        "nubes_runs": [round(r.requests_per_s, 1) for r in runs["proxied"]],
        "baseline_runs": [round(r.requests_per_s, 1) for r in runs["direct"]],
        "health_runs": [round(r.requests_per_s, 1) for r in runs["health"]],
    }


def _download(nubes: Server, service: Server, auth: dict[str, str], rounds: int) -> Result:
    path = f"/download?size={SIZE}"
    times: dict[str, list[float]] = {"proxied": [], "direct": []}
    idle_kib = rss_kib(nubes.process.pid)
    peak_kib = 0
    for round_index in range(rounds):
        steps = ["proxied", "direct"] if round_index % 2 == 0 else ["direct", "proxied"]
        for step in steps:
            if step == "direct":
                times["direct"].append(_curl(service.url(path), {}))
                continue
            with peak_rss(nubes.process.pid) as peak:
                times["proxied"].append(_curl(nubes.url(f"/apps/{SLUG}{path}"), auth))
            peak_kib = max(peak_kib, peak[0])
        print(
            f"gateway: 1 GiB GET round {round_index + 1}/{rounds}  "
            + "  ".join(f"{name} {SIZE / MIB / runs[-1]:7.0f} MiB/s" for name, runs in times.items()),
            file=sys.stderr,
        )
    proxied = median([SIZE / MIB / t for t in times["proxied"]])
    direct = median([SIZE / MIB / t for t in times["direct"]])
    return {
        "benchmark": "gateway_download_1gib",
        "unit": "MiB/s",
        "what": "GET of a 1 GiB answer streamed by the service, through /apps/<slug>/, curl -o /dev/null",
        "nubes": proxied,
        "baseline": direct,
        "baseline_is": "the same GET straight to the service",
        "ratio": round(proxied / direct, 3),
        "nubes_idle_rss_mib": round(idle_kib / 1024, 1),
        "nubes_peak_rss_mib": round(peak_kib / 1024, 1),
        "size_bytes": SIZE,
        "rounds": rounds,
        "client": "curl",
        "nubes_runs": [round(SIZE / MIB / t) for t in times["proxied"]],
        "baseline_runs": [round(SIZE / MIB / t) for t in times["direct"]],
    }


def _curl(url: str, headers: dict[str, str]) -> float:
    """Seconds to GET `url` to /dev/null with curl (the whole body, checked to be SIZE bytes)."""
    argv = [str(CURL), "-sS", "-o", "/dev/null", "-w", "%{http_code} %{size_download}"]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    started = time.perf_counter()
    done = subprocess.run([*argv, url], capture_output=True, text=True, timeout=900, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0 or done.stdout.split() != ["200", str(SIZE)]:
        raise BenchError(f"curl {url} failed ({done.returncode}): {done.stdout} {done.stderr.strip()}")
    return elapsed

"""Requests/s of `GET /api/health` on the real `nubes serve`, against a bare Starlette app on the same uvicorn setup.

The ratio nubes / baseline is the cost of everything Nubes puts around a trivial route (FastAPI, middleware,
per-request logging); 1.0 would be as fast as bare Starlette. A bare FastAPI app with the same route is
measured too, splitting that cost into the framework's share (`fastapi_ratio`) and Nubes' own
(`nubes_to_fastapi_ratio`).
"""

from __future__ import annotations

import contextlib
import json
import sys
import tempfile
from pathlib import Path

from bench.harness import (
    CONNECTIONS,
    WARMUP_S,
    BenchError,
    Options,
    Result,
    Server,
    WrkRun,
    baseline_server,
    http_get,
    load_generator,
    median,
    nubes_server,
    wait_ready,
    wrk,
)

PATH = "/api/health"


EVERY_SERVER = True  # bench/run.py runs it under each ASGI server too


def run(options: Options) -> list[Result]:
    """Start both servers, warm them up, then alternate wrk runs between them for `options.rounds` rounds."""
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nubes-bench-")))
        # Both start at once (startup is the slow part); the idle one costs no CPU while the other is measured.
        nubes = stack.enter_context(nubes_server(workdir))
        baseline = stack.enter_context(baseline_server(workdir))
        fastapi = stack.enter_context(baseline_server(workdir, "fastapi"))
        wait_ready(nubes, "/api/ready")
        wait_ready(baseline, PATH)
        wait_ready(fastapi, PATH)
        servers = (nubes, fastapi, baseline)
        for server in servers:
            _check_response(server)
            wrk(server, PATH, WARMUP_S)

        runs: dict[str, list[WrkRun]] = {server.name: [] for server in servers}
        for round_index in range(options.rounds):
            # Reverse the order every other round, so a drift in machine load does not favour one server.
            order = servers if round_index % 2 == 0 else servers[::-1]
            for server in order:
                measured = wrk(server, PATH, options.duration_s)
                runs[server.name].append(measured)
                print(
                    f"health: round {round_index + 1}/{options.rounds} {server.name:8} "
                    f"{measured.requests_per_s:9.1f} req/s  p99 {measured.p99_ms:.2f} ms",
                    file=sys.stderr,
                )

    nubes_rps = median([r.requests_per_s for r in runs["nubes"]])
    baseline_rps = median([r.requests_per_s for r in runs["baseline"]])
    fastapi_rps = median([r.requests_per_s for r in runs["fastapi"]])
    return [
        {
            "benchmark": "health_rps",
            "unit": "requests/s",
            "nubes": nubes_rps,
            "baseline": baseline_rps,
            "ratio": round(nubes_rps / baseline_rps, 3),
            "fastapi": fastapi_rps,
            "fastapi_ratio": round(fastapi_rps / baseline_rps, 3),
            "nubes_to_fastapi_ratio": round(nubes_rps / fastapi_rps, 3),
            "rounds": options.rounds,
            "duration_s": options.duration_s,
            "connections": CONNECTIONS,
            "load_generator": load_generator(),
            "nubes_p50_ms": median([r.p50_ms for r in runs["nubes"]], 2),
            "nubes_p99_ms": median([r.p99_ms for r in runs["nubes"]], 2),
            "baseline_p50_ms": median([r.p50_ms for r in runs["baseline"]], 2),
            "baseline_p99_ms": median([r.p99_ms for r in runs["baseline"]], 2),
            "nubes_runs": [round(r.requests_per_s, 1) for r in runs["nubes"]],
            "baseline_runs": [round(r.requests_per_s, 1) for r in runs["baseline"]],
            "fastapi_runs": [round(r.requests_per_s, 1) for r in runs["fastapi"]],
        }
    ]


def _check_response(server: Server) -> None:
    """Fail unless the endpoint answers 200 {"status": "ok"}: wrk alone would count a 3xx or a wrong body as success."""
    status, body = http_get(server, PATH)
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    if status != 200 or payload != {"status": "ok"}:
        raise BenchError(f"{server.name} GET {PATH} answered {status} {body[:200]!r}, expected 200 {{'status': 'ok'}}")

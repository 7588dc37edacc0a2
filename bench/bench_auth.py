"""The price of authentication: `GET /api/users/me` with a bearer token against `GET /api/health`, and login latency.

- `auth_me_rps`: requests/s of an authenticated `GET /api/users/me` (token verified, user, session,
  tenant and roles loaded from SQLite) as a ratio to `GET /api/health` on the same server, same run.
- `login_latency`: median time of `POST /api/auth/login` with the default argon2id parameters, as a
  ratio to one argon2id verification with the same parameters measured here (the floor a login cannot go under).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from argon2 import PasswordHasher

from bench.harness import (
    CONNECTIONS,
    HOST,
    WARMUP_S,
    BenchError,
    Options,
    Result,
    Server,
    WrkRun,
    load_generator,
    median,
    nubes_server,
    wait_ready,
    wrk,
)

ADMIN = "admin"
PASSWORD = "Bench-Granite-Falcon-73"  # noqa: S105 - a throwaway server's first admin
LOGINS = 15
# Nubes' defaults (src/nubes/config.py): time cost 3, 64 MiB, 4 lanes.
ARGON2_TIME_COST, ARGON2_MEMORY_KIB, ARGON2_LANES = 3, 65536, 4
# Logins are timed back to back, so the rate limit is lifted; the token outlives the run.
SERVER_ENV = {
    "NUBES_ADMIN_PASSWORD": PASSWORD,
    "NUBES_LOGIN_RATE_LIMIT": "100000/minute",
    "NUBES_ACCESS_TOKEN_TTL": "3600",
}


def _post_json(server: Server, path: str, body: dict[str, str]) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(HOST, server.port, timeout=10)
    try:
        connection.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _login(server: Server) -> tuple[str, float]:
    started = time.perf_counter()
    status, body = _post_json(server, "/api/auth/login", {"username": ADMIN, "password": PASSWORD})
    elapsed_ms = (time.perf_counter() - started) * 1000
    if status != 200:
        raise BenchError(f"login answered {status}: {body[:200]!r}")
    token: str = json.loads(body)["access_token"]
    return token, elapsed_ms


def _argon2_verify_ms() -> float:
    hasher = PasswordHasher(time_cost=ARGON2_TIME_COST, memory_cost=ARGON2_MEMORY_KIB, parallelism=ARGON2_LANES)
    stored = hasher.hash(PASSWORD)
    timings = []
    for _ in range(LOGINS):
        started = time.perf_counter()
        hasher.verify(stored, PASSWORD)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


EVERY_SERVER = True  # bench/run.py runs it under each ASGI server too


def run(options: Options) -> list[Result]:
    """Start one Nubes, then alternate wrk runs on the two endpoints; then time logins."""
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nubes-bench-")))
        server = stack.enter_context(nubes_server(workdir, **SERVER_ENV))
        wait_ready(server, "/api/ready")
        token, _ = _login(server)
        auth = {"Authorization": f"Bearer {token}"}
        for path, headers in (("/api/health", None), ("/api/users/me", auth)):
            wrk(server, path, WARMUP_S, headers=headers)
        runs: dict[str, list[WrkRun]] = {"health": [], "me": []}
        for round_index in range(options.rounds):
            order = [("health", "/api/health", None), ("me", "/api/users/me", auth)]
            for name, path, headers in order if round_index % 2 == 0 else order[::-1]:
                measured = wrk(server, path, options.duration_s, headers=headers)
                runs[name].append(measured)
                print(
                    f"auth: round {round_index + 1}/{options.rounds} {name:7} {measured.requests_per_s:9.1f} req/s",
                    file=sys.stderr,
                )
        login_ms = statistics.median(_login(server)[1] for _ in range(LOGINS))
        argon2_ms = _argon2_verify_ms()
        print(f"auth: login {login_ms:.1f} ms, argon2id verify {argon2_ms:.1f} ms", file=sys.stderr)

    health_rps = median([r.requests_per_s for r in runs["health"]])
    me_rps = median([r.requests_per_s for r in runs["me"]])
    return [
        {
            "benchmark": "auth_me_rps",
            "unit": "requests/s",
            "me": me_rps,
            "health": health_rps,
            "ratio": round(me_rps / health_rps, 3),
            "rounds": options.rounds,
            "duration_s": options.duration_s,
            "connections": CONNECTIONS,
            "load_generator": load_generator(),
            "me_p99_ms": median([r.p99_ms for r in runs["me"]], 2),
            "health_p99_ms": median([r.p99_ms for r in runs["health"]], 2),
        },
        {
            "benchmark": "login_latency",
            "unit": "ms",
            "login_ms": round(login_ms, 1),
            "argon2id_verify_ms": round(argon2_ms, 1),
            "ratio": round(login_ms / argon2_ms, 3),
            "logins": LOGINS,
            "argon2id": {"time_cost": ARGON2_TIME_COST, "memory_kib": ARGON2_MEMORY_KIB, "parallelism": ARGON2_LANES},
        },
    ]

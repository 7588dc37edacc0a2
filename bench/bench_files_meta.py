"""Listing a folder of 10,000 entries and one file's metadata, 32 concurrent clients, against `GET /api/health`.

- `files_list_rps`: `GET /api/files?parent_id=<folder>` (the first page of 200 of 10,000 entries,
  folders first then by name, with the total count, the folder and its path), bearer token.
- `files_get_rps`: `GET /api/files/<id>` of one file in that folder, bearer token.

Both as requests/s against `GET /api/health` of the same server in the same run (wrk -t1 -c32), rather
than a bare Starlette app: health already pays for the framework, middleware and logging, so the ratio
is what authentication (token check, user, session, tenant and roles), the SQL and the JSON of the
entries cost on top; bench_health.py reports how health compares with bare Starlette.
The 10,000 entries are inserted straight into the server's SQLite database (bench/files_support.py).
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from pathlib import Path

from bench.files_support import call_json, create_folder, root_id, seed_files, signed_in_nubes
from bench.harness import CONNECTIONS, WARMUP_S, BenchError, Options, Result, WrkRun, load_generator, median, wrk

ENTRIES = 10_000
PAGE = 200
# A page of 200 entries takes tens of ms; 32 queued requests take seconds, which is a figure, not a failure.
TIMEOUT_S = 30


EVERY_SERVER = True  # bench/run.py runs it under each ASGI server too


def run(options: Options) -> list[Result]:
    """Seed the folder, check both answers, then alternate wrk runs over the three endpoints."""
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nubes-bench-")))
        server, token = stack.enter_context(signed_in_nubes(workdir))
        folder = create_folder(server, token, root_id(server, token), "big folder")
        ids = seed_files(workdir, folder, (f"report {index:05d}.txt" for index in range(ENTRIES)))
        listing_path = f"/api/files?parent_id={folder}&limit={PAGE}"
        listing = call_json(server, "GET", listing_path, token=token)
        if listing["total"] != ENTRIES or len(listing["items"]) != PAGE:
            raise BenchError(f"the folder lists {listing['total']} entries ({len(listing['items'])} on the page)")
        one = ids[ENTRIES // 2]
        if call_json(server, "GET", f"/api/files/{one}", token=token)["id"] != one:
            raise BenchError("GET /api/files/<id> answered another file")
        auth = {"Authorization": f"Bearer {token}"}
        endpoints = {"health": ("/api/health", None), "list": (listing_path, auth), "get": (f"/api/files/{one}", auth)}
        for path, headers in endpoints.values():
            wrk(server, path, WARMUP_S, headers=headers, timeout_s=TIMEOUT_S)
        runs: dict[str, list[WrkRun]] = {name: [] for name in endpoints}
        for round_index in range(options.rounds):
            order = list(endpoints) if round_index % 2 == 0 else list(endpoints)[::-1]
            for name in order:
                path, headers = endpoints[name]
                measured = wrk(server, path, options.duration_s, headers=headers, timeout_s=TIMEOUT_S)
                runs[name].append(measured)
                print(
                    f"files_meta: round {round_index + 1}/{options.rounds} {name:7} {measured.requests_per_s:9.1f} req/s",
                    file=sys.stderr,
                )

    health = median([r.requests_per_s for r in runs["health"]])
    results: list[Result] = []
    for name, benchmark, what in (
        ("list", "files_list_rps", f"GET /api/files (page of {PAGE} of {ENTRIES})"),
        ("get", "files_get_rps", "GET /api/files/<id>"),
    ):
        rate = median([r.requests_per_s for r in runs[name]])
        results.append(
            {
                "benchmark": benchmark,
                "unit": "requests/s",
                "what": what,
                "nubes": rate,
                "baseline": health,
                "baseline_is": "GET /api/health, same server",
                "ratio": round(rate / health, 3),
                "p50_ms": median([r.p50_ms for r in runs[name]], 2),
                "p99_ms": median([r.p99_ms for r in runs[name]], 2),
                "entries": ENTRIES,
                "rounds": options.rounds,
                "duration_s": options.duration_s,
                "connections": CONNECTIONS,
                "load_generator": load_generator(),
                "nubes_runs": [round(r.requests_per_s, 1) for r in runs[name]],
                "baseline_runs": [round(r.requests_per_s, 1) for r in runs["health"]],
            }
        )
    return results

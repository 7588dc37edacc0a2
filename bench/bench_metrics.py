"""The price of metrics: request collection on a hot route, and a 30-day chart query.

- `metrics_overhead`: requests/s of an authenticated `GET /api/users/me` on a Nubes with `NUBES_METRICS=on` (the
  requests middleware counting every request, the collection loop writing at its interval) as a ratio to the same
  route on a Nubes with `NUBES_METRICS=off`, both up at once, measured back to back in alternating rounds: the
  median of the rounds' ratios (and the ratio of the two medians). Target: >= 0.95.
- `metrics_query_30d`: milliseconds to answer `GET /api/ops/metrics/query?range=30d` for a metric with 8 series
  holding a month of 1-hour rows and a week of 1-minute rows each (seeded straight into the server's database), as a
  ratio to `GET /api/users/me` timed the same way (the floor of an authenticated request).
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import create_async_engine

from bench.files_support import call, signed_in_nubes
from bench.harness import CONNECTIONS, WARMUP_S, BenchError, Options, Result, Server, WrkRun, database_url, median, wrk
from nubes.ops.metrics.models import MetricSampleHour, MetricSampleMinute, MetricSeries

SERIES = 8
QUERIES = 30
HOUR, MINUTE, DAY = 3600, 60, 86_400


async def _seed(url: str) -> None:
    """A month of hours and a week of minutes for SERIES host_cpu_percent series, in bulk."""
    engine = create_async_engine(url, connect_args={"timeout": 30} if url.startswith("sqlite") else {})
    now = int(time.time()) // HOUR * HOUR
    try:
        async with engine.begin() as connection:
            ids = []
            for index in range(SERIES):
                labels = {"host": f"bench-{index}", "source": "node"}
                result = await connection.execute(
                    insert(MetricSeries).values(
                        name="host_cpu_percent", labels=labels, labels_key=f"host=bench-{index}\nsource=node"
                    )
                )
                ids.append(result.inserted_primary_key[0])  # type: ignore[index]
            for table, size, span in ((MetricSampleHour, HOUR, 31 * DAY), (MetricSampleMinute, MINUTE, 7 * DAY)):
                rows: list[dict[str, Any]] = []
                for series_id in ids:
                    for at in range(now - span, now, size):
                        value = float((at // size) % 100)
                        rows.append({"series_id": series_id, "at": at, "min": value, "max": value, "sum": value * 4, "count": 4})
                for start in range(0, len(rows), 5000):
                    await connection.execute(insert(table), rows[start : start + 5000])
    finally:
        await engine.dispose()


def _timed_ms(server: Server, path: str, token: str) -> float:
    timings = []
    for _ in range(QUERIES):
        started = time.perf_counter()
        status, body = call(server, "GET", path, token=token)
        timings.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise BenchError(f"GET {path} answered {status}: {body[:200]!r}")
    return statistics.median(timings)


def run(options: Options) -> list[Result]:
    """Two Nubes (metrics on, metrics off): alternate wrk rounds on /api/users/me; then seed and time a 30-day query."""
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nubes-bench-")))
        (workdir / "on").mkdir()
        (workdir / "off").mkdir()
        on, on_token = stack.enter_context(signed_in_nubes(workdir / "on", NUBES_METRICS="on"))
        off, off_token = stack.enter_context(signed_in_nubes(workdir / "off", NUBES_METRICS="off"))
        servers = {"on": (on, {"Authorization": f"Bearer {on_token}"}), "off": (off, {"Authorization": f"Bearer {off_token}"})}
        for server, headers in servers.values():
            wrk(server, "/api/users/me", WARMUP_S, headers=headers)
        runs: dict[str, list[WrkRun]] = {"on": [], "off": []}
        for round_index in range(options.rounds):
            order = ["on", "off"] if round_index % 2 == 0 else ["off", "on"]
            for name in order:
                server, headers = servers[name]
                measured = wrk(server, "/api/users/me", options.duration_s, headers=headers)
                runs[name].append(measured)
                print(
                    f"metrics: round {round_index + 1}/{options.rounds} {name:3} {measured.requests_per_s:9.1f} req/s",
                    file=sys.stderr,
                )

        asyncio.run(_seed(database_url(workdir / "on")))
        query = "/api/ops/metrics/query?name=host_cpu_percent&range=30d"
        status, body = call(on, "GET", query, token=on_token)
        if status != 200 or body.count(b'"labels"') < SERIES:
            raise BenchError(f"the 30-day query answered {status}: {body[:300]!r}")
        query_ms = _timed_ms(on, query, on_token)
        me_ms = _timed_ms(on, "/api/users/me", on_token)
        print(f"metrics: 30-day query {query_ms:.1f} ms, /api/users/me {me_ms:.1f} ms", file=sys.stderr)

    on_rps = median([r.requests_per_s for r in runs["on"]])
    off_rps = median([r.requests_per_s for r in runs["off"]])
    # Each round measures both servers back to back: the median of those paired ratios is steadier than the ratio of
    # the two medians when the machine's speed drifts between rounds.
    paired = statistics.median(on.requests_per_s / off.requests_per_s for on, off in zip(runs["on"], runs["off"], strict=True))
    return [
        {
            "benchmark": "metrics_overhead",
            "unit": "requests/s",
            "metrics_on": on_rps,
            "metrics_off": off_rps,
            "ratio": round(paired, 3),
            "ratio_of_medians": round(on_rps / off_rps, 3),
            "target": 0.95,
            "on_runs": [r.requests_per_s for r in runs["on"]],
            "off_runs": [r.requests_per_s for r in runs["off"]],
            "rounds": options.rounds,
            "duration_s": options.duration_s,
            "connections": CONNECTIONS,
        },
        {
            "benchmark": "metrics_query_30d",
            "unit": "ms",
            "query_ms": round(query_ms, 1),
            "me_ms": round(me_ms, 1),
            "ratio": round(query_ms / me_ms, 3),
            "series": SERIES,
            "points_per_series": 30 * DAY // 10_800,
            "queries": QUERIES,
        },
    ]

"""The app data store's changes feed fanned out to many long-poll listeners.

- `data_feed_fanout`: LISTENERS long-polls (`feed=longpoll`) wait on one collection's feed; WRITES documents are
  written one after another (each once every listener has its previous change and waits again). Reported: deliveries
  per second and the latency from the start of a write to each listener's answer (p50, p99). The baseline, measured
  in the same run on the same server, is the same write's round trip with no listener; `ratio` is the baseline's p50
  over the delivery p50 (1.0: a listener hears a write as fast as its writer gets the answer; lower is slower).

The server reads the feed once per write for all its listeners (src/nubes/apps/data/feed.py), so the cost of a
write's fan-out is answering LISTENERS requests, not LISTENERS queries. The listeners are one asyncio process of
httpx clients sharing the machine's two cores with the server, so the figure includes the client's own work.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.files_support import signed_in_nubes
from bench.harness import BenchError, Options, Result, Server

LISTENERS = 500
WRITES = 5
BASELINE_WRITES = 50
FEED = "/api/apps/data/me/bench/changes"


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def _measure(server: Server, token: str) -> Result:
    base = server.url("")
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=LISTENERS + 10, max_keepalive_connections=LISTENERS + 10)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120, limits=limits) as http:
        round_trips = []
        for number in range(BASELINE_WRITES):
            started = time.perf_counter()
            answer = await http.put(f"/api/apps/data/me/baseline/docs/d{number}", json={"n": number})
            round_trips.append(time.perf_counter() - started)
            if answer.status_code != 200:
                raise BenchError(f"a baseline write answered {answer.status_code}: {answer.text[:200]}")

        first = await http.put("/api/apps/data/me/bench/docs/start", json={"n": 0})
        if first.status_code != 200:
            raise BenchError(f"the first write answered {first.status_code}: {first.text[:200]}")
        since = first.json()["seq"]
        written_at: dict[int, float] = {}
        latencies: list[float] = []
        waiting = asyncio.Semaphore(0)

        async def listener() -> None:
            seen = since
            while seen < since + WRITES:
                waiting.release()
                try:
                    answer = await http.get(FEED, params={"since": seen, "feed": "longpoll", "timeout": 60, "limit": 1})
                except httpx.TransportError:  # a kept-alive connection the server closed as it was reused: ask again
                    answer = await http.get(FEED, params={"since": seen, "feed": "longpoll", "timeout": 60, "limit": 1})
                arrived = time.perf_counter()
                results = answer.json()["results"]
                for change in results:
                    latencies.append(arrived - written_at[change["seq"]])
                seen = answer.json()["last_seq"]

        tasks = [asyncio.create_task(listener()) for _ in range(LISTENERS)]
        started = time.perf_counter()
        for number in range(WRITES):
            for _ in range(LISTENERS):  # every listener has asked again
                await waiting.acquire()
            await asyncio.sleep(0.05)  # and its request reached the server
            written_at[since + number + 1] = time.perf_counter()
            answer = await http.put(f"/api/apps/data/me/bench/docs/w{number}", json={"n": number})
            if answer.status_code != 200:
                raise BenchError(f"a write answered {answer.status_code}: {answer.text[:200]}")
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
    if len(latencies) != LISTENERS * WRITES:
        raise BenchError(f"{len(latencies)} deliveries, expected {LISTENERS * WRITES}")
    baseline_ms = statistics.median(round_trips) * 1000
    p50_ms = statistics.median(latencies) * 1000
    return {
        "benchmark": "data_feed_fanout",
        "unit": "ms",
        "what": f"{WRITES} writes to one collection, each delivered to {LISTENERS} long-poll listeners",
        "deliveries_per_s": round(len(latencies) / elapsed, 1),
        "delivery_p50_ms": round(p50_ms, 1),
        "delivery_p99_ms": round(_percentile(latencies, 0.99) * 1000, 1),
        "baseline_write_p50_ms": round(baseline_ms, 2),
        "ratio": round(baseline_ms / p50_ms, 3),
        "baseline_is": "the same write's round trip with no listener, same server, same run",
        "listeners": LISTENERS,
        "writes": WRITES,
    }


def run(options: Options) -> list[Result]:
    """One server; the baseline writes, then the fan-out."""
    del options  # the rounds are the writes; a fixed count keeps the run short
    with tempfile.TemporaryDirectory(prefix="nubes-bench-") as workdir, signed_in_nubes(Path(workdir)) as (server, token):
        result = asyncio.run(_measure(server, token))
    print(f"data_feed: {result}", file=sys.stderr)
    return [result]

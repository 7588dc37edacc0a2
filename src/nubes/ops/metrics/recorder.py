"""The in-process metrics buffer (`app.state.metrics`): values noted by requests and collectors, written in batches.

Noting a value costs a dictionary update and never waits for the database. A loop of every process calls `flush`
once per collection interval (and once more at shutdown): the buffer is swapped for an empty one and its samples go
to `metric_samples_raw` in one multi-row INSERT through the writer sessions, with series ids cached in memory.

- Gauges keep the last value noted in the round; counters keep what was added during the round (a per-interval
  delta, stored as such: sums over a bucket give totals, divided by the bucket's length they give rates).
- Requests are counted per route template, method and status class, and their latency is kept in a fixed-bucket
  histogram per route, reduced at each flush to `http_request_seconds_p50/_p95/_p99` gauges.
- Cardinality is bounded: a name gets at most `max_series_per_name` series in the database; samples of further
  series are dropped (and logged once per name).
- The totals since the process started (counters, histograms) and the last gauges stay in memory for `/metrics`.
"""

from __future__ import annotations

import time
import uuid
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import structlog
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nubes.ops.metrics.models import MetricSampleRaw, MetricSeries

log = structlog.get_logger("nubes.metrics")

Kind = Literal["gauge", "counter"]
LabelItems = tuple[tuple[str, str], ...]
Key = tuple[str, LabelItems]

LATENCY_BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Upper bounds (seconds) of the request latency histogram; one more bucket holds what is slower."""

PERCENTILES: tuple[tuple[str, float], ...] = (("p50", 0.50), ("p95", 0.95), ("p99", 0.99))
"""The latency percentiles stored per route at each flush."""

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""Methods counted by name; any other is counted as `OTHER` (a client chooses the method)."""

MAX_SERIES_PER_NAME = 2000
"""Series one metric name may have in the database; samples of more are dropped."""

MAX_LABEL_VALUE = 200
"""Characters kept of a label value."""

INSERT_CHUNK = 1000
"""Rows per INSERT statement (SQLite binds at most 32,766 parameters)."""

UNMATCHED_ROUTE = "<unmatched>"
"""The route label of requests that matched no route (the web UI's pages, 404s)."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One value of a flush: a metric name, its labels, its kind and the value."""

    name: str
    labels: LabelItems
    kind: Kind
    value: float


def labels_key(labels: Iterable[tuple[str, str]]) -> str:
    """The canonical string of a label set: sorted `key=value` pairs joined by newlines."""
    return "\n".join(f"{key}={value}" for key, value in sorted(labels))


def percentile(counts: list[int], fraction: float) -> float:
    """The `fraction` percentile of a latency histogram (seconds), interpolated linearly within its bucket."""
    total = sum(counts)
    if total == 0:
        return 0.0
    rank = fraction * total
    seen = 0
    for index, count in enumerate(counts):
        if count and seen + count >= rank:
            low = LATENCY_BUCKETS[index - 1] if index > 0 else 0.0
            high = LATENCY_BUCKETS[index] if index < len(LATENCY_BUCKETS) else LATENCY_BUCKETS[-1] * 2
            return low + (high - low) * (rank - seen) / count
        seen += count
    return LATENCY_BUCKETS[-1] * 2


def _items(labels: Mapping[str, str] | None) -> LabelItems:
    if not labels:
        return ()
    return tuple(sorted((key, str(value)[:MAX_LABEL_VALUE]) for key, value in labels.items()))


class Recorder:
    """This process's metric buffer: `record` values, `request` HTTP exchanges, `flush` them to the database."""

    def __init__(self, *, max_series_per_name: int = MAX_SERIES_PER_NAME) -> None:
        self.max_series_per_name = max_series_per_name
        self._gauges: dict[Key, float] = {}
        self._counters: dict[Key, float] = {}
        self._requests: dict[tuple[str, str, str], int] = {}
        self._latency: dict[str, list[int]] = {}
        self._latency_sum: dict[str, float] = {}
        self.websockets: dict[str, int] = {}
        """Open WebSockets per route template (kept by the requests middleware)."""
        self.gauges: dict[Key, float] = {}
        """The last value of each gauge, as of the last flush (for /metrics)."""
        self.counter_totals: dict[Key, float] = {}
        """Each counter's total since the process started, as of the last flush (for /metrics)."""
        self.latency_totals: dict[str, tuple[list[int], float]] = {}
        """Each route's latency histogram (bucket counts, sum) since the process started (for /metrics)."""
        self._series_ids: dict[tuple[str, str], int] = {}
        self._series_per_name: dict[str, int] = {}
        self._dropped: set[str] = set()

    def record(self, name: str, value: float, labels: Mapping[str, str] | None = None, *, kind: Kind = "gauge") -> None:
        """Note a value: a gauge's latest measure, or what a counter grew by."""
        key = (name, _items(labels))
        if kind == "counter":
            self._counters[key] = self._counters.get(key, 0.0) + value
        else:
            self._gauges[key] = value

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        """Note one answered HTTP request (the route template, never the raw path)."""
        counted = (route, method if method in METHODS else "OTHER", f"{status // 100}xx")
        self._requests[counted] = self._requests.get(counted, 0) + 1
        histogram = self._latency.get(route)
        if histogram is None:
            histogram = self._latency[route] = [0] * (len(LATENCY_BUCKETS) + 1)
            self._latency_sum[route] = 0.0
        histogram[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        self._latency_sum[route] += seconds

    def pending(self) -> list[Sample]:
        """What the next flush would write, without taking it (for /metrics between flushes)."""
        return self._samples(self._gauges, self._counters, self._requests, self._latency)

    def take(self) -> list[Sample]:
        """Empty the buffer: its samples, with the in-memory totals brought up to date."""
        gauges, self._gauges = self._gauges, {}
        counters, self._counters = self._counters, {}
        requests, self._requests = self._requests, {}
        latency, self._latency = self._latency, {}
        latency_sum, self._latency_sum = self._latency_sum, {}
        for route, counts in latency.items():
            total, seconds = self.latency_totals.get(route, ([0] * len(counts), 0.0))
            self.latency_totals[route] = ([a + b for a, b in zip(total, counts, strict=True)], seconds + latency_sum[route])
        samples = self._samples(gauges, counters, requests, latency)
        for sample in samples:
            key = (sample.name, sample.labels)
            if sample.kind == "counter":
                self.counter_totals[key] = self.counter_totals.get(key, 0.0) + sample.value
            elif not sample.name.startswith("http_request_seconds_"):
                self.gauges[key] = sample.value
        return samples

    def _samples(
        self,
        gauges: Mapping[Key, float],
        counters: Mapping[Key, float],
        requests: Mapping[tuple[str, str, str], int],
        latency: Mapping[str, list[int]],
    ) -> list[Sample]:
        samples = [Sample(name, labels, "gauge", value) for (name, labels), value in gauges.items()]
        samples += [Sample(name, labels, "counter", value) for (name, labels), value in counters.items()]
        for (route, method, status), count in requests.items():
            labels = (("method", method), ("route", route), ("status", status))
            samples.append(Sample("http_requests", labels, "counter", float(count)))
        for route, counts in latency.items():
            for suffix, fraction in PERCENTILES:
                samples.append(
                    Sample(f"http_request_seconds_{suffix}", (("route", route),), "gauge", percentile(counts, fraction))
                )
        return samples

    async def flush(self, sessions: async_sessionmaker[AsyncSession], *, at: int | None = None) -> int:
        """Write the buffer as raw samples at `at` (now, in epoch seconds) in one transaction; how many rows."""
        samples = self.take()
        if not samples:
            return 0
        when = int(time.time()) if at is None else at
        try:
            return await self._write(sessions, samples, when)
        except IntegrityError:
            # A cached series was pruned (or its tenant deleted) meanwhile: look every series up again, once.
            self._series_ids.clear()
            self._series_per_name.clear()
            return await self._write(sessions, samples, when)

    async def _write(self, sessions: async_sessionmaker[AsyncSession], samples: list[Sample], at: int) -> int:
        async with sessions() as session, session.begin():
            ids = await self._series(session, samples)
            gauges: list[dict[str, Any]] = []
            counters: list[dict[str, Any]] = []
            for sample in samples:
                series_id = ids.get((sample.name, labels_key(sample.labels)))
                if series_id is not None:
                    rows = counters if sample.kind == "counter" else gauges
                    rows.append({"series_id": series_id, "at": at, "value": sample.value})
            await _insert_samples(session, gauges, add=False)
            await _insert_samples(session, counters, add=True)
        return len(gauges) + len(counters)

    async def _series(self, session: AsyncSession, samples: list[Sample]) -> dict[tuple[str, str], int]:
        """The series id of each sample's series, made when new (within the per-name cap)."""
        wanted = {(sample.name, labels_key(sample.labels)): sample.labels for sample in samples}
        missing = {key: labels for key, labels in wanted.items() if key not in self._series_ids}
        if missing:
            await self._load(session, missing)
            new = {key: labels for key, labels in missing.items() if key not in self._series_ids}
            if new:
                await self._create(session, new)
        return self._series_ids

    async def _load(self, session: AsyncSession, keys: Mapping[tuple[str, str], LabelItems]) -> None:
        names = {name for name, _ in keys}
        found = await session.execute(
            select(MetricSeries.id, MetricSeries.name, MetricSeries.labels_key).where(
                MetricSeries.name.in_(names), MetricSeries.labels_key.in_({key for _, key in keys})
            )
        )
        for series_id, name, key in found:
            self._series_ids[(name, key)] = series_id
        unknown = [name for name in names if name not in self._series_per_name]
        if unknown:
            counted = await session.execute(
                select(MetricSeries.name, func.count()).where(MetricSeries.name.in_(unknown)).group_by(MetricSeries.name)
            )
            self._series_per_name.update(dict.fromkeys(unknown, 0))
            self._series_per_name.update({name: int(count) for name, count in counted})

    async def _create(self, session: AsyncSession, new: Mapping[tuple[str, str], LabelItems]) -> None:
        rows: list[dict[str, Any]] = []
        for (name, key), labels in new.items():
            if self._series_per_name.get(name, 0) >= self.max_series_per_name:
                if name not in self._dropped:
                    self._dropped.add(name)
                    log.warning("metrics.series_capped", metric=name, cap=self.max_series_per_name)
                continue
            self._series_per_name[name] = self._series_per_name.get(name, 0) + 1
            values = dict(labels)
            rows.append({"name": name, "labels": values, "labels_key": key, "tenant_id": _tenant_of(values)})
        if not rows:
            return
        insert = _dialect_insert(session)
        await session.execute(insert(MetricSeries).values(rows).on_conflict_do_nothing(index_elements=["name", "labels_key"]))
        await self._load(session, {(row["name"], row["labels_key"]): () for row in rows})


def _tenant_of(labels: Mapping[str, str]) -> uuid.UUID | None:
    """The tenant a series belongs to: its `tenant` label, when that is a tenant id."""
    value = labels.get("tenant")
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _dialect_insert(session: AsyncSession) -> Any:
    """The dialect's INSERT (both offer ON CONFLICT)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


async def _insert_samples(session: AsyncSession, rows: list[dict[str, Any]], *, add: bool) -> None:
    """Raw samples in multi-row INSERTs; a sample another replica wrote in the same second is added to (counters) or
    replaced (gauges)."""
    insert = _dialect_insert(session)
    for start in range(0, len(rows), INSERT_CHUNK):
        statement = insert(MetricSampleRaw).values(rows[start : start + INSERT_CHUNK])
        value = MetricSampleRaw.value + statement.excluded.value if add else statement.excluded.value
        await session.execute(statement.on_conflict_do_update(index_elements=["series_id", "at"], set_={"value": value}))

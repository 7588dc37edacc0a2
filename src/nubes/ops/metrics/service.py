"""Stored metrics: the catalog of metric names, queries over a range (the tier chosen by its length), the latest
values, and the chore's downsampling and retention.

Counters are stored as per-interval deltas (see `nubes.ops.metrics.models`); `query` answers them as rates per
second over each step (the deltas in a step summed, divided by its length), `latest` as the rate over the last five
minutes. Gauges are answered as the average over each step, `latest` as the last value.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, NamedTuple

from sqlalchemy import ColumnElement, Float, cast, delete, func, insert, literal_column, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.core.errors import NotFound
from nubes.core.principal import Principal
from nubes.ops.metrics.models import MetricSampleHour, MetricSampleMinute, MetricSampleRaw, MetricSeries
from nubes.ops.metrics.recorder import Kind

Scope = Literal["platform", "node", "container", "tenant"]

MINUTE = 60
HOUR = 3600
DAY = 86_400
RAW_SPAN = 6 * HOUR
"""The longest range answered from raw samples."""
MINUTE_SPAN = 7 * DAY
"""The longest range answered from the 1-minute tier (longer ones: the 1-hour tier)."""
MAX_POINTS = 300
"""The most points a series of a query answers."""
STEPS = (15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, DAY)
"""The steps a query chooses from: the shortest giving at most MAX_POINTS points."""
LATEST_RATE_WINDOW = 300
"""Seconds over which `latest` answers a counter's rate."""


class Metric(NamedTuple):
    """What a metric name means: unit, help, label names, who may see it (scope) and its kind."""

    unit: str
    help: str
    labels: tuple[str, ...]
    scope: Scope
    kind: Kind = "gauge"


HOST = ("host", "source")
CONTAINER = ("container", "node", "tenant")

CATALOG: dict[str, Metric] = {
    "host_cpu_percent": Metric("percent", "CPU in use on the host", HOST, "platform"),
    "host_memory_used_bytes": Metric("bytes", "Memory in use on the host", HOST, "platform"),
    "host_memory_total_bytes": Metric("bytes", "Memory of the host", HOST, "platform"),
    "host_disk_used_bytes": Metric("bytes", "Disk space in use per mount", (*HOST, "mount"), "platform"),
    "host_disk_total_bytes": Metric("bytes", "Disk space per mount", (*HOST, "mount"), "platform"),
    "host_network_rx_bytes": Metric("bytes/s", "Network bytes received", HOST, "platform", "counter"),
    "host_network_tx_bytes": Metric("bytes/s", "Network bytes sent", HOST, "platform", "counter"),
    "host_load1": Metric("load", "1-minute load average", HOST, "platform"),
    "node_up": Metric("up", "Whether the node's agent is connected (1) or not (0)", ("node",), "node"),
    "container_cpu_percent": Metric("percent", "CPU used by the container", CONTAINER, "container"),
    "container_memory_bytes": Metric("bytes", "Memory used by the container", CONTAINER, "container"),
    "container_restarts": Metric("restarts/s", "Restarts of the container", CONTAINER, "container", "counter"),
    "http_requests": Metric("requests/s", "HTTP requests answered", ("method", "route", "status"), "platform", "counter"),
    "http_request_seconds_p50": Metric("seconds", "Median request latency per route", ("route",), "platform"),
    "http_request_seconds_p95": Metric("seconds", "95th percentile request latency per route", ("route",), "platform"),
    "http_request_seconds_p99": Metric("seconds", "99th percentile request latency per route", ("route",), "platform"),
    "jobs_queued": Metric("jobs", "Background jobs waiting to run", ("queue",), "platform"),
    "jobs_oldest_age_seconds": Metric("seconds", "Age of the oldest waiting background job", ("queue",), "platform"),
    "websocket_connections": Metric("connections", "Open WebSockets on the replica", ("host", "route"), "platform"),
    "storage_used_bytes": Metric("bytes", "File storage used by the tenant", ("tenant",), "tenant"),
    "signin_failures": Metric("failures/s", "Failed sign-ins in the tenant", ("tenant",), "tenant", "counter"),
    "backup_last_success_timestamp": Metric("seconds", "When the last backup succeeded (epoch seconds)", (), "platform"),
    "backup_last_status": Metric("status", "Whether the last backup succeeded (1) or failed (0)", (), "platform"),
}
"""Every metric Nubes stores, by name (Prometheus-style, stable)."""


@dataclass(frozen=True, slots=True)
class Series:
    """The points of one series over a range."""

    name: str
    labels: dict[str, str]
    unit: str
    points: list[tuple[datetime, float]]


@dataclass(frozen=True, slots=True)
class Tier:
    """A table of samples and how its rows sum up."""

    name: str
    resolution: int


RAW = Tier("raw", 1)
MINUTE_TIER = Tier("minute", MINUTE)
HOUR_TIER = Tier("hour", HOUR)


def tier_for(span_seconds: float) -> Tier:
    """The tier a range of this length is answered from (raw up to 6 h, minutes up to 7 days, hours beyond)."""
    if span_seconds <= RAW_SPAN:
        return RAW
    if span_seconds <= MINUTE_SPAN:
        return MINUTE_TIER
    return HOUR_TIER


def step_for(span_seconds: float, tier: Tier) -> int:
    """The shortest step giving at most MAX_POINTS points over the range, never finer than the tier."""
    for step in STEPS:
        if step >= tier.resolution and span_seconds / step <= MAX_POINTS:
            return step
    return STEPS[-1]


def visible(principal: Principal) -> dict[str, Metric]:
    """The metrics a principal may query: all for a super-admin, the tenant- and container-scoped ones otherwise."""
    if principal.is_superadmin:
        return CATALOG
    return {name: metric for name, metric in CATALOG.items() if metric.scope in ("tenant", "container")}


def scope_tenant(principal: Principal) -> uuid.UUID | None:
    """The tenant a principal's queries are restricted to (None: a super-admin sees every series)."""
    return None if principal.is_superadmin else principal.tenant_id


def get_or_raise(*, principal: Principal, name: str) -> Metric:
    """The catalog's entry for `name`, when the principal may see it; 404 otherwise."""
    metric = visible(principal).get(name)
    if metric is None:
        raise NotFound(f"No metric is named {name!r}; GET /api/ops/metrics/catalog lists those you may query.")
    return metric


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


async def _series(
    session: AsyncSession, *, name: str, labels: Mapping[str, str], tenant_id: uuid.UUID | None
) -> list[MetricSeries]:
    statement = select(MetricSeries).where(MetricSeries.name == name).order_by(MetricSeries.id)
    if tenant_id is not None:
        statement = statement.where(MetricSeries.tenant_id == tenant_id)
    found = (await session.scalars(statement)).all()
    return [series for series in found if all(series.labels.get(key) == value for key, value in labels.items())]


async def query(
    *,
    session: AsyncSession,
    name: str,
    labels: Mapping[str, str] | None = None,
    start: datetime,
    end: datetime,
    step_seconds: int | None = None,
    tenant_id: uuid.UUID | None = None,
) -> list[Series]:
    """The series of `name` matching `labels` between `start` and `end`, one point per step (see the module's doc).

    `tenant_id` restricts the answer to series labelled with that tenant.
    """
    metric = CATALOG.get(name)
    kind: Kind = metric.kind if metric else "gauge"
    unit = metric.unit if metric else ""
    span = max((end - start).total_seconds(), 1.0)
    tier = tier_for(span)
    step = max(step_seconds or step_for(span, tier), tier.resolution)
    matched = await _series(session, name=name, labels=labels or {}, tenant_id=tenant_id)
    if not matched:
        return []
    points: dict[int, list[tuple[datetime, float]]] = {series.id: [] for series in matched}
    bucket: ColumnElement[int] = literal_column(f"(at / {int(step)}) * {int(step)}")
    table, value = _aggregate(tier, kind)
    rows = await session.execute(
        select(table.series_id, bucket.label("bucket"), value)
        .where(table.series_id.in_(points), table.at >= _epoch(start), table.at < _epoch(end))
        .group_by(table.series_id, literal_column("bucket"))
        .order_by(table.series_id, literal_column("bucket"))
    )
    for series_id, at, number in rows:
        figure = float(number) / step if kind == "counter" else float(number)
        points[series_id].append((datetime.fromtimestamp(int(at), UTC), figure))
    return [Series(name=name, labels=dict(series.labels), unit=unit, points=points[series.id]) for series in matched]


def _aggregate(
    tier: Tier, kind: Kind
) -> tuple[type[MetricSampleRaw] | type[MetricSampleMinute] | type[MetricSampleHour], ColumnElement[float]]:
    """The tier's table, and a step's value from its rows: a counter's sum, a gauge's average."""
    if tier is RAW:
        raw = MetricSampleRaw.value
        return MetricSampleRaw, func.sum(raw) if kind == "counter" else func.avg(raw)
    table = MetricSampleMinute if tier is MINUTE_TIER else MetricSampleHour
    total: ColumnElement[float] = func.sum(table.sum)
    return table, total if kind == "counter" else total / cast(func.sum(table.count), Float)


async def latest(
    *, session: AsyncSession, name: str, labels: Mapping[str, str] | None = None, tenant_id: uuid.UUID | None = None
) -> list[tuple[dict[str, str], datetime, float]]:
    """Each matching series' last raw sample (a counter: its rate over the last five minutes up to that sample)."""
    metric = CATALOG.get(name)
    matched = await _series(session, name=name, labels=labels or {}, tenant_id=tenant_id)
    if not matched:
        return []
    by_id = {series.id: series for series in matched}
    last = (
        select(MetricSampleRaw.series_id, func.max(MetricSampleRaw.at).label("at"))
        .where(MetricSampleRaw.series_id.in_(by_id))
        .group_by(MetricSampleRaw.series_id)
        .subquery()
    )
    rows = (
        await session.execute(
            select(MetricSampleRaw.series_id, MetricSampleRaw.at, MetricSampleRaw.value).join(
                last, (MetricSampleRaw.series_id == last.c.series_id) & (MetricSampleRaw.at == last.c.at)
            )
        )
    ).all()
    values: dict[int, tuple[int, float]] = {series_id: (at, value) for series_id, at, value in rows}
    if metric is not None and metric.kind == "counter" and values:
        newest = max(at for at, _ in values.values())
        sums = await session.execute(
            select(MetricSampleRaw.series_id, func.sum(MetricSampleRaw.value))
            .where(MetricSampleRaw.series_id.in_(values), MetricSampleRaw.at > newest - LATEST_RATE_WINDOW)
            .group_by(MetricSampleRaw.series_id)
        )
        values = {series_id: (values[series_id][0], float(total) / LATEST_RATE_WINDOW) for series_id, total in sums}
    return [
        (dict(by_id[series_id].labels), datetime.fromtimestamp(at, UTC), value)
        for series_id, (at, value) in sorted(values.items())
    ]


async def downsample(*, session: AsyncSession, now: int | None = None, lag: int = 120) -> tuple[int, int]:
    """Sum up raw samples into complete minutes and minutes into complete hours, where not done yet.

    A bucket is summed once it ended `lag` seconds ago (samples of every replica have arrived by then); returns how
    many minute and hour rows were written.
    """
    moment = int(time.time()) if now is None else now
    minutes = await _sum_up(session, MetricSampleRaw, MetricSampleMinute, MINUTE, until=(moment - lag) // MINUTE * MINUTE)
    hours = await _sum_up(session, MetricSampleMinute, MetricSampleHour, HOUR, until=(moment - lag - MINUTE) // HOUR * HOUR)
    return minutes, hours


async def _sum_up(
    session: AsyncSession,
    source: type[MetricSampleRaw] | type[MetricSampleMinute],
    target: type[MetricSampleMinute] | type[MetricSampleHour],
    size: int,
    *,
    until: int,
) -> int:
    done = await session.scalar(select(func.max(target.at)))
    if done is not None:
        since = int(done) + size
    else:
        first = await session.scalar(select(func.min(source.at)))
        if first is None:
            return 0
        since = int(first) // size * size
    if since >= until:
        return 0
    bucket: ColumnElement[int] = literal_column(f"(at / {size}) * {size}")
    if source is MetricSampleRaw:
        sums = select(
            MetricSampleRaw.series_id,
            bucket,
            func.min(MetricSampleRaw.value),
            func.max(MetricSampleRaw.value),
            func.sum(MetricSampleRaw.value),
            func.count(),
        )
    else:
        sums = select(
            MetricSampleMinute.series_id,
            bucket,
            func.min(MetricSampleMinute.min),
            func.max(MetricSampleMinute.max),
            func.sum(MetricSampleMinute.sum),
            func.sum(MetricSampleMinute.count),
        )
    sums = sums.where(source.at >= since, source.at < until).group_by(source.series_id, bucket)
    result = await session.execute(insert(target).from_select(["series_id", "at", "min", "max", "sum", "count"], sums))
    await session.flush()
    return int(getattr(result, "rowcount", 0) or 0)


async def prune(
    *, session: AsyncSession, raw_seconds: int, minute_seconds: int, hour_seconds: int, now: int | None = None
) -> int:
    """Delete samples older than each tier's retention, and series left without any; how many rows went."""
    moment = int(time.time()) if now is None else now
    removed = 0
    for table, keep in ((MetricSampleRaw, raw_seconds), (MetricSampleMinute, minute_seconds), (MetricSampleHour, hour_seconds)):
        result = await session.execute(delete(table).where(table.at < moment - keep))
        removed += int(getattr(result, "rowcount", 0) or 0)
    cutoff = datetime.fromtimestamp(moment - raw_seconds, UTC)
    used = union(select(MetricSampleRaw.series_id), select(MetricSampleMinute.series_id), select(MetricSampleHour.series_id))
    result = await session.execute(delete(MetricSeries).where(MetricSeries.created_at < cutoff, MetricSeries.id.not_in(used)))
    removed += int(getattr(result, "rowcount", 0) or 0)
    await session.flush()
    return removed

"""The recorder's batched writes, downsampling into minutes and hours, retention, and the series cap."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nubes.ops.metrics import service
from nubes.ops.metrics.models import MetricSampleHour, MetricSampleMinute, MetricSampleRaw, MetricSeries
from nubes.ops.metrics.recorder import Recorder

T0 = 1_800_000_000 // 3600 * 3600
"""An hour's first second, far from now."""


async def _rows(session: AsyncSession, table: Any) -> list[Any]:
    return list((await session.execute(select(table).order_by(table.series_id, table.at))).scalars())


async def test_many_records_make_one_flush_of_rows(sessions: async_sessionmaker[AsyncSession], session: AsyncSession) -> None:
    """GIVEN 500 records over 50 series WHEN one flush runs THEN 50 raw rows at one time, counters summed."""
    recorder = Recorder()
    for index in range(500):
        recorder.record("jobs_queued", float(index), {"queue": f"q{index % 25}"})
        recorder.record("signin_failures", 1.0, {"tenant": f"x{index % 25}"}, kind="counter")
    written = await recorder.flush(sessions, at=T0)
    assert written == 50
    rows = await _rows(session, MetricSampleRaw)
    assert len(rows) == 50
    assert {row.at for row in rows} == {T0}
    failures = await service.latest(session=session, name="signin_failures", labels={"tenant": "x3"})
    assert len(failures) == 1
    assert failures[0][2] == pytest.approx(20 / service.LATEST_RATE_WINDOW)
    queued = await service.latest(session=session, name="jobs_queued", labels={"queue": "q3"})
    assert queued[0][2] == 478.0  # the last value noted wins
    assert await recorder.flush(sessions, at=T0 + 15) == 0  # nothing noted since


async def test_downsampling_keeps_min_max_average_and_sums(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """GIVEN a gauge and a counter sampled every 15 s for two hours WHEN the chore runs THEN each minute and hour holds
    min, max, sum and count of its samples, and queries answer averages and rates from the right tier."""
    recorder = Recorder()
    for tick in range(0, 2 * 3600, 15):
        recorder.record("host_cpu_percent", float(tick % 60), {"host": "h", "source": "replica"})
        recorder.record("host_network_rx_bytes", 30.0, {"host": "h", "source": "replica"}, kind="counter")
        await recorder.flush(sessions, at=T0 + tick)
    minutes, hours = await service.downsample(session=session, now=T0 + 2 * 3600 + 3600, lag=0)
    assert minutes == 2 * 120  # two series, 120 minutes
    assert hours == 2 * 2
    gauge_id = await session.scalar(select(MetricSeries.id).where(MetricSeries.name == "host_cpu_percent"))
    minute = (
        await session.execute(
            select(MetricSampleMinute).where(MetricSampleMinute.series_id == gauge_id, MetricSampleMinute.at == T0)
        )
    ).scalar_one()
    assert (minute.min, minute.max, minute.sum, minute.count) == (0.0, 45.0, 90.0, 4)
    hour = (
        await session.execute(select(MetricSampleHour).where(MetricSampleHour.series_id == gauge_id, MetricSampleHour.at == T0))
    ).scalar_one()
    assert (hour.min, hour.max, hour.count) == (0.0, 45.0, 240)
    assert hour.sum / hour.count == pytest.approx(22.5)
    # A second run finds nothing new.
    assert await service.downsample(session=session, now=T0 + 3 * 3600, lag=0) == (0, 0)

    start, end = datetime.fromtimestamp(T0, UTC), datetime.fromtimestamp(T0 + 2 * 3600, UTC)
    (cpu,) = await service.query(session=session, name="host_cpu_percent", start=start, end=end)
    assert len(cpu.points) == 2 * 3600 // 30  # 2 hours of raw samples, a 30 s step
    assert [value for _, value in cpu.points[:2]] == [7.5, 37.5]
    (cpu,) = await service.query(session=session, name="host_cpu_percent", start=start, end=end, step_seconds=60)
    assert all(value == pytest.approx(22.5) for _, value in cpu.points)  # averages over whole minutes
    (rx,) = await service.query(session=session, name="host_network_rx_bytes", start=start, end=end)
    assert all(value == pytest.approx(2.0) for _, value in rx.points)  # 30 bytes every 15 s: 2 bytes/s
    week = datetime.fromtimestamp(T0 + 8 * 86_400, UTC)
    (rx_hours,) = await service.query(session=session, name="host_network_rx_bytes", start=start, end=week)
    assert rx_hours.points[0][1] == pytest.approx(2.0)  # from the hour tier, a 3-hour step holding 2 hours of data
    assert rx_hours.points[0][0] == start


async def test_retention_prunes_each_tier_and_idle_series(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """GIVEN samples in every tier WHEN pruned a day and a half later with a 1-day raw retention THEN raw rows are
    gone, minutes and hours kept; a series with no sample left goes too."""
    recorder = Recorder()
    for tick in range(0, 3 * 60, 15):
        recorder.record("host_load1", 1.0, {"host": "h", "source": "replica"})
        await recorder.flush(sessions, at=T0 + tick)
    await service.downsample(session=session, now=T0 + 2 * 3600, lag=0)
    now = T0 + 36 * 3600
    await service.prune(session=session, raw_seconds=86_400, minute_seconds=7 * 86_400, hour_seconds=365 * 86_400, now=now)
    assert await session.scalar(select(func.count()).select_from(MetricSampleRaw)) == 0
    assert await session.scalar(select(func.count()).select_from(MetricSampleMinute)) == 3
    assert await session.scalar(select(func.count()).select_from(MetricSampleHour)) == 1
    await service.prune(session=session, raw_seconds=86_400, minute_seconds=86_400, hour_seconds=86_400, now=now + 86_400)
    assert await session.scalar(select(func.count()).select_from(MetricSampleHour)) == 0
    # The series was made "now" by the clock of the test; it goes once it is older than the raw retention.
    await service.prune(session=session, raw_seconds=3600, minute_seconds=3600, hour_seconds=86_400, now=2_000_000_000 * 10)
    assert await session.scalar(select(func.count()).select_from(MetricSeries)) == 0


async def test_series_per_name_are_capped(session: AsyncSession, sessions: async_sessionmaker[AsyncSession]) -> None:
    """GIVEN a cap of 5 series per name WHEN 8 label sets are noted THEN 5 series exist and the rest is dropped."""
    recorder = Recorder(max_series_per_name=5)
    for index in range(8):
        recorder.record("jobs_queued", 1.0, {"queue": f"q{index}"})
    assert await recorder.flush(sessions, at=T0) == 5
    assert await session.scalar(select(func.count()).select_from(MetricSeries)) == 5
    recorder.record("jobs_queued", 2.0, {"queue": "q7"})
    assert await recorder.flush(sessions, at=T0 + 15) == 0

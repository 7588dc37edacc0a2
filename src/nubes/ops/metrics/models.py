"""Tables of ops/metrics: one row per series (a metric name and its labels) and its samples in three tiers.

Times are whole epoch seconds (`at`), so buckets are integer arithmetic on SQLite and PostgreSQL alike. The raw tier
keeps one value per series per collection round. Gauges hold the measured value; counters hold what was added during
the round (a per-interval delta), so sums over any bucket, across replicas, give totals and rates. The 1-minute and
1-hour tiers keep, per bucket, `min`, `max`, `sum` and `count` of the raw values: a gauge's average is sum / count,
a counter's total is sum.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nubes.core.db import Base, utcnow


class MetricSeries(Base):
    """One time series: a metric name with one set of labels (`tenant_id` set when a `tenant` label names one)."""

    __tablename__ = "metric_series"
    __table_args__ = (UniqueConstraint("name", "labels_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    labels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    labels_key: Mapped[str] = mapped_column(String(2000))
    """The labels as one canonical string (sorted `key=value` pairs joined by newlines)."""
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    """No foreign key: a sample noted for a tenant deleted meanwhile must not fail the whole batch; the series of a
    deleted tenant get no more samples and are pruned with them."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MetricSampleRaw(Base):
    """A value of a series at one collection round (a counter: what was added during the round)."""

    __tablename__ = "metric_samples_raw"
    __table_args__ = (Index("ix_metric_samples_raw_at", "at"),)

    series_id: Mapped[int] = mapped_column(ForeignKey("metric_series.id", ondelete="CASCADE"), primary_key=True)
    at: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    value: Mapped[float] = mapped_column(Float)


class MetricSampleMinute(Base):
    """The raw values of a series within one minute (`at`: the minute's first second)."""

    __tablename__ = "metric_samples_minute"
    __table_args__ = (Index("ix_metric_samples_minute_at", "at"),)

    series_id: Mapped[int] = mapped_column(ForeignKey("metric_series.id", ondelete="CASCADE"), primary_key=True)
    at: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    min: Mapped[float] = mapped_column(Float)
    max: Mapped[float] = mapped_column(Float)
    sum: Mapped[float] = mapped_column(Float)
    count: Mapped[int] = mapped_column(Integer)


class MetricSampleHour(Base):
    """The raw values of a series within one hour, summed up from its minutes (`at`: the hour's first second)."""

    __tablename__ = "metric_samples_hour"
    __table_args__ = (Index("ix_metric_samples_hour_at", "at"),)

    series_id: Mapped[int] = mapped_column(ForeignKey("metric_series.id", ondelete="CASCADE"), primary_key=True)
    at: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    min: Mapped[float] = mapped_column(Float)
    max: Mapped[float] = mapped_column(Float)
    sum: Mapped[float] = mapped_column(Float)
    count: Mapped[int] = mapped_column(Integer)

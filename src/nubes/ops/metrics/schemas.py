"""What the metrics API reads and answers: the catalog, a range query's series and the latest values."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

MetricName = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[a-z][a-z0-9_]*$")]
"""A metric name as the catalog spells it."""

LabelFilter = Annotated[str, StringConstraints(max_length=251, pattern=r"^[a-z][a-z0-9_]{0,49}:[^\x00-\x1f]{0,200}$")]
"""`key:value`: the series whose label `key` equals `value`."""

Range = Literal["1h", "24h", "7d", "30d"]
"""The ranges a chart offers."""

RANGE_SECONDS: dict[str, int] = {"1h": 3600, "24h": 86_400, "7d": 7 * 86_400, "30d": 30 * 86_400}
"""Each range's length in seconds."""

MAX_LABEL_FILTERS = 8
"""Label filters one query may carry."""


class MetricRead(BaseModel):
    """A metric of the catalog: what it measures, in which unit, with which labels, and whose it is."""

    name: str
    unit: str
    help: str
    labels: list[str]
    scope: Literal["platform", "node", "container", "tenant"]
    kind: Literal["gauge", "counter"] = Field(description="A counter is answered as a rate per second.")


class SeriesRead(BaseModel):
    """One series of a query: its labels and its points as [epoch seconds, value]."""

    labels: dict[str, str]
    points: list[tuple[int, float]]


class QueryRead(BaseModel):
    """The series of one metric over a range, one point per step."""

    name: str
    unit: str
    step_seconds: int
    start: datetime
    end: datetime
    series: list[SeriesRead]


class LatestValue(BaseModel):
    """The last value of one series, and when it was taken."""

    labels: dict[str, str]
    at: datetime
    value: float


class LatestRead(BaseModel):
    """The last value of each series of one metric."""

    name: str
    unit: str
    values: list[LatestValue]

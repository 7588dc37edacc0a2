"""Routes of ops/metrics: the catalog, a metric over a range, its latest values (ops.monitor; a tenant admin sees only
series labelled with their tenant)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Query

from nubes.core.db import SessionDep
from nubes.core.principal import Principal
from nubes.core.routing import api_router
from nubes.identity.deps import require
from nubes.ops.metrics import service
from nubes.ops.metrics.schemas import (
    MAX_LABEL_FILTERS,
    RANGE_SECONDS,
    LabelFilter,
    LatestRead,
    LatestValue,
    MetricName,
    MetricRead,
    QueryRead,
    Range,
    SeriesRead,
)

router = api_router(prefix="/ops/metrics", tags=["ops"])

Monitor = Annotated[Principal, Depends(require("ops.monitor"))]
Labels = Annotated[
    list[LabelFilter],
    Query(
        alias="label",
        max_length=MAX_LABEL_FILTERS,
        description="`key:value` (repeatable): only the series whose label `key` equals `value`.",
    ),
]


def _labels(filters: list[str]) -> dict[str, str]:
    return dict(item.split(":", 1) for item in filters)


@router.get("/catalog", operation_id="ops-metrics-catalog", response_model=list[MetricRead], summary="The metrics one may query")
async def catalog(principal: Monitor) -> list[MetricRead]:
    """Every stored metric the caller may see, with its unit, labels and scope."""
    return [
        MetricRead(name=name, unit=m.unit, help=m.help, labels=list(m.labels), scope=m.scope, kind=m.kind)
        for name, m in service.visible(principal).items()
    ]


@router.get("/query", operation_id="ops-metrics-query", response_model=QueryRead, summary="A metric over a range")
async def query(
    session: SessionDep,
    principal: Monitor,
    name: Annotated[MetricName, Query()],
    range_: Annotated[Range, Query(alias="range")] = "1h",
    labels: Labels = [],  # noqa: B006  (FastAPI copies defaults)
) -> QueryRead:
    """The series of `name` over the last `range`, one point per step (counters as rates per second)."""
    metric = service.get_or_raise(principal=principal, name=name)
    end = datetime.now(UTC)
    start = end - timedelta(seconds=RANGE_SECONDS[range_])
    span = RANGE_SECONDS[range_]
    step = service.step_for(span, service.tier_for(span))
    found = await service.query(
        session=session,
        name=name,
        labels=_labels(labels),
        start=start,
        end=end,
        step_seconds=step,
        tenant_id=service.scope_tenant(principal),
    )
    return QueryRead(
        name=name,
        unit=metric.unit,
        step_seconds=step,
        start=start,
        end=end,
        series=[SeriesRead(labels=s.labels, points=[(int(at.timestamp()), value) for at, value in s.points]) for s in found],
    )


@router.get("/latest", operation_id="ops-metrics-latest", response_model=LatestRead, summary="A metric's latest values")
async def latest(
    session: SessionDep,
    principal: Monitor,
    name: Annotated[MetricName, Query()],
    labels: Labels = [],  # noqa: B006  (FastAPI copies defaults)
) -> LatestRead:
    """The last stored value of each series of `name` (a counter: its rate over the last five minutes)."""
    metric = service.get_or_raise(principal=principal, name=name)
    found = await service.latest(session=session, name=name, labels=_labels(labels), tenant_id=service.scope_tenant(principal))
    return LatestRead(
        name=name, unit=metric.unit, values=[LatestValue(labels=labels, at=at, value=value) for labels, at, value in found]
    )

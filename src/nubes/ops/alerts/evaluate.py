"""Evaluation of alert rules: each matched series reduced to one value, compared, and moved through its states.

inactive → pending (the condition holds) → firing (it held for `for_seconds`) → resolved (it no longer holds).
A rule reads its metric over the last `window_seconds` and reduces each series' points there:

- `last`, `max`, `min`, `avg`: the latest value, or the largest / smallest / mean in the window;
- `increase`: how much it grew in the window: a counter's growth; a gauge's rises (a drop counts from zero, a reset);
- `age`: seconds between now and the latest value, for metrics that hold a Unix time (a backup's last success).

Derived metrics: a name in `DERIVED` (`host_disk_used_ratio`) is computed here as its numerator reduced, divided by
the latest value of the denominator series with the same labels; the metrics service stores only what it measures.
A series without points in the window has no data: the rule's `no_data` says whether that is ok or alerting. An
install-wide metric (no labels, such as the last backup's time) that was never recorded counts as no data too, so
"no recent backup" fires on an install that never made one.
"""

from __future__ import annotations

import itertools
import json
import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.ops.alerts.models import AlertEvent, AlertInstance, AlertRule
from nubes.ops.metrics import service as metrics_service

MAX_INSTANCES = 1_000
"""Series one rule follows; beyond that (sorted by labels) they are ignored, so one rule cannot flood the tables."""

TENANT_LABEL = "tenant"
MIN_STEP = 15
"""The finest step a rule reads its metric at (seconds)."""
MAX_POINTS = 100
"""The most points per series one evaluation reads (a long window reads coarser steps)."""


@dataclass(frozen=True, slots=True)
class MetricInfo:
    """A metric a rule may watch, as the alerts UI shows it."""

    name: str
    unit: str
    help: str
    labels: tuple[str, ...]
    scope: str
    derived: bool = False


DERIVED: dict[str, tuple[str, str, str]] = {
    "host_disk_used_ratio": ("host_disk_used_bytes", "host_disk_total_bytes", "Disk used as a share of its size (0..1)"),
    "host_memory_used_ratio": ("host_memory_used_bytes", "host_memory_total_bytes", "Memory used as a share of all (0..1)"),
}
"""Ratios computed by the evaluator: name → (numerator metric, denominator metric, help)."""


def catalog() -> dict[str, MetricInfo]:
    """Every metric a rule may name: the metrics service's catalog and the derived ratios."""
    found: dict[str, MetricInfo] = {}
    for name, entry in metrics_service.CATALOG.items():
        found[name] = MetricInfo(name=name, unit=entry.unit, help=entry.help, labels=tuple(entry.labels), scope=entry.scope)
    for name, (numerator, _denominator, help_) in DERIVED.items():
        base = found.get(numerator)
        if base is not None:
            found[name] = MetricInfo(name=name, unit="ratio", help=help_, labels=base.labels, scope=base.scope, derived=True)
    return found


@dataclass(frozen=True, slots=True)
class Observation:
    """One series of a rule, reduced to the value the rule compares."""

    labels: dict[str, str]
    value: float


@dataclass(frozen=True, slots=True)
class Transition:
    """An instance that fired or resolved in this round: what the notifier announces."""

    rule: AlertRule
    instance: AlertInstance
    kind: str  # fired | resolved
    value: float | None


def labels_key(labels: Mapping[str, str]) -> str:
    """The labels as one canonical string (sorted JSON): one instance per distinct series."""
    return json.dumps(dict(sorted(labels.items())), separators=(",", ":"), ensure_ascii=False)


def reduce(reducer: str, points: Sequence[tuple[datetime, float]], *, now: datetime, counter: bool = False) -> float | None:
    """The value of one series' points under `reducer`; None when there are no (finite) points."""
    values = [value for _at, value in points if math.isfinite(value)]
    if not values:
        return None
    if reducer == "increase":
        return (
            sum(values)
            if counter
            else sum(after - before if after >= before else after for before, after in itertools.pairwise(values))
        )
    if reducer == "age":
        return now.timestamp() - values[-1]
    return _PLAIN[reducer](values)


_PLAIN: dict[str, Callable[[list[float]], float]] = {
    "last": lambda values: values[-1],
    "max": max,
    "min": min,
    "avg": lambda values: sum(values) / len(values),
}


def holds(comparator: str, value: float, threshold: float) -> bool:
    """Whether `value <comparator> threshold`."""
    if comparator == ">":
        return value > threshold
    if comparator == ">=":
        return value >= threshold
    if comparator == "<":
        return value < threshold
    return value <= threshold


async def _series(
    *, session: AsyncSession, name: str, labels: Mapping[str, str], start: datetime, end: datetime, tenant_id: uuid.UUID | None
) -> list[tuple[dict[str, str], list[tuple[datetime, float]]]]:
    """The one place that reads the metrics service: each matched series' labels and its points in [start, end].

    A counter's points are what it grew by in each step (the service answers rates per second), so that `increase`
    sums them and `max` sees the largest growth in one step.
    """
    span = (end - start).total_seconds()
    step = max(MIN_STEP, int(span) // MAX_POINTS, metrics_service.tier_for(span).resolution)
    metric = metrics_service.CATALOG.get(name)
    per_step = float(step) if metric is not None and metric.kind == "counter" else 1.0
    # The service's range excludes its end: one second more takes in a sample taken this very second.
    found = await metrics_service.query(
        session=session,
        name=name,
        labels=labels,
        start=start,
        end=end + timedelta(seconds=1),
        step_seconds=step,
        tenant_id=tenant_id,
    )
    return [(dict(series.labels), [(at, value * per_step) for at, value in series.points]) for series in found]


async def observe(*, session: AsyncSession, rule: AlertRule, now: datetime) -> list[Observation]:
    """The rule's series over its window, each reduced to one value (derived ratios computed here)."""
    start = now - timedelta(seconds=rule.window_seconds)
    numerator_name, denominator_name = rule.metric, ""
    if rule.metric in DERIVED:
        numerator_name, denominator_name, _help = DERIVED[rule.metric]
    read = await _series(
        session=session, name=numerator_name, labels=rule.matchers, start=start, end=now, tenant_id=rule.tenant_id
    )
    denominators: dict[str, float] = {}
    if denominator_name:
        for labels, points in await _series(
            session=session, name=denominator_name, labels=rule.matchers, start=start, end=now, tenant_id=rule.tenant_id
        ):
            latest = reduce("last", points, now=now)
            if latest is not None and latest != 0:
                denominators[labels_key(labels)] = latest
    known = metrics_service.CATALOG.get(numerator_name)
    counter = known is not None and known.kind == "counter"
    observations: list[Observation] = []
    for labels, points in sorted(read, key=lambda item: labels_key(item[0]))[:MAX_INSTANCES]:
        value = reduce(rule.reducer, points, now=now, counter=counter)
        if value is None:
            continue
        if denominator_name:
            total = denominators.get(labels_key(labels))
            if total is None:
                continue
            value /= total
        observations.append(Observation(labels=labels, value=value))
    return observations


async def evaluate_rule(*, session: AsyncSession, rule: AlertRule, now: datetime) -> list[Transition]:
    """Move each of the rule's instances one step; record fired/resolved events; return the transitions."""
    observations = {labels_key(seen.labels): seen for seen in await observe(session=session, rule=rule, now=now)}
    instances = {
        row.labels_key: row for row in await session.scalars(select(AlertInstance).where(AlertInstance.rule_id == rule.id))
    }
    transitions: list[Transition] = []
    gone: list[uuid.UUID] = []
    keys = set(observations) | set(instances)
    missing_counts = rule.no_data == "alerting" and _singleton(rule)
    if missing_counts:
        keys.add(labels_key({}))  # an install-wide figure never recorded (no backup yet) is missing, not fine
    for key in sorted(keys):
        seen = observations.get(key)
        instance = instances.get(key)
        if seen is None:
            if rule.no_data != "alerting" and instance is not None and instance.state in {"inactive", "resolved"}:
                gone.append(instance.id)
                continue
            value, condition = None, rule.no_data == "alerting"
        else:
            value, condition = seen.value, holds(rule.comparator, seen.value, rule.threshold)
        if instance is None:
            # Every series with data gets an instance (inactive while fine), so that its silence later is noticed.
            if len(instances) >= MAX_INSTANCES or (seen is None and not missing_counts):
                continue
            labels = seen.labels if seen is not None else {}
            instance = AlertInstance(
                rule_id=rule.id, tenant_id=rule.tenant_id, labels_key=key, labels=labels, state="inactive", since=now
            )
            session.add(instance)
            instances[key] = instance
        kind = _step(instance, condition=condition, for_seconds=rule.for_seconds, now=now)
        instance.value = value
        instance.evaluated_at = now
        if kind is not None:
            session.add(
                AlertEvent(
                    rule_id=rule.id, tenant_id=rule.tenant_id, rule_name=rule.name, severity=rule.severity,
                    labels=instance.labels, kind=kind, value=value, at=now,
                )
            )  # fmt: skip
            transitions.append(Transition(rule=rule, instance=instance, kind=kind, value=value))
    if gone:
        await session.execute(delete(AlertInstance).where(AlertInstance.id.in_(gone)))
    await session.flush()
    return transitions


def _singleton(rule: AlertRule) -> bool:
    """Whether the rule watches one install-wide series (a metric without labels, no matchers)."""
    known = metrics_service.CATALOG.get(rule.metric)
    return known is not None and not known.labels and not rule.matchers


def _step(instance: AlertInstance, *, condition: bool, for_seconds: int, now: datetime) -> str | None:
    """The state machine: the instance's next state, and `fired`/`resolved` when that is a transition to announce."""
    if condition:
        if instance.state in {"inactive", "resolved"}:
            instance.state, instance.since = "pending", now
        if instance.state == "pending" and now - instance.since >= timedelta(seconds=for_seconds):
            instance.state, instance.since = "firing", now
            return "fired"
        return None
    if instance.state == "firing":
        instance.state, instance.since = "resolved", now
        return "resolved"
    if instance.state == "pending":
        instance.state, instance.since = "inactive", now
    return None

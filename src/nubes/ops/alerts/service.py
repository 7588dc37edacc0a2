"""Rules of alerts: who sees and changes which rules, targets and silences; the round that evaluates every rule.

A row with `tenant_id` NULL belongs to the platform: only super-admins see or change it. Everything else belongs to
one tenant and is seen by its holders of `ops.monitor` and changed by its holders of `ops.alerts`; a tenant's rule
watches only metrics labelled with a tenant, restricted to its own series by the evaluator.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core import audit, crypto, mail
from nubes.core.db import utcnow
from nubes.core.errors import Forbidden, NotFound, UnprocessableEntity
from nubes.core.principal import Principal
from nubes.ops.alerts import evaluate, notify
from nubes.ops.alerts.models import AlertEvent, AlertInstance, AlertRule, AlertSilence, AlertTarget
from nubes.ops.alerts.schemas import (
    EventPage,
    EventRead,
    InstanceRead,
    MetricChoice,
    RuleBase,
    RuleCreate,
    RuleRead,
    RuleTemplate,
    RuleUpdate,
    Scope,
    SilenceCreate,
    SilenceRead,
    TargetCreate,
    TargetCreated,
    TargetRead,
    TargetTestResult,
)

log = structlog.get_logger("nubes.alerts")

MAX_RULES = 200
"""Rules per tenant (and on the platform)."""
MAX_TARGETS = 100
MAX_SILENCES = 200

TEMPLATES: tuple[RuleTemplate, ...] = (
    RuleTemplate(
        key="node-offline",
        title="Node offline",
        description="A node's agent has been disconnected for a minute.",
        rule=RuleBase(
            name="Node offline", metric="node_up", reducer="last", window_seconds=120, comparator="<", threshold=1,
            for_seconds=60, severity="critical", no_data="alerting",
        ),
    ),
    RuleTemplate(
        key="disk-full",
        title="Disk over 90 %",
        description="A disk of a replica or node is more than 90 % full for 5 minutes.",
        rule=RuleBase(
            name="Disk almost full", metric="host_disk_used_ratio", reducer="last", window_seconds=300,
            comparator=">", threshold=0.9, for_seconds=300, severity="warning",
        ),
    ),
    RuleTemplate(
        key="crash-loop",
        title="Container crash loop",
        description="A container restarted 3 times or more within 10 minutes.",
        rule=RuleBase(
            name="Container crash loop", metric="container_restarts", reducer="increase", window_seconds=600,
            comparator=">=", threshold=3, for_seconds=0, severity="critical",
        ),
    ),
    RuleTemplate(
        key="backup-failed",
        title="Backup failed",
        description="The last backup run failed.",
        rule=RuleBase(
            name="Backup failed", metric="backup_last_status", reducer="last", window_seconds=86_400, comparator="<",
            threshold=1, for_seconds=0, severity="critical",
        ),
    ),
    RuleTemplate(
        key="backup-missing",
        title="No successful backup for 26 h",
        description="The last successful backup is more than 26 hours old.",
        rule=RuleBase(
            name="No recent backup", metric="backup_last_success_timestamp", reducer="age", window_seconds=86_400,
            comparator=">", threshold=26 * 3600, for_seconds=0, severity="warning", no_data="alerting",
        ),
    ),
)  # fmt: skip
"""The built-in rule templates the UI offers."""


# --- scoping -----------------------------------------------------------------------------------------


def owner_of(principal: Principal, scope: Scope | None) -> uuid.UUID | None:
    """The tenant a new row belongs to (None: the platform); only super-admins make platform rows."""
    if scope == "platform" or (scope is None and principal.is_superadmin):
        if not principal.is_superadmin:
            raise Forbidden("Platform alerts belong to platform administrators: choose your organization as the scope.")
        return None
    return principal.tenant_id


def visible(column: Any, principal: Principal) -> ColumnElement[bool]:
    """Rows the principal may see: their tenant's, and the platform's for super-admins."""
    if principal.is_superadmin:
        return or_(column.is_(None), column == principal.tenant_id)
    condition: ColumnElement[bool] = column == principal.tenant_id
    return condition


def scope_of(tenant_id: uuid.UUID | None) -> Scope:
    """`platform` for a platform row, `tenant` otherwise."""
    return "platform" if tenant_id is None else "tenant"


# --- metrics -----------------------------------------------------------------------------------------


def metrics(*, principal: Principal) -> list[MetricChoice]:
    """The metrics the principal may alert on (a tenant's rules need a metric labelled with its tenant)."""
    return [
        MetricChoice(
            name=info.name, unit=info.unit, help=info.help, labels=list(info.labels), scope=info.scope, derived=info.derived
        )
        for info in sorted(evaluate.catalog().values(), key=lambda info: info.name)
        if principal.is_superadmin or evaluate.TENANT_LABEL in info.labels
    ]


def _check_rule(rule: RuleBase | AlertRule, tenant_id: uuid.UUID | None, targets: Sequence[AlertTarget]) -> None:
    info = evaluate.catalog().get(rule.metric)
    if info is None:
        raise UnprocessableEntity(f"There is no metric named {rule.metric!r}: pick one from the list of metrics.")
    if tenant_id is not None and evaluate.TENANT_LABEL not in info.labels:
        raise UnprocessableEntity(
            f"{rule.metric} is a platform metric: an organization's rules can watch only metrics labelled by organization."
        )
    unknown = sorted(set(rule.matchers) - set(info.labels))
    if unknown:
        raise UnprocessableEntity(
            f"{rule.metric} has no label {unknown[0]!r}; its labels are: {', '.join(info.labels) or 'none'}."
        )
    if any(target.tenant_id != tenant_id for target in targets):
        raise UnprocessableEntity("A rule notifies only targets of its own scope: add the target there first.")


async def _targets(session: AsyncSession, principal: Principal, ids: Sequence[uuid.UUID]) -> list[AlertTarget]:
    if not ids:
        return []
    found = list(
        await session.scalars(select(AlertTarget).where(AlertTarget.id.in_(set(ids)), visible(AlertTarget.tenant_id, principal)))
    )
    if len(found) != len(set(ids)):
        raise UnprocessableEntity("A notification target of this rule does not exist: pick targets from the list.")
    return found


# --- rules -------------------------------------------------------------------------------------------


async def read_rules(*, session: AsyncSession, rules: Sequence[AlertRule]) -> list[RuleRead]:
    """The rules as the API shows them, with how many of their series are firing and pending."""
    counts: dict[tuple[uuid.UUID, str], int] = {}
    if rules:
        rows = await session.execute(
            select(AlertInstance.rule_id, AlertInstance.state, func.count())
            .where(AlertInstance.rule_id.in_([rule.id for rule in rules]), AlertInstance.state.in_(["firing", "pending"]))
            .group_by(AlertInstance.rule_id, AlertInstance.state)
        )
        counts = {(rule_id, state): count for rule_id, state, count in rows}
    known = evaluate.catalog()
    return [
        RuleRead(
            id=rule.id, name=rule.name, metric=rule.metric, matchers=rule.matchers, reducer=rule.reducer,
            window_seconds=rule.window_seconds, comparator=rule.comparator, threshold=rule.threshold,
            for_seconds=rule.for_seconds, severity=rule.severity, no_data=rule.no_data, enabled=rule.enabled,
            target_ids=[uuid.UUID(target_id) for target_id in rule.target_ids], scope=scope_of(rule.tenant_id),
            unit=known[rule.metric].unit if rule.metric in known else "",
            firing=counts.get((rule.id, "firing"), 0), pending=counts.get((rule.id, "pending"), 0),
            created_at=rule.created_at, updated_at=rule.updated_at,
        )
        for rule in rules
    ]  # fmt: skip


async def list_rules(*, session: AsyncSession, principal: Principal) -> list[AlertRule]:
    """The rules the principal may see, by name."""
    return list(
        await session.scalars(
            select(AlertRule)
            .where(visible(AlertRule.tenant_id, principal))
            .order_by(AlertRule.name, AlertRule.id)
            .limit(MAX_RULES * 2)
        )
    )


async def get_rule_or_raise(*, session: AsyncSession, principal: Principal, rule_id: uuid.UUID) -> AlertRule:
    """One visible rule, or 404."""
    rule = await session.scalar(select(AlertRule).where(AlertRule.id == rule_id, visible(AlertRule.tenant_id, principal)))
    if rule is None:
        raise NotFound("This alert rule does not exist (or was deleted): reload the list of rules.")
    return rule


async def create_rule(*, session: AsyncSession, principal: Principal, rule_in: RuleCreate, origin: audit.Origin) -> AlertRule:
    """Make a rule in the principal's tenant (or on the platform, for super-admins)."""
    tenant_id = owner_of(principal, rule_in.scope)
    targets = await _targets(session, principal, rule_in.target_ids)
    _check_rule(rule_in, tenant_id, targets)
    held = await session.scalar(select(func.count()).select_from(AlertRule).where(_same_owner(AlertRule.tenant_id, tenant_id)))
    if (held or 0) >= MAX_RULES:
        raise UnprocessableEntity(f"At most {MAX_RULES} alert rules per organization: delete rules you no longer need.")
    rule = AlertRule(
        tenant_id=tenant_id, created_by=principal.user_id,
        **rule_in.model_dump(exclude={"scope", "target_ids"}), target_ids=[str(target.id) for target in targets],
    )  # fmt: skip
    session.add(rule)
    await session.flush()
    await audit.record(
        session=session, action="ops.alerts.rule.create", origin=origin, principal=principal, tenant_id=tenant_id,
        target_type="alert_rule", target_id=rule.id, detail={"name": rule.name, "metric": rule.metric},
    )  # fmt: skip
    return rule


async def update_rule(
    *, session: AsyncSession, principal: Principal, rule_id: uuid.UUID, rule_in: RuleUpdate, origin: audit.Origin
) -> AlertRule:
    """Change a rule; a changed condition starts its series over (their instances are dropped)."""
    rule = await get_rule_or_raise(session=session, principal=principal, rule_id=rule_id)
    changes = rule_in.model_dump(exclude_unset=True, exclude_none=True)
    target_ids = changes.pop("target_ids", None)
    targets = await _targets(session, principal, target_ids) if target_ids is not None else None
    for field, value in changes.items():
        setattr(rule, field, value)
    if targets is not None:
        rule.target_ids = [str(target.id) for target in targets]
    _check_rule(rule, rule.tenant_id, targets or [])
    if changes.keys() & {"metric", "matchers", "reducer", "window_seconds", "comparator", "threshold"}:
        await session.execute(delete(AlertInstance).where(AlertInstance.rule_id == rule.id))
    rule.updated_at = utcnow()
    await session.flush()
    fields = sorted([*changes, *(["target_ids"] if targets is not None else [])])
    await audit.record(
        session=session, action="ops.alerts.rule.update", origin=origin, principal=principal, tenant_id=rule.tenant_id,
        target_type="alert_rule", target_id=rule.id, detail={"fields": fields},
    )  # fmt: skip
    return rule


async def delete_rule(*, session: AsyncSession, principal: Principal, rule_id: uuid.UUID, origin: audit.Origin) -> None:
    """Delete a rule with its instances and history."""
    rule = await get_rule_or_raise(session=session, principal=principal, rule_id=rule_id)
    await audit.record(
        session=session, action="ops.alerts.rule.delete", origin=origin, principal=principal, tenant_id=rule.tenant_id,
        target_type="alert_rule", target_id=rule.id, detail={"name": rule.name},
    )  # fmt: skip
    await session.delete(rule)
    await session.flush()


def _same_owner(column: Any, tenant_id: uuid.UUID | None) -> ColumnElement[bool]:
    condition: ColumnElement[bool] = column.is_(None) if tenant_id is None else column == tenant_id
    return condition


# --- targets -----------------------------------------------------------------------------------------


def read_target(target: AlertTarget) -> TargetRead:
    """A target as the API shows it (never its secret)."""
    return TargetRead(
        id=target.id, name=target.name, kind=target.kind, emails=target.emails, url=target.url,
        scope=scope_of(target.tenant_id), created_at=target.created_at,
    )  # fmt: skip


def read_created_target(target: AlertTarget, secret: str | None) -> TargetCreated:
    """A target just made, with its webhook secret: the only answer that carries it."""
    return TargetCreated(**read_target(target).model_dump(), secret=secret)


async def list_targets(*, session: AsyncSession, principal: Principal) -> list[AlertTarget]:
    """The targets the principal may see, by name."""
    return list(
        await session.scalars(
            select(AlertTarget)
            .where(visible(AlertTarget.tenant_id, principal))
            .order_by(AlertTarget.name, AlertTarget.id)
            .limit(MAX_TARGETS * 2)
        )
    )


async def get_target_or_raise(*, session: AsyncSession, principal: Principal, target_id: uuid.UUID) -> AlertTarget:
    """One visible target, or 404."""
    target = await session.scalar(
        select(AlertTarget).where(AlertTarget.id == target_id, visible(AlertTarget.tenant_id, principal))
    )
    if target is None:
        raise NotFound("This notification target does not exist (or was deleted): reload the list of targets.")
    return target


async def create_target(
    *, session: AsyncSession, principal: Principal, settings: Settings, target_in: TargetCreate, origin: audit.Origin
) -> tuple[AlertTarget, str | None]:
    """Make a target; a webhook gets a new signing secret, returned here once and kept sealed."""
    tenant_id = owner_of(principal, target_in.scope)
    if target_in.kind == "email" and not target_in.emails:
        raise UnprocessableEntity("Give at least one e-mail address to notify.")
    if target_in.kind == "webhook" and not target_in.url:
        raise UnprocessableEntity("Give the URL (http or https) that receives the webhook's POST requests.")
    held = await session.scalar(
        select(func.count()).select_from(AlertTarget).where(_same_owner(AlertTarget.tenant_id, tenant_id))
    )
    if (held or 0) >= MAX_TARGETS:
        raise UnprocessableEntity(f"At most {MAX_TARGETS} notification targets per organization: delete unused ones first.")
    secret = notify.new_secret() if target_in.kind == "webhook" else None
    target = AlertTarget(
        tenant_id=tenant_id, name=target_in.name, kind=target_in.kind, created_by=principal.user_id,
        emails=list(dict.fromkeys(target_in.emails)) if target_in.kind == "email" else [],
        url=target_in.url or "" if target_in.kind == "webhook" else "",
        secret_sealed=crypto.seal(settings.secret_key, notify.SECRET_PURPOSE, secret) if secret else "",
    )  # fmt: skip
    session.add(target)
    await session.flush()
    await audit.record(
        session=session, action="ops.alerts.target.create", origin=origin, principal=principal, tenant_id=tenant_id,
        target_type="alert_target", target_id=target.id, detail={"name": target.name, "kind": target.kind},
    )  # fmt: skip
    return target, secret


async def delete_target(*, session: AsyncSession, principal: Principal, target_id: uuid.UUID, origin: audit.Origin) -> None:
    """Delete a target (rules naming it skip it from now on)."""
    target = await get_target_or_raise(session=session, principal=principal, target_id=target_id)
    await audit.record(
        session=session, action="ops.alerts.target.delete", origin=origin, principal=principal, tenant_id=target.tenant_id,
        target_type="alert_target", target_id=target.id, detail={"name": target.name},
    )  # fmt: skip
    await session.delete(target)
    await session.flush()


async def test_target(
    *, session: AsyncSession, principal: Principal, settings: Settings, target_id: uuid.UUID, origin: audit.Origin
) -> TargetTestResult:
    """Send a test notification: e-mails are queued in the outbox, a webhook is posted now and its answer reported."""
    target = await get_target_or_raise(session=session, principal=principal, target_id=target_id)
    await audit.record(
        session=session, action="ops.alerts.target.test", origin=origin, principal=principal, tenant_id=target.tenant_id,
        target_type="alert_target", target_id=target.id,
    )  # fmt: skip
    if target.kind == "email":
        for address in target.emails:
            await mail.enqueue(
                session=session, to=address, subject="[Nubes] Test notification",
                body=f"This is a test of the alert target {target.name!r}, sent by {principal.username}. It works.",
            )  # fmt: skip
        return TargetTestResult(ok=True, detail=f"A test e-mail is on its way to {len(target.emails)} address(es).")
    try:
        secret = crypto.unseal(settings.secret_key, notify.SECRET_PURPOSE, target.secret_sealed)
    except crypto.SealError:
        return TargetTestResult(ok=False, detail="The signing secret cannot be opened: delete this target and add it again.")
    key = f"test:{uuid.uuid4()}"
    body = {"id": key, "kind": "test", "target": target.name, "at": utcnow().isoformat()}
    outcome = await notify.post(url=target.url, secret=secret, key=key, body=body, private_ok=target.tenant_id is None)
    detail = (
        f"The receiver answered {outcome.detail}."
        if outcome.ok
        else f"Not delivered ({outcome.detail}): check the URL and that the receiver is reachable from the server."
    )
    return TargetTestResult(ok=outcome.ok, detail=detail)


# --- instances and history ----------------------------------------------------------------------------


async def list_instances(*, session: AsyncSession, principal: Principal, now: datetime | None = None) -> list[InstanceRead]:
    """The pending and firing instances now, firing first, then the most recent."""
    now = now or utcnow()
    rows = await session.execute(
        select(AlertInstance, AlertRule)
        .join(AlertRule, AlertRule.id == AlertInstance.rule_id)
        .where(AlertInstance.state.in_(["firing", "pending"]), visible(AlertRule.tenant_id, principal))
        .order_by(AlertInstance.state, AlertInstance.since.desc())
        .limit(500)
    )
    silences = await notify.active_silences(session=session, now=now)
    return [
        InstanceRead(
            id=instance.id, rule_id=rule.id, rule_name=rule.name, severity=rule.severity, labels=instance.labels,
            state=instance.state, since=instance.since, value=instance.value, evaluated_at=instance.evaluated_at,
            silenced=notify.silenced(silences, rule=rule, labels=instance.labels),
        )
        for instance, rule in rows
    ]  # fmt: skip


async def list_events(
    *, session: AsyncSession, principal: Principal, rule_id: uuid.UUID | None, limit: int, offset: int
) -> EventPage:
    """The history, newest first, optionally of one rule."""
    wanted = [visible(AlertEvent.tenant_id, principal)]
    if rule_id is not None:
        wanted.append(AlertEvent.rule_id == rule_id)
    total = await session.scalar(select(func.count()).select_from(AlertEvent).where(*wanted))
    rows = await session.scalars(
        select(AlertEvent).where(*wanted).order_by(AlertEvent.at.desc(), AlertEvent.id).limit(limit).offset(offset)
    )
    items = [
        EventRead(
            id=row.id, rule_id=row.rule_id, rule_name=row.rule_name, severity=row.severity, labels=row.labels,
            kind=row.kind, value=row.value, detail=row.detail, at=row.at,
        )
        for row in rows
    ]  # fmt: skip
    return EventPage(items=items, total=total or 0)


# --- silences ----------------------------------------------------------------------------------------


def read_silence(silence: AlertSilence, now: datetime | None = None) -> SilenceRead:
    """A silence as the API shows it."""
    now = now or utcnow()
    return SilenceRead(
        id=silence.id, rule_id=silence.rule_id, matchers=silence.matchers, starts_at=silence.starts_at,
        ends_at=silence.ends_at, comment=silence.comment, scope=scope_of(silence.tenant_id),
        active=silence.starts_at <= now < silence.ends_at, created_at=silence.created_at,
    )  # fmt: skip


async def list_silences(*, session: AsyncSession, principal: Principal) -> list[AlertSilence]:
    """The silences not yet over, and those that ended in the last day, newest first."""
    since = utcnow() - timedelta(days=1)
    return list(
        await session.scalars(
            select(AlertSilence)
            .where(visible(AlertSilence.tenant_id, principal), AlertSilence.ends_at > since)
            .order_by(AlertSilence.ends_at.desc())
            .limit(MAX_SILENCES)
        )
    )


async def create_silence(
    *, session: AsyncSession, principal: Principal, silence_in: SilenceCreate, origin: audit.Origin
) -> AlertSilence:
    """Mute a rule's (or every rule's) matching instances for a while; a rule's silence takes the rule's scope."""
    if silence_in.rule_id is not None:
        rule = await get_rule_or_raise(session=session, principal=principal, rule_id=silence_in.rule_id)
        tenant_id = rule.tenant_id
    else:
        tenant_id = owner_of(principal, silence_in.scope)
    held = await session.scalar(
        select(func.count())
        .select_from(AlertSilence)
        .where(_same_owner(AlertSilence.tenant_id, tenant_id), AlertSilence.ends_at > utcnow())
    )
    if (held or 0) >= MAX_SILENCES:
        raise UnprocessableEntity(f"At most {MAX_SILENCES} silences at a time: expire the ones you no longer need.")
    starts_at = silence_in.starts_at or utcnow()
    silence = AlertSilence(
        tenant_id=tenant_id, rule_id=silence_in.rule_id, matchers=silence_in.matchers, starts_at=starts_at,
        ends_at=starts_at + timedelta(seconds=silence_in.duration_seconds), comment=silence_in.comment,
        created_by=principal.user_id,
    )  # fmt: skip
    session.add(silence)
    await session.flush()
    await audit.record(
        session=session, action="ops.alerts.silence.create", origin=origin, principal=principal, tenant_id=tenant_id,
        target_type="alert_silence", target_id=silence.id, detail={"comment": silence.comment[:100]},
    )  # fmt: skip
    return silence


async def expire_silence(
    *, session: AsyncSession, principal: Principal, silence_id: uuid.UUID, origin: audit.Origin
) -> AlertSilence:
    """End a silence now (it stays listed for a day)."""
    silence = await session.scalar(
        select(AlertSilence).where(AlertSilence.id == silence_id, visible(AlertSilence.tenant_id, principal))
    )
    if silence is None:
        raise NotFound("This silence does not exist (or ended long ago): reload the list of silences.")
    now = utcnow()
    if silence.ends_at > now:
        silence.ends_at = max(now, silence.starts_at)
    await session.flush()
    await audit.record(
        session=session, action="ops.alerts.silence.expire", origin=origin, principal=principal, tenant_id=silence.tenant_id,
        target_type="alert_silence", target_id=silence.id,
    )  # fmt: skip
    return silence


# --- evaluation --------------------------------------------------------------------------------------


async def evaluate_all(*, session: AsyncSession, now: datetime | None = None) -> tuple[int, int]:
    """Evaluate every enabled rule once and queue the notifications of its transitions; (e-mails, webhooks) queued.

    Each rule runs in a savepoint: one that fails (a metric gone) is logged and skipped, the others still count.
    """
    now = now or utcnow()
    rules = list(await session.scalars(select(AlertRule).where(AlertRule.enabled.is_(True)).order_by(AlertRule.id)))
    mails = hooks = 0
    for rule in rules:
        try:
            async with session.begin_nested():
                transitions = await evaluate.evaluate_rule(session=session, rule=rule, now=now)
                sent = await notify.announce(session=session, transitions=transitions, now=now)
        except Exception:  # one broken rule must not stop the others
            log.exception("alerts.rule_failed", rule_id=str(rule.id))
            continue
        mails, hooks = mails + sent[0], hooks + sent[1]
    return mails, hooks

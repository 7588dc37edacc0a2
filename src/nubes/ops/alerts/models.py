"""Tables of ops/alerts: rules, where they notify, their instances' states, the history, webhook deliveries, silences."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nubes.core.db import Base, utcnow


class AlertRule(Base):
    """A threshold on a stored metric held for a while: each matched series is one instance with its own state.

    `tenant_id` NULL is a platform rule (super-admins only); a tenant's rule sees only series labelled with its tenant.
    """

    __tablename__ = "alert_rules"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    metric: Mapped[str] = mapped_column(String(100))
    matchers: Mapped[dict[str, str]] = mapped_column(JSON)  # exact label matches
    reducer: Mapped[str] = mapped_column(String(10))  # last | max | min | avg | increase | age
    window_seconds: Mapped[int] = mapped_column()
    comparator: Mapped[str] = mapped_column(String(2))  # > >= < <=
    threshold: Mapped[float] = mapped_column(Float)
    for_seconds: Mapped[int] = mapped_column()
    severity: Mapped[str] = mapped_column(String(10))  # info | warning | critical
    no_data: Mapped[str] = mapped_column(String(10))  # ok | alerting
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    target_ids: Mapped[list[str]] = mapped_column(JSON)  # alert_targets ids (a deleted target is skipped)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertTarget(Base):
    """Where a rule's notifications go: a list of e-mail addresses, or a webhook URL signed with a sealed secret."""

    __tablename__ = "alert_targets"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))  # email | webhook
    emails: Mapped[list[str]] = mapped_column(JSON)
    url: Mapped[str] = mapped_column(String(2048), default="")
    secret_sealed: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertInstance(Base):
    """One series of a rule and where it stands: inactive, pending (true, not yet for long enough), firing, resolved."""

    __tablename__ = "alert_instances"
    __table_args__ = (UniqueConstraint("rule_id", "labels_key"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    rule_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"))
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    labels_key: Mapped[str] = mapped_column(String(1000))  # the labels as sorted JSON: one instance per series
    labels: Mapped[dict[str, str]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(10))
    since: Mapped[datetime] = mapped_column()
    value: Mapped[float | None] = mapped_column(Float, default=None)
    evaluated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertEvent(Base):
    """One line of the history: an instance fired or resolved, a notification was sent or failed."""

    __tablename__ = "alert_events"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    rule_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"))
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    rule_name: Mapped[str] = mapped_column(String(100))
    severity: Mapped[str] = mapped_column(String(10))
    labels: Mapped[dict[str, str]] = mapped_column(JSON)
    kind: Mapped[str] = mapped_column(String(10))  # fired | resolved | notified | failed | silenced
    value: Mapped[float | None] = mapped_column(Float, default=None)
    detail: Mapped[str] = mapped_column(String(500), default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)


Index("ix_alert_events_tenant_at", AlertEvent.tenant_id, AlertEvent.at)
Index("ix_alert_events_rule_at", AlertEvent.rule_id, AlertEvent.at)


class AlertDelivery(Base):
    """A webhook POST owed for one transition: written with the transition, sent (at least once) by the notifier.

    `key` is the idempotency key the receiver sees (`X-Nubes-Delivery`): a retry after a crash repeats it.
    """

    __tablename__ = "alert_deliveries"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    target_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("alert_targets.id", ondelete="CASCADE"), index=True)
    rule_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(String(500), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


Index("ix_alert_deliveries_due", AlertDelivery.sent_at, AlertDelivery.next_attempt_at)


class AlertSilence(Base):
    """While it lasts, matching instances still change state and are recorded, but send nothing."""

    __tablename__ = "alert_silences"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    rule_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"), default=None)
    matchers: Mapped[dict[str, str]] = mapped_column(JSON)
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    comment: Mapped[str] = mapped_column(String(500))
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

"""The audit trail: security-relevant actions append a row; admins filter, page and export it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from nubes.core.db import Base, like_prefix, utcnow
from nubes.core.principal import Principal


class AuditEvent(Base):
    """One thing that happened: who, in which tenant, did what to what, from where, and how it ended."""

    __tablename__ = "audit_events"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(150), default="")
    action: Mapped[str] = mapped_column(String(100))
    target_type: Mapped[str] = mapped_column(String(50), default="")
    target_id: Mapped[str] = mapped_column(String(100), default="")
    outcome: Mapped[str] = mapped_column(String(20), default="success")  # success | failure | denied
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(500), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


Index("ix_audit_events_tenant_time", AuditEvent.tenant_id, AuditEvent.created_at)


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a request came from, for the audit row."""

    ip: str = ""
    user_agent: str = ""


async def record(
    *,
    session: AsyncSession,
    action: str,
    origin: Origin,
    principal: Principal | None = None,
    tenant_id: uuid.UUID | None = None,
    actor_id: uuid.UUID | None = None,
    actor_name: str = "",
    target_type: str = "",
    target_id: object = "",
    outcome: str = "success",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit row (never a secret in `detail`)."""
    event = AuditEvent(
        tenant_id=tenant_id or (principal.tenant_id if principal else None),
        actor_id=actor_id or (principal.user_id if principal else None),
        actor_name=actor_name or (principal.username if principal else ""),
        action=action,
        target_type=target_type,
        target_id=str(target_id) if target_id else "",
        outcome=outcome,
        ip=origin.ip[:64],
        user_agent=origin.user_agent[:500],
        detail=detail or {},
    )
    session.add(event)
    await session.flush()
    return event


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """What an admin asks of the log."""

    tenant_id: uuid.UUID | None
    action: str | None = None
    actor: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None


async def search(*, session: AsyncSession, wanted: AuditFilter, limit: int, offset: int) -> tuple[list[AuditEvent], int]:
    """Matching rows, newest first, with the total count; `tenant_id=None` means every tenant (super-admins)."""
    query = select(AuditEvent)
    if wanted.tenant_id is not None:
        query = query.where(AuditEvent.tenant_id == wanted.tenant_id)
    if wanted.action:
        query = query.where(like_prefix(AuditEvent.action, wanted.action))
    if wanted.actor:
        query = query.where(AuditEvent.actor_name == wanted.actor.lower())
    if wanted.outcome:
        query = query.where(AuditEvent.outcome == wanted.outcome)
    if wanted.since:
        query = query.where(AuditEvent.created_at >= wanted.since)
    if wanted.until:
        query = query.where(AuditEvent.created_at < wanted.until)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(query.order_by(AuditEvent.created_at.desc(), AuditEvent.id).limit(limit).offset(offset))
    return list(rows), int(total or 0)

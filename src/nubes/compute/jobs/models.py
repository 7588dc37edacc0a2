"""Tables of jobs."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from nubes.core.db import Base, utcnow


class Job(Base):
    """One operation on a container: who asked for what, when, and how it ended."""

    __tablename__ = "jobs"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    actor_name: Mapped[str] = mapped_column(String(150), default="")
    action: Mapped[str] = mapped_column(String(20))  # create | start | stop | restart | kill | delete
    target_type: Mapped[str] = mapped_column(String(20), default="container")
    container_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("containers.id", ondelete="SET NULL"), default=None)
    target_id: Mapped[str] = mapped_column(String(100))  # kept when the container is gone
    node_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("nodes.id", ondelete="SET NULL"), index=True, default=None)
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued | sent | succeeded | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime | None] = mapped_column(default=None)  # sent no earlier (an auto-restart's backoff)
    output: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


Index("ix_jobs_tenant_time", Job.tenant_id, Job.created_at)

Index("ix_jobs_node_status", Job.node_id, Job.status)

Index("ix_jobs_actor_time", Job.actor_name, Job.created_at)  # auto-restarts in a window (ops/metrics)

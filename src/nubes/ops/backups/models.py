"""Tables of ops/backups: one row per backup run (manual, scheduled or from the CLI), with its outcome."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Float, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from nubes.core.db import Base, utcnow

ERROR_LIMIT = 1000
DETAIL_LIMIT = 500


class BackupRun(Base):
    """A backup of the whole install: queued, running, succeeded or failed; its snapshot is a restore point.

    Platform-wide (not a tenant's): only super-admins see these rows.
    """

    __tablename__ = "backup_runs"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    trigger: Mapped[str] = mapped_column(String(16))  # manual (the UI), schedule, cli
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued, running, succeeded, failed
    stage: Mapped[str] = mapped_column(String(32), default="")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    snapshot_id: Mapped[str | None] = mapped_column(String(64), default=None)
    bytes_added: Mapped[int] = mapped_column(BigInteger, default=0)
    total_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    files: Mapped[int] = mapped_column(BigInteger, default=0)
    duration_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    verified: Mapped[bool | None] = mapped_column(Boolean, default=None)
    verify_detail: Mapped[str] = mapped_column(String(DETAIL_LIMIT), default="")
    error: Mapped[str | None] = mapped_column(String(ERROR_LIMIT), default=None)

    __table_args__ = (Index("ix_backup_runs_status_created", "status", "created_at"),)

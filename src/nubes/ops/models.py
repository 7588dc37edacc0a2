"""Tables of the ops domain."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from nubes.core.db import Base


def _now() -> datetime:
    return datetime.now(UTC)


class SystemSetting(Base):
    """One platform-wide setting (not owned by a tenant), stored as JSON under a dotted key."""

    __tablename__ = "system_settings"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, onupdate=_now, nullable=False)

"""Tables of containers."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from nubes.core.db import Base, utcnow


class Container(Base):
    """A tenant's container: made from an egg, placed on a node, with limits and a lifecycle state."""

    __tablename__ = "containers"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    name: Mapped[str] = mapped_column(String(100))
    egg_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("eggs.id", ondelete="RESTRICT"), index=True)
    node_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("nodes.id", ondelete="RESTRICT"), index=True)
    image: Mapped[str] = mapped_column(String(500))
    cpu: Mapped[int] = mapped_column(Integer)  # percent of one core
    memory_mb: Mapped[int] = mapped_column(Integer)
    disk_mb: Mapped[int] = mapped_column(Integer)
    pids: Mapped[int] = mapped_column(Integer, default=256)
    environment: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    startup: Mapped[str] = mapped_column(Text)  # rendered: variables substituted
    # installing | install_failed | stopped | starting | running | stopping | crashed | deleting
    state: Mapped[str] = mapped_column(String(20), default="installing")
    desired_state: Mapped[str] = mapped_column(String(20), default="stopped")  # stopped | running | deleted
    state_reason: Mapped[str] = mapped_column(String(500), default="")
    # Auto-restart: `never` or `on-crash`; at most `restart_max_retries` restarts within `restart_window_seconds`,
    # the n-th after `restart_backoff_seconds * 2^(n-1)` seconds. Past that the container stays crashed.
    restart_policy: Mapped[str] = mapped_column(String(20), default="never", server_default="never")
    restart_max_retries: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    restart_window_seconds: Mapped[int] = mapped_column(Integer, default=600, server_default="600")
    restart_backoff_seconds: Mapped[int] = mapped_column(Integer, default=5, server_default="5")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

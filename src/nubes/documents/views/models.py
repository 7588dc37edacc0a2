"""Tables of saved views: one row per view, owned by a user, optionally shared with their organization."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nubes.core.db import Base, utcnow


class SavedView(Base):
    """A documents list its owner named: the list's query, the columns shown, and where it is pinned.

    The query holds what the documents list takes (filters, scope, sort); ids of terms deleted since are dropped
    when the view is read, so a view always opens.
    """

    __tablename__ = "document_views"
    __table_args__ = (UniqueConstraint("owner_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    query: Mapped[dict[str, Any]] = mapped_column(JSON)
    columns: Mapped[list[str]] = mapped_column(JSON)
    in_sidebar: Mapped[bool] = mapped_column(default=False)
    on_overview: Mapped[bool] = mapped_column(default=False)
    shared: Mapped[bool] = mapped_column(default=False)  # every member of the organization sees it (read-only)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


Index("ix_document_views_tenant_owner", SavedView.tenant_id, SavedView.owner_id)

"""Tables of thumbnails: one preview (or the job that makes it) per file content."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from nubes.core.db import Base, utcnow


class FileThumbnail(Base):
    """The thumbnail job of a file's current content, and its result once made.

    One row per file: writing a new content resets it to `pending` for the new `source_sha256`, so a
    worker that finishes an older content finds the row changed and throws its work away. The
    thumbnail's blob is derived data: it is not counted against any quota and is deleted with the row.
    """

    __tablename__ = "file_thumbnails"

    file_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("file_nodes.id", ondelete="CASCADE"), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    source_sha256: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(10), default="pending")  # pending | ready | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    blob_key: Mapped[str | None] = mapped_column(String(64), default=None)
    size: Mapped[int] = mapped_column(Integer, default=0)
    width: Mapped[int] = mapped_column(Integer, default=0)
    height: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(300), default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


Index("ix_file_thumbnails_due", FileThumbnail.state, FileThumbnail.next_attempt_at)

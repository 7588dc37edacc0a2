"""Tables of extraction: the text of each document's current content, or the durable job that reads it."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from nubes.core.db import Base, utcnow


class DocumentContent(Base):
    """The extraction job of a document's current content, and the text once read.

    One row per document: a new content of its file resets it to `pending` for the new `source_sha256`, so a
    worker that finishes an older content finds the row changed and throws its work away (as thumbnails do).
    """

    __tablename__ = "document_contents"

    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    source_sha256: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(10), default="pending")  # pending | running | done | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    progress: Mapped[int] = mapped_column(Integer, default=0)  # percent, while running
    method: Mapped[str] = mapped_column(String(20), default="")  # text-layer | ocr | plain | email | office
    pages: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(String(500), default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


Index("ix_document_contents_due", DocumentContent.state, DocumentContent.next_attempt_at)

"""Tables of the documents settings: one row per tenant that changed the defaults."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from nubes.core.db import Base, utcnow


class DocumentSettings(Base):
    """What an organization allows into Documents, and how its scans are read (no row: the defaults)."""

    __tablename__ = "document_settings"

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    max_upload_bytes: Mapped[int] = mapped_column(BigInteger, default=0)  # 0: only the files limits apply
    allowed_types: Mapped[list[str]] = mapped_column(JSON, default=list)  # file name extensions ("pdf"); []: any
    ocr_languages: Mapped[str] = mapped_column(String(120), default="")  # "": the server's NUBES_OCR_LANGUAGES
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

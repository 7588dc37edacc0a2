"""Tables of versions: earlier contents of files and each tenant's retention settings."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nubes.core.db import Base, utcnow


class FileVersion(Base):
    """An earlier content of a file, kept when it was overwritten; counts against the quota until purged."""

    __tablename__ = "file_versions"
    __table_args__ = (UniqueConstraint("file_id", "version_no"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("file_nodes.id", ondelete="CASCADE"), index=True)
    version_no: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(255), default="")
    blob_key: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)  # when this content was written
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class TenantFilesSettings(Base):
    """A tenant's files rules: how many earlier versions to keep and for how many days (0: no limit)."""

    __tablename__ = "tenant_files_settings"

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    keep_versions: Mapped[int] = mapped_column(Integer, default=10)
    keep_days: Mapped[int] = mapped_column(Integer, default=0)
    # "allow" (the default) or "refuse": names a Windows computer cannot hold (`a:b`, `CON`, a trailing dot), refused on
    # every write path so every member's sync client can hold every file.
    windows_names: Mapped[str] = mapped_column(String(10), default="allow", server_default="allow")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

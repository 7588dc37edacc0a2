"""Tables of uploads: uploads in progress (tus and presigned)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from nubes.core.db import Base, utcnow


class FileUpload(Base):
    """An upload that has begun but not yet made a file: a tus upload, or a presigned PUT waiting for finalize.

    The quota is charged for `length` bytes when the row is made (a reservation), so parallel uploads
    cannot pass the quota together; the reservation is released when the upload ends without a file.
    Bytes arrive in the staging object `staging_key` of the storage backend; `offset` counts only bytes
    that are durably stored (fsynced on disk, a completed object on S3).
    """

    __tablename__ = "file_uploads"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # tus | presign
    length: Mapped[int] = mapped_column(BigInteger)
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    # No foreign keys: a folder or file purged meanwhile must not take the row (and its quota reservation)
    # with it; completion then fails with a 404 and the expiry sweep gives the reservation back.
    parent_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    target_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    name: Mapped[str] = mapped_column(String(255), default="")
    content_type: Mapped[str] = mapped_column(String(255), default="")
    sha256: Mapped[str | None] = mapped_column(String(64), default=None)  # what the client promised (presign)
    staging_key: Mapped[str] = mapped_column(String(64))
    reserved: Mapped[int] = mapped_column(BigInteger, default=0)  # quota bytes held for this upload
    state: Mapped[str] = mapped_column(String(10), default="open")  # open | done
    node_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("file_nodes.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)

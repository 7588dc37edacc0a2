"""Tables of quota: bytes used and the quota of each user and tenant."""

from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, ForeignKey, Index, text
from sqlalchemy.orm import Mapped, mapped_column

from nubes.core.db import Base


class StorageUsage(Base):
    """Bytes stored and the quota, for one user (`user_id` set) or a whole tenant (`user_id` null).

    Updated only by a conditional `UPDATE ... WHERE used + n <= quota`, which the database applies
    atomically, so parallel writes can never pass the quota together.
    """

    __tablename__ = "storage_usage"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    used_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    quota_bytes: Mapped[int | None] = mapped_column(BigInteger, default=None)  # None: the configured default


Index(
    "uq_storage_usage_tenant",
    StorageUsage.tenant_id,
    unique=True,
    postgresql_where=text("user_id IS NULL"),
    sqlite_where=text("user_id IS NULL"),
)

"""Tables of sharing: grants of a file or folder to a user or a group."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nubes.core.db import Base, utcnow


class FileShare(Base):
    """A file or folder (and, for a folder, everything under it) shared with one user or one group of its tenant.

    `permission` is one of view < edit < reshare; each includes the ones before it.
    """

    __tablename__ = "file_shares"
    __table_args__ = (
        UniqueConstraint("node_id", "user_id"),
        UniqueConstraint("node_id", "group_id"),
        CheckConstraint("(user_id IS NULL) <> (group_id IS NULL)", name="one_recipient"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    node_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("file_nodes.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))  # the node's owner
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    permission: Mapped[str] = mapped_column(String(10))  # view | edit | reshare
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


Index("ix_file_shares_owner", FileShare.owner_id)

"""Tables of public links: the links themselves and each tenant's link policy."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from nubes.core.db import Base, utcnow


class PublicLink(Base):
    """A link that opens a file or folder without an account, at `/s/<token>`.

    The token is looked up by its SHA-256 (`token_hash`); `token_sealed` is the token encrypted with
    the server secret, so its owner can copy the link again later while a copy of the database
    alone reveals no working link. The password, when set, is an argon2id hash.
    """

    __tablename__ = "public_links"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    node_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("file_nodes.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))  # the node's owner
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(10))  # view | edit | upload
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_sealed: Mapped[str] = mapped_column(String(255))
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    max_downloads: Mapped[int | None] = mapped_column(BigInteger, default=None)
    download_count: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LinkPolicy(Base):
    """A tenant's rules for public links (no row: no rules)."""

    __tablename__ = "link_policies"

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    default_expiry_days: Mapped[int | None] = mapped_column(Integer, default=None)
    max_expiry_days: Mapped[int | None] = mapped_column(Integer, default=None)
    require_password: Mapped[bool] = mapped_column(Boolean, default=False)

"""Tables of locks: the write locks WebDAV clients take on files and folders."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from nubes.core.db import Base, utcnow

TOKEN_PREFIX = "urn:nubes:"  # noqa: S105 (a URI prefix, not a secret)
OWNER_XML_LIMIT = 4096
"""Bytes of the client's `DAV:owner` element kept with a lock (a larger one is refused)."""


class FileLock(Base):
    """A write lock on a node (RFC 4918 section 6): exclusive or shared, on the node alone or its whole subtree.

    The token (`urn:nubes:<id as base64url>`) names the lock; only the user who took it may use it. A lock past
    `expires_at` is no lock: every read ignores it, and new locks sweep the expired ones away.
    """

    __tablename__ = "file_locks"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    node_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("file_nodes.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    exclusive: Mapped[bool] = mapped_column(Boolean)
    depth_infinity: Mapped[bool] = mapped_column(Boolean)
    owner_xml: Mapped[str | None] = mapped_column(String(OWNER_XML_LIMIT), default=None)  # the client's DAV:owner
    root: Mapped[str] = mapped_column(Text)  # the href the lock was taken on
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()

    @property
    def token(self) -> str:
        """The lock token clients send back in `If` and `Lock-Token` headers.

        Short on purpose: `urn:nubes:` and the id's 16 bytes in base64url, 32 characters where `opaquelocktoken:<uuid>`
        takes 52. Clients echo it beside ETags of 66 (a quoted SHA-256) in `If` lists, and some keep such a header in a
        fixed buffer (litmus' conditional PUTs: 200 bytes for a token and two ETags).
        """
        return self.token_of(self.id)

    @staticmethod
    def token_of(lock_id: uuid.UUID) -> str:
        """The token of the lock `lock_id`."""
        return TOKEN_PREFIX + base64.urlsafe_b64encode(lock_id.bytes).rstrip(b"=").decode()


# Whether a tenant holds any live lock at all: one index probe before every write (most tenants hold none).
Index("ix_file_locks_tenant_expires", FileLock.tenant_id, FileLock.expires_at)

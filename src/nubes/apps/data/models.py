"""Tables of apps.data: apps' JSON documents in named collections, their changes feed and their attachments."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nubes.core.db import Base, utcnow

SHARED = "shared"
"""The `space` of a tenant's shared collections (a user's own collections have the user's id as their space)."""


class DataCollection(Base):
    """A named collection of documents: a user's own (`owner_id`) or the tenant's shared one (`owner_id` None).

    Its row is also the changes feed's counter: every write takes its row lock and bumps `last_seq` in the write's
    transaction, so the writers of one feed commit one after another and in sequence order (a reader at `since=N`
    never misses a smaller seq committed later). `documents` and `bytes` count its live documents and attachments.
    """

    __tablename__ = "app_data_collections"
    __table_args__ = (UniqueConstraint("tenant_id", "space", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True, default=None)
    space: Mapped[str] = mapped_column(String(32))  # the owner's id in hex, or SHARED
    name: Mapped[str] = mapped_column(String(100))
    client_id: Mapped[str | None] = mapped_column(String(200), default=None)  # the app that made it (None: the user)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    documents: Mapped[int] = mapped_column(Integer, default=0)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class DataDocument(Base):
    """A JSON document under a key of its collection, at revision `rev` (`<n>-<hash>`); a deletion leaves a tombstone."""

    __tablename__ = "app_data_documents"
    __table_args__ = (UniqueConstraint("collection_id", "key"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    collection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_data_collections.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    rev: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(BigInteger)  # the change that made this revision
    body: Mapped[str | None] = mapped_column(Text, default=None)  # compact JSON; None once deleted
    size: Mapped[int] = mapped_column(BigInteger, default=0)  # bytes of `body`, counted in `charged_to`'s quota
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    charged_to: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class DataChange(Base):
    """One write in a collection's changes feed, in the order the writes committed (`seq`, gapless per collection)."""

    __tablename__ = "app_data_changes"

    collection_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_data_collections.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    rev: Mapped[str] = mapped_column(String(64))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DataAttachment(Base):
    """A named blob attached to a document, stored under a key of its own and gone with the document.

    `blob_key` is None while a presigned upload is pending (its bytes staged under `staging_key`); the quota is
    charged for `size` from the moment the upload is asked for.
    """

    __tablename__ = "app_data_attachments"
    __table_args__ = (UniqueConstraint("document_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_data_documents.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(200), default="application/octet-stream")
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    blob_key: Mapped[str | None] = mapped_column(String(64), default=None)
    staging_key: Mapped[str | None] = mapped_column(String(64), default=None)
    charged_to: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

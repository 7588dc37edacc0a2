"""Tables of the files domain: the tree, old versions, favorites, name-search terms and storage usage."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from nubes.core.db import Base, utcnow

# Byte-wise ordering on PostgreSQL too (SQLite's default is already byte-wise), so a prefix is a
# plain index range whatever the database's locale.
_BYTEWISE = String(255).with_variant(String(255, collation="C"), "postgresql")


class FileNode(Base):
    """A folder or a file in one user's space; each user has one root folder (`kind="root"`, no parent).

    Trash: the node a user deleted has `trashed_at`; it and everything under it have `in_trash`,
    which takes them out of listings, searches and the sibling-name uniqueness.
    """

    __tablename__ = "file_nodes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # No ON DELETE CASCADE: SQLite stops such a chain at 1,000 levels; tree deletes go level by level instead.
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("file_nodes.id"))
    kind: Mapped[str] = mapped_column(String(10))  # root | folder | file
    name: Mapped[str] = mapped_column(String(255))  # NFC
    name_key: Mapped[str] = mapped_column(String(1024))  # NFC + casefold: what a clash is judged on
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    content_type: Mapped[str] = mapped_column(String(255), default="")
    blob_key: Mapped[str | None] = mapped_column(String(64), default=None)
    sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    version_no: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    trashed_at: Mapped[datetime | None] = mapped_column(default=None)
    in_trash: Mapped[bool] = mapped_column(Boolean, default=False)


# One live node per name (after normalization and case folding) in a folder; one root per user.
Index(
    "uq_file_nodes_live_name",
    FileNode.parent_id,
    FileNode.name_key,
    unique=True,
    postgresql_where=text("NOT in_trash AND parent_id IS NOT NULL"),
    sqlite_where=text("NOT in_trash AND parent_id IS NOT NULL"),
)
Index(
    "uq_file_nodes_root",
    FileNode.owner_id,
    unique=True,
    postgresql_where=text("parent_id IS NULL"),
    sqlite_where=text("parent_id IS NULL"),
)
Index("ix_file_nodes_parent", FileNode.parent_id, FileNode.in_trash)
Index("ix_file_nodes_owner_updated", FileNode.owner_id, FileNode.updated_at)
Index("ix_file_nodes_owner_trashed", FileNode.owner_id, FileNode.trashed_at)


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


class FileFavorite(Base):
    """A node a user starred."""

    __tablename__ = "file_favorites"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    node_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("file_nodes.id", ondelete="CASCADE"), primary_key=True, index=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FileNameTerm(Base):
    """One word of a node's name (and the whole name), for word-prefix search through an index range."""

    __tablename__ = "file_name_terms"

    node_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("file_nodes.id", ondelete="CASCADE"), primary_key=True)
    term: Mapped[str] = mapped_column(_BYTEWISE, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))


Index("ix_file_name_terms_owner_term", FileNameTerm.owner_id, FileNameTerm.term)


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

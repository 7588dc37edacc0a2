"""Tables of the tree: folders and files, favorites and name-search terms."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, text
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
    # When the content was last changed as the client that wrote it says (WebDAV and sync clients' `X-OC-Mtime`: a
    # file synced from a laptop keeps its own date); None: `updated_at`, when Nubes stored it. Never a change marker
    # (search and sync read `updated_at`), only what is shown as the file's date.
    modified_at: Mapped[datetime | None] = mapped_column(default=None)
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
# A folder's page in the listing's order (folders first: 'folder' > 'file'; then by name) read from the index, no sort.
Index(
    "ix_file_nodes_parent_listing",
    FileNode.parent_id,
    FileNode.in_trash,
    FileNode.kind.desc(),
    FileNode.name_key,
    FileNode.id,
)
Index("ix_file_nodes_owner_updated", FileNode.owner_id, FileNode.updated_at)
Index("ix_file_nodes_owner_trashed", FileNode.owner_id, FileNode.trashed_at)


class FileFavorite(Base):
    """A node a user starred."""

    __tablename__ = "file_favorites"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    node_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("file_nodes.id", ondelete="CASCADE"), primary_key=True, index=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FileNameTerm(Base):
    """One word of a live node's name (or its whole name, when that starts with no word), for word-prefix search.

    Only live nodes are indexed (trash removes a subtree's terms, restore puts them back), and each term carries
    the node's `name_key`, so a search reads its first 50 by name from this index alone (`ix_file_name_terms_owner_term`).
    """

    __tablename__ = "file_name_terms"

    node_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("file_nodes.id", ondelete="CASCADE"), primary_key=True)
    term: Mapped[str] = mapped_column(_BYTEWISE, primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name_key: Mapped[str] = mapped_column(String(1024))  # the node's, in its collation: search results sort on it


Index("ix_file_name_terms_owner_term", FileNameTerm.owner_id, FileNameTerm.term, FileNameTerm.name_key, FileNameTerm.node_id)

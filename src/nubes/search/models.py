"""Tables of search: one entry per indexed document, and (created by the migration, per engine) its full-text index.

SQLite: `search_fts`, an FTS5 table over `search_entries`' title, body and acl (external content, kept in step by
triggers, so an entry and its index row change in one transaction). PostgreSQL: `search_entries.tsv`, a generated
`tsvector` (title weight A, body B, acl D) with a GIN index. Neither is mapped here: `search.service` queries them by name.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from nubes.core.db import Base, utcnow


class SearchEntry(Base):
    """What the index holds of one document or plain file: its words, and who may find it (its file's owner and shares)."""

    __tablename__ = "search_entries"

    # An integer key: FTS5 keys its rows by an integer rowid.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10), default="document", server_default="document")  # document | file
    # A document's entry; empty for a plain file's (a file is indexed once: as its document when it is one).
    document_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), unique=True)
    file_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("file_nodes.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text, default="")  # the text read from it, then notes and vocabulary
    # Who may find it, as words the full-text index holds with the others (`service.acl_token` of the owner), so a
    # query intersects its words with its caller's entries inside the index.
    acl: Mapped[str] = mapped_column(String(200), default="", server_default="")
    source_changed_at: Mapped[datetime]  # the document's change this entry holds (stale when the document's differs)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


Index("ix_search_entries_owner", SearchEntry.tenant_id, SearchEntry.owner_id)
Index("uq_search_entries_file", SearchEntry.file_id, unique=True)

"""Tables of documents: a file of the tree plus its document metadata, its tags and categories, and its history."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nubes.core.db import Base, utcnow


class Document(Base):
    """The document metadata of one file: the file stays the record of the bytes (versions, quota, trash, shares).

    Deleting the document keeps the file; purging the file deletes the document (the foreign key cascades), and a
    file in the trash hides its document until it is restored.
    """

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("file_id"), UniqueConstraint("tenant_id", "archive_serial"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    file_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("file_nodes.id", ondelete="CASCADE"))
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(255))
    type_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("document_types.id", ondelete="SET NULL"))
    correspondent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("document_correspondents.id", ondelete="SET NULL"))
    archive_serial: Mapped[int | None] = mapped_column(Integer)
    created_on: Mapped[date | None] = mapped_column(Date)  # the date the document carries (a letter's date)
    notes: Mapped[str] = mapped_column(Text, default="")
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    modified_at: Mapped[datetime] = mapped_column(default=utcnow)


Index("ix_documents_owner_added", Document.tenant_id, Document.owner_id, Document.added_at)
Index("ix_documents_type", Document.type_id)
Index("ix_documents_correspondent", Document.correspondent_id)


class DocumentTag(Base):
    __tablename__ = "document_tag_links"

    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    tag_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("document_tags.id", ondelete="CASCADE"), primary_key=True)


Index("ix_document_tag_links_tag", DocumentTag.tag_id)


class DocumentCategory(Base):
    __tablename__ = "document_category_links"

    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    category_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("document_categories.id", ondelete="CASCADE"), primary_key=True)


Index("ix_document_category_links_category", DocumentCategory.category_id)


class DocumentChange(Base):
    """One change of a document's metadata: who, when, and each field's value before and after."""

    __tablename__ = "document_changes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    changes: Mapped[dict[str, list[object]]] = mapped_column(JSON)  # field: [before, after]


Index("ix_document_changes_document", DocumentChange.document_id, DocumentChange.at)

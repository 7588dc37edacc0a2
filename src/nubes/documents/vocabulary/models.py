"""Tables of the tenant's document vocabularies: types, correspondents, tags (with colours) and the category tree."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nubes.core.db import Base, utcnow


class Matching:
    """How a term's `match` text is matched against a document's text (Paperless' algorithms, explainable by
    construction: a suggestion names the words that matched)."""

    matching: Mapped[str] = mapped_column(String(10), default="none")  # none | any | all | exact | regex | fuzzy
    match: Mapped[str] = mapped_column(String(500), default="")
    case_sensitive: Mapped[bool] = mapped_column(Boolean, default=False)


class DocumentType(Base, Matching):
    """What a document is (Invoice, Contract, Payslip): one per document at most."""

    __tablename__ = "document_types"
    __table_args__ = (UniqueConstraint("tenant_id", "name_key"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(128))
    name_key: Mapped[str] = mapped_column(String(128))  # casefolded: "Invoice" and "invoice" are one type
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Correspondent(Base, Matching):
    """Who a document is from or to (a company, an office, a person)."""

    __tablename__ = "document_correspondents"
    __table_args__ = (UniqueConstraint("tenant_id", "name_key"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(128))
    name_key: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Tag(Base, Matching):
    """A label with a colour; a document has any number."""

    __tablename__ = "document_tags"
    __table_args__ = (UniqueConstraint("tenant_id", "name_key"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    name_key: Mapped[str] = mapped_column(String(64))
    color: Mapped[str] = mapped_column(String(7), default="#64748b")  # #rrggbb
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Category(Base):
    """A node of the category tree (Finance > Taxes > 2026); a document may sit in several categories."""

    __tablename__ = "document_categories"
    __table_args__ = (UniqueConstraint("tenant_id", "parent_key", "name_key"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("document_categories.id", ondelete="CASCADE"))
    # The parent's id as text, "" at the top: a unique constraint treats NULLs as distinct, so top-level names need it.
    parent_key: Mapped[str] = mapped_column(String(36), default="")
    name: Mapped[str] = mapped_column(String(128))
    name_key: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


Index("ix_document_categories_parent", Category.parent_id)

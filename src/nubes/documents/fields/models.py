"""Tables of custom fields: the tenant's definitions and the values documents carry (one typed column per kind)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nubes.core.db import Base, utcnow


class CustomField(Base):
    """A field documents of the tenant may carry (Amount, Due date, Contract number), with its data type."""

    __tablename__ = "document_custom_fields"
    __table_args__ = (UniqueConstraint("tenant_id", "name_key"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(128))
    name_key: Mapped[str] = mapped_column(String(128))  # casefolded: "Amount" and "amount" are one field
    # text | number | date | monetary | boolean | url | select | document_link
    data_type: Mapped[str] = mapped_column(String(16))
    # A select's options, [{"id": "...", "label": "..."}]: values hold the id, so a renamed option keeps its documents.
    options: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustomFieldValue(Base):
    """One document's value of one field (every column None: the document carries the field without a value)."""

    __tablename__ = "document_custom_field_values"

    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    field_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("document_custom_fields.id", ondelete="CASCADE"), primary_key=True)
    text: Mapped[str | None] = mapped_column(Text)  # text, url, a select's option id, a monetary amount ("12.50")
    number: Mapped[float | None] = mapped_column(Float)
    day: Mapped[date | None] = mapped_column(Date)
    flag: Mapped[bool | None] = mapped_column(Boolean)
    currency: Mapped[str | None] = mapped_column(String(3))  # ISO 4217, with the monetary amount in `text`
    # No foreign key: a link whose target is deleted later reads back as gone instead of vanishing.
    linked_id: Mapped[uuid.UUID | None] = mapped_column()


Index("ix_document_custom_field_values_field", CustomFieldValue.field_id)

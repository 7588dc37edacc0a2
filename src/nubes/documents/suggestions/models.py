"""Tables of suggestions: what Nubes proposes for a document, why, and what a person decided."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nubes.core.db import Base, utcnow


class Suggestion(Base):
    """One proposed value of one field of a document (a type, a correspondent, a tag, a category, a date), with its
    confidence and reason.

    `open` until someone accepts it (the value is applied and the decision kept) or rejects it (kept too, so it is
    not proposed again for that document).
    """

    __tablename__ = "document_suggestions"
    __table_args__ = (UniqueConstraint("document_id", "field", "term_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(String(20))  # type | correspondent | tag | category | date
    term_id: Mapped[uuid.UUID]  # a row of the field's vocabulary (deleted terms' suggestions go with them, by the service)
    # A date's ISO text (its `term_id` is derived from it: `classifier.service.date_term`); None for vocabulary terms.
    value: Mapped[str | None] = mapped_column(String(40), default=None)
    confidence: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(20), default="rule")  # rule | classifier
    reason: Mapped[dict[str, object]] = mapped_column(JSON)  # {"rule" or "model": "...", "words": [...]}
    state: Mapped[str] = mapped_column(String(10), default="open")  # open | accepted | rejected
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(default=None)

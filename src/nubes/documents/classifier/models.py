"""Tables of the classifier: one row per organization with its trained model (plain numbers) and its training job."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from nubes.core.db import Base, utcnow


class DocumentClassifier(Base):
    """An organization's classifier: the training job (`idle`, `pending` until `due_at`, `running` under a lease
    that ends at `due_at`) and what the last training made.

    `model` holds plain data only (vocabulary, idf, coefficients, intercepts: JSON numbers and strings), read back
    with numpy: never a pickle, since loading one from the database would run whatever code it carries.
    """

    __tablename__ = "document_classifiers"

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[str] = mapped_column(String(10), default="pending")  # idle | pending | running
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    trained_at: Mapped[datetime | None] = mapped_column(default=None)
    documents: Mapped[int] = mapped_column(Integer, default=0)  # documents the last training learnt from
    classes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # field: {"classes": [...], "note": str | None}
    problem: Mapped[str | None] = mapped_column(String(500), default=None)  # why it could not train (or learn a field)
    model: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # {} until trained
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

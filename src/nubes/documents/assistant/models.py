"""Tables of the AI assistant: the organization's provider settings (its key sealed), and one job per document."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from nubes.core.db import Base, utcnow


class AssistantSettings(Base):
    """An organization's AI provider (no row: the assistant is off).

    The API key is kept sealed with the server secret (`nubes.core.crypto.seal`) and never leaves the server but
    towards the provider, as a Bearer token.
    """

    __tablename__ = "document_assistant_settings"

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    base_url: Mapped[str] = mapped_column(String(500), default="")  # https://api.openai.com/v1 (no trailing slash)
    model: Mapped[str] = mapped_column(String(200), default="")
    api_key_sealed: Mapped[str | None] = mapped_column(String(1000), default=None)  # None: no key (a local server)
    system_prompt: Mapped[str] = mapped_column(Text, default="")  # "": the default prompt of this version of Nubes
    max_chars: Mapped[int] = mapped_column(Integer, default=8000)  # characters of a document's text sent at most
    timeout_seconds: Mapped[int] = mapped_column(Integer, default=60)  # for one answer of the provider
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)


class AssistantJob(Base):
    """The durable job asking the provider about one document once its text is read.

    `pending` until `next_attempt_at`, `running` under a lease that ends at `next_attempt_at`, then `done` or
    `failed` (with the reason). A new text of the document queues it again.
    """

    __tablename__ = "document_assistant_jobs"

    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(10), default="pending")  # pending | running | done | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    suggested: Mapped[int] = mapped_column(Integer, default=0)  # suggestions the last answer added
    error: Mapped[str | None] = mapped_column(String(500), default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


Index("ix_document_assistant_jobs_due", AssistantJob.state, AssistantJob.next_attempt_at)
Index("ix_document_assistant_jobs_tenant", AssistantJob.tenant_id)

"""The assistant's queue: one job row per document, queued when its text is read and its organization's assistant is
on. Apart from the service so that the extraction worker imports only tables and this."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.core.db import utcnow
from nubes.core.jobs import after_commit, wake
from nubes.documents.assistant.models import AssistantJob, AssistantSettings
from nubes.documents.records.models import Document

WORKER = "nubes-documents-assistant"
"""The assistant worker's name: what `wake` reaches, here and on every process of the install."""


async def after_text_read(session: AsyncSession, document_id: uuid.UUID) -> bool:
    """Queue the document for the provider when its organization's assistant is on (again, from its first attempt,
    when its text was read again); the worker is woken once the transaction commits. Whether it was queued."""
    tenant_id = await session.scalar(
        select(Document.tenant_id)
        .join(AssistantSettings, AssistantSettings.tenant_id == Document.tenant_id)
        .where(Document.id == document_id, AssistantSettings.enabled.is_(True))
    )
    if tenant_id is None:
        return False
    now = utcnow()
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    queued = {"state": "pending", "attempts": 0, "next_attempt_at": now, "error": None, "suggested": 0, "updated_at": now}
    await session.execute(
        insert(AssistantJob)
        .values(document_id=document_id, tenant_id=tenant_id, **queued)
        .on_conflict_do_update(index_elements=[AssistantJob.document_id], set_=queued)
    )
    after_commit(session, lambda: wake(WORKER))
    return True

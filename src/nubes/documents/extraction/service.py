"""Rules of extraction: each document's content gets one durable job that reads its text; a new content resets it.

The job itself runs in `extraction.tasks` (a `core.jobs.Worker`, on `nubes worker` when there is one); this module
queues it, resets it, and reads where it stands.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from nubes.core.db import utcnow
from nubes.core.jobs import after_commit, wake
from nubes.documents.extraction.models import DocumentContent

WORKER = "nubes-documents-extraction"
"""The extraction worker's name: what `wake` reaches, here and on every process of the install."""


def _wake_after_commit(session: AsyncSession) -> None:
    after_commit(session, lambda: wake(WORKER))


def schedule(session: AsyncSession, *, document_id: uuid.UUID, tenant_id: uuid.UUID, sha256: str) -> DocumentContent:
    """Queue reading a new document's text (the worker is woken once the transaction commits)."""
    content = DocumentContent(document_id=document_id, tenant_id=tenant_id, source_sha256=sha256)
    session.add(content)
    _wake_after_commit(session)
    return content


async def reanalyse(session: AsyncSession, *, document_id: uuid.UUID, sha256: str) -> None:
    """Read the document's text again from scratch (on demand, or because its file has a new content)."""
    await session.execute(
        update(DocumentContent)
        .where(DocumentContent.document_id == document_id)
        .values(
            source_sha256=sha256, state="pending", attempts=0, next_attempt_at=utcnow(), progress=0, error=None,
            updated_at=utcnow(),
        )
    )  # fmt: skip
    _wake_after_commit(session)


async def of(session: AsyncSession, document_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, DocumentContent]:
    """The extraction rows of these documents."""
    if not document_ids:
        return {}
    rows = await session.scalars(
        select(DocumentContent).options(defer(DocumentContent.text)).where(DocumentContent.document_id.in_(set(document_ids)))
    )
    return {row.document_id: row for row in rows}


async def text_of(session: AsyncSession, document_id: uuid.UUID) -> str:
    """The text read from the document ("" until it is)."""
    text = await session.scalar(select(DocumentContent.text).where(DocumentContent.document_id == document_id))
    return text or ""


def content_updated_at(document_id: Any) -> Any:
    """A SQL scalar: when the extraction row of `document_id` (a column) last changed (NULL: none)."""
    return select(DocumentContent.updated_at).where(DocumentContent.document_id == document_id).scalar_subquery()


async def texts_of(session: AsyncSession, document_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The texts read from these documents (those with none are left out)."""
    if not document_ids:
        return {}
    rows = await session.execute(
        select(DocumentContent.document_id, DocumentContent.text).where(DocumentContent.document_id.in_(set(document_ids)))
    )
    return {document_id: text for document_id, text in rows if text}

"""The classifier's training queue: one job row per organization, queued (debounced) when confirmed values change or
at once on demand. Apart from the service so that the flows, which run inside flushes, import only tables."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import Executable, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.core.db import utcnow
from nubes.core.jobs import after_commit, wake
from nubes.documents.classifier.models import DocumentClassifier

WORKER = "nubes-documents-classifier"
"""The training worker's name: what `wake` reaches, here and on every process of the install."""
DEBOUNCE = timedelta(seconds=60)
"""How long after confirmed values change the organization's classifier trains again (at most once in that time)."""


def _statements(dialect: str, tenant_id: uuid.UUID, *, at_once: bool) -> list[Executable]:
    """Make the organization's job row if missing, and queue it: at once, or `DEBOUNCE` from now unless it is
    queued already (the changes meanwhile are learnt by that same training)."""
    now = utcnow()
    due = now if at_once else now + DEBOUNCE
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    make = insert(DocumentClassifier).values(
        tenant_id=tenant_id, state="pending", due_at=due, documents=0, classes={}, model={}, updated_at=now
    )
    queue = update(DocumentClassifier).where(DocumentClassifier.tenant_id == tenant_id)
    if not at_once:
        queue = queue.where(DocumentClassifier.state != "pending")
    return [make.on_conflict_do_nothing(), queue.values(state="pending", due_at=due)]


def after_labels_changed(connection: Connection, tenant_id: uuid.UUID) -> None:
    """Queue a training `DEBOUNCE` from now, from inside a flush (the flows' mapper events)."""
    for statement in _statements(connection.dialect.name, tenant_id, at_once=False):
        connection.execute(statement)


async def now(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    """Queue a training now (the worker is woken once the transaction commits)."""
    for statement in _statements(session.get_bind().dialect.name, tenant_id, at_once=True):
        await session.execute(statement)
    after_commit(session, lambda: wake(WORKER))

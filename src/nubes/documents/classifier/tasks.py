"""The classifier's training worker: trains each organization whose training is due, on `nubes worker` when there is
one. A job is claimed with a lease (`NUBES_JOB_LEASE`); a worker that dies mid-training leaves it `running` with a
lapsed lease, and the next round claims it again."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nubes.core.db import utcnow
from nubes.core.jobs import Worker, claim
from nubes.documents.classifier import learning, queue, service
from nubes.documents.classifier.models import DocumentClassifier

log = structlog.get_logger("nubes.documents")


class ClassifierWorker(Worker):
    """Trains due organizations' classifiers: woken by "Retrain now", every 15 seconds for debounced trainings."""

    name = queue.WORKER
    log_prefix = "documents.classifier"
    interval = 15.0

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, lease: timedelta) -> None:
        super().__init__()
        self._sessions = sessions
        self._lease = lease

    async def run_due(self, limit: int = 5) -> int:
        """Train the due organizations (at most `limit`); return how many trainings were settled."""
        async with self._sessions() as session:
            due = list(
                await session.execute(
                    select(DocumentClassifier.tenant_id, DocumentClassifier.due_at)
                    .where(service.training_due())
                    .order_by(DocumentClassifier.due_at)
                    .limit(limit)
                )
            )
            await session.commit()
        settled = 0
        for tenant_id, due_at in due:
            claimed = await claim(
                self._sessions,
                update(DocumentClassifier)
                .where(DocumentClassifier.tenant_id == tenant_id, DocumentClassifier.due_at == due_at, service.training_due())
                .values(state="running", due_at=utcnow() + self._lease),
            )
            if claimed:
                await self._train(tenant_id)
                settled += 1
        return settled

    async def _train(self, tenant_id: uuid.UUID) -> None:
        async with self._sessions() as session:
            examples = await service.examples(session, tenant_id)
            await session.commit()
        training: learning.Training | None = None
        problem = None
        try:
            training = await asyncio.to_thread(learning.train, examples)
        except (ValueError, MemoryError, ArithmeticError) as exc:
            log.warning("documents.classifier_failed", tenant_id=str(tenant_id), error=f"{type(exc).__name__}: {exc}"[:200])
            problem = f"Training failed: {exc}"
        async with self._sessions() as session:
            await service.store(session, tenant_id, training, problem=problem)
            await session.commit()
        if training is not None:
            log.info(
                "documents.classifier_trained",
                tenant_id=str(tenant_id),
                documents=training.documents,
                classes={name: len(values) for name, values in training.classes.items()},
            )

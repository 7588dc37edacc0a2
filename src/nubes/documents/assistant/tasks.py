"""The assistant worker: asks the organization's provider about each queued document and adds what it proposes as
suggestions, on `nubes worker` when there is one.

A job is claimed with a lease (`NUBES_JOB_LEASE`, longer than the provider's timeout): a worker that dies mid-job
leaves it `running` with a lapsed lease, and the next round claims it again. A passing failure (the provider down,
a timeout, a 429 or 5xx, an answer that is not JSON) is retried with a growing pause, up to `MAX_ATTEMPTS`, then
the job fails with its reason; a refusal that trying again cannot fix (a wrong key, an unknown URL) fails at once.
The document itself never waits for any of this: its text is read and it is usable before the job is even queued.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nubes.config import Settings
from nubes.core.db import utcnow
from nubes.core.jobs import Worker, backoff, claim
from nubes.documents.assistant import provider as providers
from nubes.documents.assistant import queue, service
from nubes.documents.assistant.models import AssistantJob

log = structlog.get_logger("nubes.documents")

MAX_ATTEMPTS = 4


def due() -> Any:
    """A SQL condition: the job is due (queued and its time has come, or running with a lapsed lease)."""
    return (
        or_(AssistantJob.state == "pending", AssistantJob.state == "running")
        & (AssistantJob.next_attempt_at <= utcnow())
        & (AssistantJob.attempts < MAX_ATTEMPTS)
    )


class AssistantWorker(Worker):
    """Asks the provider about due documents: woken when one is queued, every half minute for retries."""

    name = queue.WORKER
    log_prefix = "documents.assistant"
    interval = 30.0

    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings, *, lease: timedelta) -> None:
        super().__init__()
        self._sessions = sessions
        self._settings = settings
        self._lease = lease

    async def run_due(self, limit: int = 5) -> int:
        """Ask about the due documents (at most `limit`); return how many jobs were settled."""
        async with self._sessions() as session:
            rows = list(
                await session.execute(
                    select(AssistantJob.document_id, AssistantJob.next_attempt_at)
                    .where(due())
                    .order_by(AssistantJob.next_attempt_at)
                    .limit(limit)
                )
            )
            await session.commit()
        settled = 0
        for document_id, due_at in rows:
            lease_until = utcnow() + self._lease
            claimed = await claim(
                self._sessions,
                update(AssistantJob)
                .where(AssistantJob.document_id == document_id, AssistantJob.next_attempt_at == due_at, due())
                .values(state="running", next_attempt_at=lease_until, attempts=AssistantJob.attempts + 1),
            )
            if claimed:
                await self._ask(document_id, lease_until)
                settled += 1
        return settled

    async def _ask(self, document_id: uuid.UUID, lease_until: datetime) -> None:
        problem: Exception | None = None
        async with self._sessions() as session:
            attempts = await session.scalar(select(AssistantJob.attempts).where(AssistantJob.document_id == document_id))
            try:
                asked = await service.question(session, document_id, settings=self._settings)
            except (providers.ProviderError, providers.RefusedURL) as exc:
                asked, problem = None, exc
            await session.commit()
        if asked is None and problem is None:  # the document is gone, or its organization turned the assistant off
            await self._settle(document_id, lease_until, {"state": "done", "error": None, "suggested": 0})
            return
        try:
            if problem is not None or asked is None:
                raise problem or providers.ProviderError("Nothing to ask.")
            content = await providers.complete(asked.provider, asked.messages)
            answer = service.read_answer(content, asked.terms)
        except (providers.ProviderError, providers.RefusedURL) as exc:
            transient = isinstance(exc, providers.ProviderError) and exc.transient
            tries = attempts or MAX_ATTEMPTS
            final = not transient or tries >= MAX_ATTEMPTS
            log.warning(
                "documents.assistant_failed", document_id=str(document_id), attempts=tries, final=final, error=str(exc)[:200]
            )
            values: dict[str, Any] = {"state": "failed" if final else "pending", "error": str(exc)[:500] or type(exc).__name__}
            if not final:
                values["next_attempt_at"] = utcnow() + backoff(tries)
            await self._settle(document_id, lease_until, values)
            return
        async with self._sessions() as session:
            added = await service.add_suggestions(session, document_id, answer, model=asked.provider.model)
            await self._settle(document_id, lease_until, {"state": "done", "error": None, "suggested": added}, session=session)
            await session.commit()
        log.info("documents.assistant_suggested", document_id=str(document_id), suggestions=added)

    async def _settle(
        self, document_id: uuid.UUID, lease_until: datetime, values: dict[str, Any], *, session: AsyncSession | None = None
    ) -> None:
        """Write the job's outcome, unless it was queued again meanwhile (a new text: then the row is another job's)."""
        statement = (
            update(AssistantJob)
            .where(
                AssistantJob.document_id == document_id,
                AssistantJob.state == "running",
                AssistantJob.next_attempt_at == lease_until,
            )
            .values(**values, updated_at=utcnow())
        )
        if session is not None:
            await session.execute(statement)
            return
        async with self._sessions() as own:
            await own.execute(statement)
            await own.commit()

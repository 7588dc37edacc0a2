"""The extraction worker: reads each due document's text, with progress, on `nubes worker` when there is one.

A job is claimed with a lease (`NUBES_JOB_LEASE`): a worker that dies mid-job leaves it `running` with a lapsed
lease, and the next round claims it again. A file that can never be read (encrypted, corrupt, a bomb, an unknown
type) fails at once with its reason; a passing failure (storage away, tesseract broken) is retried with a growing
pause, up to `MAX_ATTEMPTS`. A job never blocks the queue: each is bounded in pages, pixels and seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nubes.core.db import utcnow
from nubes.core.jobs import Worker, backoff, claim
from nubes.core.storage import Storage, StorageError
from nubes.documents.assistant import queue as assistant_queue
from nubes.documents.extraction.models import DocumentContent
from nubes.documents.extraction.readers import OcrFailed, Unreadable, read
from nubes.documents.extraction.service import WORKER
from nubes.documents.records.models import Document
from nubes.documents.settings import service as document_settings
from nubes.documents.suggestions import service as suggestions
from nubes.files.tree import service as files

log = structlog.get_logger("nubes.documents")

MAX_ATTEMPTS = 5
MAX_SOURCE_BYTES = 200 * 1024 * 1024
"""Larger files are not read (their bytes are held in memory while read)."""
PROGRESS_EVERY = 1.0
"""Seconds between writes of a running job's progress."""


class ExtractionWorker(Worker):
    """Reads due documents' text: woken when one is queued, every half minute for retries and lapsed leases."""

    name = WORKER
    log_prefix = "documents.extraction"
    interval = 30.0

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], storage_of: Callable[[], Storage], *, lease: timedelta, languages: str
    ) -> None:
        super().__init__()
        self._sessions = sessions
        self._storage_of = storage_of  # a callable: tests swap the app's storage after the worker is built
        self._lease = lease
        self._languages = languages

    async def run_due(self, limit: int = 10) -> int:
        """Read the text of the due documents (at most `limit`); return how many jobs were settled."""
        async with self._sessions() as session:
            due = list(
                await session.execute(
                    select(DocumentContent.document_id, DocumentContent.source_sha256, DocumentContent.next_attempt_at)
                    .where(
                        or_(DocumentContent.state == "pending", DocumentContent.state == "running"),
                        DocumentContent.next_attempt_at <= utcnow(),
                        DocumentContent.attempts < MAX_ATTEMPTS,
                    )
                    .order_by(DocumentContent.next_attempt_at)
                    .limit(limit)
                )
            )
            await session.commit()
        settled = 0
        for document_id, sha256, due_at in due:
            claimed = await claim(
                self._sessions,
                update(DocumentContent)
                .where(
                    DocumentContent.document_id == document_id,
                    DocumentContent.source_sha256 == sha256,
                    DocumentContent.next_attempt_at == due_at,
                )
                .values(
                    state="running", progress=0, next_attempt_at=utcnow() + self._lease, attempts=DocumentContent.attempts + 1
                ),
            )
            if claimed:
                await self._extract(document_id, sha256)
                settled += 1
        return settled

    async def _extract(self, document_id: uuid.UUID, sha256: str) -> None:
        async with self._sessions() as session:
            file_id = await session.scalar(select(Document.file_id).where(Document.id == document_id))
            file = await files.summary(session=session, file_id=file_id) if file_id is not None else None
            attempts = await session.scalar(select(DocumentContent.attempts).where(DocumentContent.document_id == document_id))
            tenant_id = await session.scalar(select(DocumentContent.tenant_id).where(DocumentContent.document_id == document_id))
            languages = (await document_settings.ocr_languages(session, tenant_id) if tenant_id else None) or self._languages
            await session.commit()
        if file is None or file.sha256 != sha256 or file.blob_key is None:
            return  # trashed, purged or rewritten meanwhile: a new content resets the row for itself
        values: dict[str, Any]
        try:
            if file.size > MAX_SOURCE_BYTES:
                raise Unreadable(f"The file has {file.size:,} bytes; Nubes reads the text of files up to {MAX_SOURCE_BYTES:,}.")
            data = b"".join([chunk async for chunk in self._storage_of().get(file.blob_key)])
            done = await self._with_progress(
                document_id,
                sha256,
                lambda report: read(data, name=file.name, content_type=file.content_type, languages=languages, progress=report),
            )
            values = {
                "state": "done",
                "text": done.text,
                "method": done.method,
                "pages": done.pages,
                "progress": 100,
                "error": None,
            }
            log.info(
                "documents.extracted", document_id=str(document_id), method=done.method, pages=done.pages, chars=len(done.text)
            )
        except Unreadable as exc:
            log.info("documents.unreadable", document_id=str(document_id), error=str(exc)[:200])
            values = {"state": "failed", "error": str(exc)[:500], "progress": 0}
        except (StorageError, OcrFailed, OSError) as exc:
            log.warning("documents.extraction_failed", document_id=str(document_id), error=f"{type(exc).__name__}: {exc}"[:200])
            tries = attempts or MAX_ATTEMPTS
            values = {
                "state": "failed" if tries >= MAX_ATTEMPTS else "pending",
                "next_attempt_at": utcnow() + backoff(tries),
                "error": f"{exc}"[:500] or type(exc).__name__,
                "progress": 0,
            }
        values["updated_at"] = utcnow()
        await self._settle(document_id, sha256, values)
        if values["state"] == "done":
            async with self._sessions() as session:
                proposed = await suggestions.suggest(session, document_id)
                await assistant_queue.after_text_read(session, document_id)  # the AI provider's job, if one is set up
                await session.commit()
            if proposed:
                log.info("documents.suggested", document_id=str(document_id), suggestions=proposed)

    async def _with_progress(self, document_id: uuid.UUID, sha256: str, work: Callable[[Callable[[int], None]], Any]) -> Any:
        """Run `work(report)` in a thread; write the percent it reports to the job's row every PROGRESS_EVERY seconds."""
        latest = [0]
        written = 0

        def report(percent: int) -> None:
            latest[0] = percent

        task = asyncio.create_task(asyncio.to_thread(work, report))
        while not task.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(task), PROGRESS_EVERY)
            if not task.done() and latest[0] != written:
                written = latest[0]
                await self._settle(document_id, sha256, {"progress": written, "updated_at": utcnow()})
        return task.result()

    async def _settle(self, document_id: uuid.UUID, sha256: str, values: dict[str, Any]) -> None:
        """Write the job's outcome, unless its content changed meanwhile (then the row is another job's)."""
        async with self._sessions() as session:
            await session.execute(
                update(DocumentContent)
                .where(
                    DocumentContent.document_id == document_id,
                    DocumentContent.source_sha256 == sha256,
                    DocumentContent.state == "running",
                )
                .values(**values)
            )
            await session.commit()

"""What the inbox runs beside the requests: a chore that takes what landed in the inboxes, on one process at a time."""

from __future__ import annotations

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nubes.core.jobs import Worker
from nubes.core.leases import hold
from nubes.documents.consumption import service

log = structlog.get_logger("nubes.documents")

LEASE = 60.0
"""Seconds the consuming process holds the right to consume (renewed each round)."""


class InboxWorker(Worker):
    """Every few seconds (and when woken), takes the files waiting in `Documents/Inbox` folders."""

    name = "nubes-documents-inbox"
    log_prefix = "documents.inbox"
    interval = 10.0

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        super().__init__()
        self._sessions = sessions

    async def run_due(self) -> int:
        """One batch; how many files were taken (0 when none, or when another process consumes)."""
        if not await hold(self._sessions, name="documents-inbox", seconds=LEASE):
            return 0
        async with self._sessions() as session:
            done = await service.consume(session)
            await session.commit()
        if done.added or done.refused:
            log.info("documents.inbox_consumed", added=done.added, refused=done.refused)
        return done.added + done.refused

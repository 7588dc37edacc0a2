"""What the search domain runs beside the requests: the indexer, which keeps the index in step with documents and
files.

Woken after a transaction that changed documents or files (search.flows; on every process of the install, through the
event bus), at start, and every ten minutes otherwise (a safety net for a wake that was lost: a process that crashed
between its commit and the wake); one process of the install indexes at a time (a lease), so two never race for the
same entries.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nubes.core.domain import Background
from nubes.core.jobs import Worker
from nubes.core.leases import hold
from nubes.core.storage import Storage
from nubes.search import service
from nubes.search.flows import INDEXER

log = structlog.get_logger("nubes.search")

LEASE = 120.0
"""Seconds the indexing process holds the right to index (renewed each round)."""


class Indexer(Worker):
    name = INDEXER
    log_prefix = "search.index"
    # A round compares every document and file with its entry (0.5-0.7 s of the database's time at 100,000 of each):
    # every minute, that was what made one search in a hundred twice as slow (bench/bench_documents.py). Changes
    # wake the indexer at once; the interval only catches a lost wake.
    interval = 600.0

    def __init__(self, sessions: async_sessionmaker[AsyncSession], storage_of: Callable[[], Storage]) -> None:
        super().__init__()
        self._sessions = sessions
        self._storage_of = storage_of

    def start(self) -> None:
        """Start the loop with a round at once: what changed while no process was indexing (a restore, a restart)."""
        super().start()
        self.wake_here()

    async def run_due(self) -> int:
        """Index one batch of changed documents and one of changed files (0 when none, or when another process
        indexes)."""
        if not await hold(self._sessions, name="search-index", seconds=LEASE):
            return 0
        async with self._sessions() as session:
            indexed = await service.index_changes(session)
            await session.commit()
        read = await service.index_files(self._sessions, self._storage_of())
        if indexed or read:
            log.info("search.indexed", documents=indexed, files=read)
        return indexed + read


def install(app: FastAPI) -> Background:
    """The indexer on `app.state.search_indexer`."""
    # The storage is looked up at each round: tests swap it for another backend after the app is built.
    app.state.search_indexer = Indexer(app.state.db.writer_sessions, lambda: app.state.storage)
    return Background(workers=[app.state.search_indexer])

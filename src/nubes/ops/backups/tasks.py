"""What ops/backups runs beside the requests: the worker that runs queued backups, and the daily schedule."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, ClassVar

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nubes.config import Settings
from nubes.core import jobs
from nubes.core.domain import Background, every
from nubes.core.leases import once_per_install
from nubes.ops.backups import runner, service
from nubes.ops.backups.engine import BackupError

if TYPE_CHECKING:
    from fastapi import FastAPI

log = structlog.get_logger("nubes.ops.backups")

SCHEDULE_CHECK_SECONDS = 60.0


class BackupWorker(jobs.Worker):
    """Runs queued backups, one at a time (a run is claimed by one process of the install)."""

    name: ClassVar[str] = "nubes-backups"
    log_prefix: ClassVar[str] = "backups"
    interval: ClassVar[float] = 60.0
    stop_grace: ClassVar[float] = 1.0

    def __init__(self, app: FastAPI) -> None:
        super().__init__()
        self.app = app

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        """The app's writer sessions."""
        sessions: async_sessionmaker[AsyncSession] = self.app.state.db.writer_sessions
        return sessions

    async def run_due(self) -> int:
        """Claim the oldest queued run and run it."""
        async with self.sessions() as session:
            queued = await service.next_queued(session=session)
            if queued is None:
                return 0
            claimed = await service.claim(session=session, run_id=queued.id)
            await session.commit()
        if not claimed:
            return 1
        with contextlib.suppress(BackupError):  # recorded on the run's row and logged by the runner
            await runner.run(sessions=self.sessions, settings=self.app.state.settings, run_id=queued.id)
        return 1


def install(app: FastAPI) -> Background:
    """The backup worker on `app.state.backups` (the API wakes it) and the daily schedule (one process per install)."""
    settings: Settings = app.state.settings
    worker = BackupWorker(app)
    app.state.backups = worker

    async def schedule_round() -> None:
        async with app.state.db.writer_sessions() as session:
            if not await service.due_by_schedule(session=session, settings=settings):
                return
            try:
                await service.create(session=session, settings=settings, trigger="schedule")
            except (service.BackupRunning, service.BackupsNotConfigured):  # nothing to do until configured
                return
            await session.commit()
        worker.wake()

    scheduled = once_per_install(
        app.state.db.writer_sessions, "backups-schedule", schedule_round, lease=3 * SCHEDULE_CHECK_SECONDS
    )
    return Background(workers=[worker], chores=[every("nubes-backups-schedule", SCHEDULE_CHECK_SECONDS, scheduled)])

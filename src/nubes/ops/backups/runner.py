"""One backup run from start to finish, for the worker (UI and schedule) and for `nubes backup` alike.

The engine works in a thread (restic and the database dump are blocking); its progress is written to the run's
row about once a second so the UI can follow it, then the outcome and retention are recorded (ops/metrics reads the
outcome from the runs, whichever process ran it).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nubes.config import Settings
from nubes.ops.backups import engine, service
from nubes.ops.backups.engine import BackupError, Outcome, Progress, ProgressFn
from nubes.ops.backups.restic import ResticError

log = structlog.get_logger("nubes.ops.backups")

PROGRESS_EVERY = 1.0
"""Seconds between writes of a running backup's progress to its row."""


async def run(
    *,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    run_id: uuid.UUID,
    progress: ProgressFn | None = None,
) -> Outcome:
    """Run the backup the row `run_id` stands for (already `running`); record its outcome; BackupError on failure."""
    latest: list[Progress] = []

    def seen(step: Progress) -> None:
        latest.append(step)
        if progress is not None:
            progress(step)

    started = time.monotonic()
    writer = asyncio.create_task(_follow(sessions, run_id, latest))
    try:
        repository = engine.repository_from(settings)
        outcome = await asyncio.to_thread(engine.backup, settings, repository, progress=seen)
    except (BackupError, ResticError, OSError) as exc:
        writer.cancel()
        async with sessions() as session:
            await service.fail(session=session, run_id=run_id, error=str(exc), seconds=time.monotonic() - started)
            await session.commit()
        log.warning("backups.failed", run_id=str(run_id), error=str(exc)[:300])
        raise BackupError(str(exc)) from exc
    finally:
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer
    async with sessions() as session:
        await service.succeed(session=session, run_id=run_id, outcome=outcome)
        keep = service.keep_of(await service.retention(session=session))
        await session.commit()
    try:
        await asyncio.to_thread(engine.forget, repository, keep)
    except ResticError as exc:  # the backup itself is made and verified; retention runs again next time
        log.warning("backups.retention_failed", error=str(exc)[:300])
    log.info("backups.succeeded", run_id=str(run_id), snapshot=outcome.snapshot_id, verified=outcome.verified)
    return outcome


async def _follow(sessions: async_sessionmaker[AsyncSession], run_id: uuid.UUID, latest: list[Progress]) -> None:
    written = 0
    while True:
        await asyncio.sleep(PROGRESS_EVERY)
        if len(latest) == written:
            continue
        written = len(latest)
        step = latest[-1]
        with contextlib.suppress(Exception):  # progress is a courtesy: a busy database must not stop the backup
            async with sessions() as session:
                await service.note_progress(session=session, run_id=run_id, stage=step.stage, fraction=step.fraction or 0.0)
                await session.commit()

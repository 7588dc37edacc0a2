"""Rules of ops/backups: backup runs (start, list, follow), the settings (schedule, retention) and their outcome."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core import audit
from nubes.core.audit import Origin
from nubes.core.db import utcnow
from nubes.core.errors import Conflict, NotFound
from nubes.core.principal import Principal
from nubes.ops import service as ops_service
from nubes.ops.backups.engine import Keep, Outcome, shown_location
from nubes.ops.backups.models import DETAIL_LIMIT, ERROR_LIMIT, BackupRun
from nubes.ops.backups.schemas import BackupSettingsRead, BackupSettingsUpdate, Retention

LIST_LIMIT = 200
SCHEDULE_KEY = "backups.schedule"
RETENTION_KEY = "backups.retention"
STALE_RUN = timedelta(hours=12)
"""A run still `running` this long after it started belongs to a process that died: it counts as failed."""


class BackupsNotConfigured(Conflict):
    """No repository or password is configured: nothing can be backed up yet."""

    code, title = "backups-not-configured", "Backups are not configured"


class BackupRunning(Conflict):
    """A backup is already queued or running."""

    code, title = "backup-running", "A backup is already running"


async def list_runs(*, session: AsyncSession, principal: Principal, limit: int = 50) -> list[BackupRun]:
    """The newest backup runs (the install's, for a super-admin), newest first."""
    query = select(BackupRun).order_by(BackupRun.created_at.desc(), BackupRun.id).limit(min(limit, LIST_LIMIT))
    return list(await session.scalars(query))


async def get_or_raise(*, session: AsyncSession, principal: Principal, run_id: uuid.UUID) -> BackupRun:
    """One backup run, or NotFound."""
    run = await session.get(BackupRun, run_id)
    if run is None:
        raise NotFound("No such backup run; the list of backups shows the existing ones.")
    return run


async def active(*, session: AsyncSession) -> BackupRun | None:
    """The run queued or running now, if any (one at a time per install)."""
    since = utcnow() - STALE_RUN
    query = select(BackupRun).where(BackupRun.status.in_(("queued", "running")), BackupRun.created_at > since).limit(1)
    return await session.scalar(query)


async def create(*, session: AsyncSession, settings: Settings, trigger: str, status: str = "queued") -> BackupRun:
    """A new run, queued for the worker (or `running` when the CLI runs it itself)."""
    if not settings.backup_repository or settings.backup_password_file is None:
        raise BackupsNotConfigured(
            "Set NUBES_BACKUP_REPOSITORY and NUBES_BACKUP_PASSWORD_FILE in the server's configuration, then restart it."
        )
    if await active(session=session) is not None:
        raise BackupRunning("Wait for the running backup to finish; its progress is shown in the list.")
    run = BackupRun(trigger=trigger, status=status, started_at=utcnow() if status == "running" else None)
    session.add(run)
    await session.flush()
    return run


async def start(*, session: AsyncSession, principal: Principal, settings: Settings, origin: Origin) -> BackupRun:
    """Queue a backup now (a super-admin's "Back up now"); the worker runs it after the commit."""
    run = await create(session=session, settings=settings, trigger="manual")
    await audit.record(
        session=session, action="backups.start", origin=origin, principal=principal, target_type="backup_run", target_id=run.id
    )
    return run


async def claim(*, session: AsyncSession, run_id: uuid.UUID) -> bool:
    """Take a queued run for this process; whether it was still queued."""
    result = await session.execute(
        update(BackupRun)
        .where(BackupRun.id == run_id, BackupRun.status == "queued")
        .values(status="running", started_at=utcnow(), stage="starting")
    )
    return bool(getattr(result, "rowcount", 0))


async def next_queued(*, session: AsyncSession) -> BackupRun | None:
    """The oldest queued run."""
    query = select(BackupRun).where(BackupRun.status == "queued").order_by(BackupRun.created_at).limit(1)
    return await session.scalar(query)


async def note_progress(*, session: AsyncSession, run_id: uuid.UUID, stage: str, fraction: float) -> None:
    """Where a running backup stands (read by the UI while it runs)."""
    await session.execute(
        update(BackupRun).where(BackupRun.id == run_id).values(stage=stage[:32], progress=max(0.0, min(fraction, 1.0)))
    )


async def succeed(*, session: AsyncSession, run_id: uuid.UUID, outcome: Outcome) -> None:
    """Record a finished backup: its snapshot, sizes, duration and verification."""
    await session.execute(
        update(BackupRun)
        .where(BackupRun.id == run_id)
        .values(
            status="succeeded",
            stage="done",
            progress=1.0,
            finished_at=utcnow(),
            snapshot_id=outcome.snapshot_id,
            bytes_added=outcome.bytes_added,
            total_bytes=outcome.total_bytes,
            files=outcome.files,
            duration_seconds=round(outcome.seconds, 3),
            verified=outcome.verified,
            verify_detail=outcome.verify_detail[:DETAIL_LIMIT],
        )
    )


async def fail(*, session: AsyncSession, run_id: uuid.UUID, error: str, seconds: float) -> None:
    """Record a failed backup and why."""
    await session.execute(
        update(BackupRun)
        .where(BackupRun.id == run_id)
        .values(status="failed", stage="failed", finished_at=utcnow(), error=error[:ERROR_LIMIT], duration_seconds=seconds)
    )


async def last_outcomes(*, session: AsyncSession) -> tuple[bool | None, datetime | None]:
    """Whether the latest finished run succeeded (None: none finished yet), and when the latest success ended."""
    latest = await session.scalar(
        select(BackupRun.status)
        .where(BackupRun.status.in_(("succeeded", "failed")))
        .order_by(BackupRun.finished_at.desc())
        .limit(1)
    )
    succeeded_at = await session.scalar(select(func.max(BackupRun.finished_at)).where(BackupRun.status == "succeeded"))
    return (None if latest is None else latest == "succeeded"), succeeded_at


async def get_settings(*, session: AsyncSession, principal: Principal | None, settings: Settings) -> BackupSettingsRead:
    """The settings in effect: the schedule and retention (stored ones over the config), the repository masked."""
    stored_schedule = await ops_service.get_setting(session=session, key=SCHEDULE_KEY)
    schedule = stored_schedule if isinstance(stored_schedule, str) else settings.backup_schedule
    return BackupSettingsRead(
        configured=bool(settings.backup_repository and settings.backup_password_file),
        repository=shown_location(settings.backup_repository),
        password_file_set=settings.backup_password_file is not None,
        schedule=schedule,
        retention=await retention(session=session),
    )


async def retention(*, session: AsyncSession) -> Retention:
    """How many restore points of each kind are kept."""
    stored: Any = await ops_service.get_setting(session=session, key=RETENTION_KEY)
    return Retention.model_validate(stored) if isinstance(stored, dict) else Retention()


def keep_of(policy: Retention) -> Keep:
    """The retention as restic's `forget` reads it."""
    return Keep(daily=policy.keep_daily, weekly=policy.keep_weekly, monthly=policy.keep_monthly)


async def update_settings(
    *, session: AsyncSession, principal: Principal, settings: Settings, settings_in: BackupSettingsUpdate, origin: Origin
) -> BackupSettingsRead:
    """Store the schedule and retention a super-admin chose (audited)."""
    await audit.record(
        session=session,
        action="backups.settings",
        origin=origin,
        principal=principal,
        target_type="backup_settings",
        detail=settings_in.model_dump(),
    )
    await ops_service.set_setting(session=session, key=SCHEDULE_KEY, value=settings_in.schedule)
    await ops_service.set_setting(session=session, key=RETENTION_KEY, value=settings_in.retention.model_dump())
    return await get_settings(session=session, principal=principal, settings=settings)


async def due_by_schedule(*, session: AsyncSession, settings: Settings, now: datetime | None = None) -> bool:
    """Whether today's scheduled backup time has passed with no scheduled run made since."""
    current = (await get_settings(session=session, principal=None, settings=settings)).schedule
    if not current:
        return False
    moment = now or datetime.now(UTC)
    hour, minute = (int(part) for part in current.split(":"))
    slot = moment.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if moment < slot:
        return False
    query = select(BackupRun.id).where(BackupRun.trigger == "schedule", BackupRun.created_at >= slot).limit(1)
    return await session.scalar(query) is None

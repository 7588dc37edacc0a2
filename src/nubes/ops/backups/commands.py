"""`nubes backup`, `nubes backup list` and `nubes restore`: the backup engine with progress bars on the terminal."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from nubes.core.db import Database
from nubes.ops.backups import engine, runner, service
from nubes.ops.backups.engine import BackupError, Outcome, Restored

if TYPE_CHECKING:
    from nubes.config import Settings
    from nubes.ops.backups.engine import Progress as Step

STAGES = {
    "database": "dumping the database",
    "blobs": "fetching new blobs",
    "upload": "uploading to the repository",
    "verify": "verifying the snapshot",
    "manifest": "reading the manifest",
    "place": "putting the blobs in place",
    "download": "restoring files (restic checks every byte)",
}


def _bar(console: Console) -> Progress:
    return Progress(TextColumn("{task.description:<44}"), BarColumn(), DownloadColumn(), TimeElapsedColumn(), console=console)


def backup(settings: Settings, console: Console) -> Outcome:
    """Back up the install now, recorded as a run like the UI's, with a progress bar; BackupError when it fails."""

    async def go() -> Outcome:
        database = Database.from_settings(settings)
        try:
            async with database.writer_sessions() as session:
                try:
                    run = await service.create(session=session, settings=settings, trigger="cli", status="running")
                except service.BackupsNotConfigured as exc:
                    raise BackupError(str(exc.detail)) from exc
                except service.BackupRunning as exc:
                    raise BackupError("another backup of this install is queued or running; wait for it") from exc
                await session.commit()
            with _bar(console) as bar:
                task = bar.add_task(STAGES["database"], total=None)

                def seen(step: Step) -> None:
                    total = step.bytes_total or None
                    bar.update(task, description=STAGES.get(step.stage, step.stage), total=total, completed=step.bytes_done)

                return await runner.run(sessions=database.writer_sessions, settings=settings, run_id=run.id, progress=seen)
        finally:
            await database.dispose()

    return asyncio.run(go())


def restore_points(settings: Settings, console: Console) -> None:
    """Print the repository's restore points (newest first)."""
    repository = engine.repository_from(settings)
    table = Table("snapshot", "time (UTC)", box=None)
    for point in engine.restore_points(repository):
        table.add_row(point.short_id, point.time.strftime("%Y-%m-%d %H:%M:%S"))
    console.print(table)


def restore(
    settings: Settings, console: Console, *, snapshot: str, data_dir: Path, database_url: str, storage_url: str
) -> Restored:
    """Bring a restore point back into an empty data dir (and database); BackupError when refused."""
    repository = engine.repository_from(settings)
    with _bar(console) as bar:
        task = bar.add_task(STAGES["manifest"], total=None)

        def seen(step: Step) -> None:
            bar.update(task, description=STAGES.get(step.stage, step.stage))

        return engine.restore(
            repository=repository,
            snapshot=snapshot,
            data_dir=data_dir,
            database_url=database_url,
            storage_url=storage_url,
            progress=seen,
        )

"""What the files domain runs beside the requests: the thumbnail worker, the upload, retention and expired-lock sweep."""

from __future__ import annotations

from datetime import timedelta

import structlog
from fastapi import FastAPI

from nubes.config import Settings
from nubes.core.domain import Background, every
from nubes.core.leases import once_per_install
from nubes.files.locks import service as locks
from nubes.files.nextcloud.tasks import sweep as nextcloud_sweep
from nubes.files.thumbnails.tasks import ThumbnailWorker
from nubes.files.uploads.service import sweep

log = structlog.get_logger("nubes.files")


def sweep_lease(settings: Settings) -> float:
    """One process sweeps for the install; another takes over within this many seconds of it stopping (2 rounds + 1 min)."""
    return 2 * settings.sweep_interval + 60


def install(app: FastAPI) -> Background:
    """The thumbnail worker on `app.state.thumbnails` (routes wake it), the sweep (one process of the install at a time)."""
    settings: Settings = app.state.settings
    # The storage is looked up at each job: tests swap it for another backend after the app is built.
    app.state.thumbnails = ThumbnailWorker(
        app.state.db.writer_sessions, lambda: app.state.storage, lease=timedelta(seconds=settings.job_lease)
    )

    async def sweep_round() -> None:
        await nextcloud_sweep(app.state.db.writer_sessions, app.state.storage)  # before the uploads' own sweep
        await sweep(app.state.db.writer_sessions, app.state.storage)
        await locks.sweep(app.state.db.writer_sessions)  # expired WebDAV locks
        log.info("files.swept")  # one a round per install: the deployment test counts them across processes

    sweep_once = once_per_install(app.state.db.writer_sessions, "files-sweep", sweep_round, lease=sweep_lease(settings))
    return Background(workers=[app.state.thumbnails], chores=[every("nubes-files-sweep", settings.sweep_interval, sweep_once)])

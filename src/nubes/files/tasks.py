"""What the files domain runs beside the requests: the thumbnail worker, the upload and retention sweep."""

from __future__ import annotations

from fastapi import FastAPI

from nubes.core.domain import Background, every
from nubes.core.leases import once_per_install
from nubes.files.thumbnails.tasks import ThumbnailWorker
from nubes.files.uploads.service import sweep

SWEEP_EVERY = 300.0
"""Seconds between sweeps of expired uploads and old versions."""
SWEEP_LEASE = 2 * SWEEP_EVERY + 60
"""One replica sweeps for the install; another takes over within this many seconds of it stopping."""


def install(app: FastAPI) -> Background:
    """The thumbnail worker on `app.state.thumbnails` (routes wake it), the sweep (one replica of the install at a time)."""
    # The storage is looked up at each job: tests swap it for another backend after the app is built.
    app.state.thumbnails = ThumbnailWorker(app.state.db.writer_sessions, lambda: app.state.storage)

    async def sweep_round() -> None:
        await sweep(app.state.db.writer_sessions, app.state.storage)

    sweep_once = once_per_install(app.state.db.writer_sessions, "files-sweep", sweep_round, lease=SWEEP_LEASE)
    return Background(workers=[app.state.thumbnails], chores=[every("nubes-files-sweep", SWEEP_EVERY, sweep_once)])

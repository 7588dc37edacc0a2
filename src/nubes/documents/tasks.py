"""What the documents domain runs beside the requests: the extraction worker."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI

from nubes.config import Settings
from nubes.core.domain import Background
from nubes.documents.extraction.tasks import ExtractionWorker


def install(app: FastAPI) -> Background:
    """The extraction worker on `app.state.extraction` (jobs are queued by requests and woken through the bus)."""
    settings: Settings = app.state.settings
    # The storage is looked up at each job: tests swap it for another backend after the app is built.
    app.state.extraction = ExtractionWorker(
        app.state.db.writer_sessions,
        lambda: app.state.storage,
        lease=timedelta(seconds=settings.job_lease),
        languages=settings.ocr_languages,
    )
    return Background(workers=[app.state.extraction])

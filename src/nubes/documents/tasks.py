"""What the documents domain runs beside the requests: the extraction worker and the classifier's training."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI

from nubes.config import Settings
from nubes.core.domain import Background
from nubes.documents.assistant.tasks import AssistantWorker
from nubes.documents.classifier.tasks import ClassifierWorker
from nubes.documents.consumption.tasks import InboxWorker
from nubes.documents.extraction.tasks import ExtractionWorker


def install(app: FastAPI) -> Background:
    """The extraction worker on `app.state.extraction`, the classifier's on `app.state.classifier`, the inbox's on
    `app.state.documents_inbox` (jobs are queued by requests and woken through the bus)."""
    settings: Settings = app.state.settings
    # The storage is looked up at each job: tests swap it for another backend after the app is built.
    app.state.extraction = ExtractionWorker(
        app.state.db.writer_sessions,
        lambda: app.state.storage,
        lease=timedelta(seconds=settings.job_lease),
        languages=settings.ocr_languages,
    )
    app.state.classifier = ClassifierWorker(app.state.db.writer_sessions, lease=timedelta(seconds=settings.job_lease))
    app.state.documents_inbox = InboxWorker(app.state.db.writer_sessions)
    # The AI assistant's on `app.state.documents_assistant`: it asks an organization's provider, when one is set up.
    lease = timedelta(seconds=settings.job_lease)
    app.state.documents_assistant = AssistantWorker(app.state.db.writer_sessions, settings, lease=lease)
    return Background(
        workers=[app.state.extraction, app.state.classifier, app.state.documents_inbox, app.state.documents_assistant]
    )

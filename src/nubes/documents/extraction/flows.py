"""Work across domains for extraction: a document's file gets a new content (an upload, a restored version), so
its text is read again. Registered when imported (the documents manifest imports it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import object_session

from nubes.core.db import utcnow
from nubes.core.jobs import after_commit, wake
from nubes.documents.extraction.models import DocumentContent
from nubes.documents.extraction.service import WORKER
from nubes.documents.records.models import Document
from nubes.files.tree.models import FileNode


@event.listens_for(FileNode, "after_update")
def _content_changed(_mapper: Any, connection: Connection, node: FileNode) -> None:
    history = inspect(node).attrs.sha256.history
    if not history.has_changes() or node.sha256 is None:
        return
    documents = select(Document.id).where(Document.file_id == node.id).scalar_subquery()
    reset = connection.execute(
        update(DocumentContent)
        .where(DocumentContent.document_id.in_(documents))
        .values(source_sha256=node.sha256, state="pending", attempts=0, next_attempt_at=utcnow(), progress=0, error=None)
    )
    session = object_session(node)
    if reset.rowcount and session is not None:
        after_commit(session, lambda: wake(WORKER))

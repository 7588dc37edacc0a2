"""Work across the documents' sub-packages for the classifier: when a person confirms a value (a change of a
document's type, correspondent, tags or categories: an edit, an accepted suggestion) or rejects a suggestion, the
organization's training is queued (debounced). Registered when imported (the documents manifest imports it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.engine import Connection

from nubes.documents.classifier import queue
from nubes.documents.records.models import Document, DocumentChange
from nubes.documents.suggestions.models import Suggestion

_LEARNT = {"type_id", "correspondent_id", "tag_ids", "category_ids"}
_FIELDS = {"type", "correspondent", "tag", "category"}


def _queue_for(connection: Connection, document_id: Any) -> None:
    tenant_id = connection.scalar(select(Document.tenant_id).where(Document.id == document_id))
    if tenant_id is not None:
        queue.after_labels_changed(connection, tenant_id)


@event.listens_for(DocumentChange, "after_insert")
def _confirmed(_mapper: Any, connection: Connection, change: DocumentChange) -> None:
    if change.actor_id is not None and _LEARNT & set(change.changes):
        _queue_for(connection, change.document_id)


@event.listens_for(Suggestion, "after_update")
def _rejected(_mapper: Any, connection: Connection, suggestion: Suggestion) -> None:
    history = inspect(suggestion).attrs.state.history
    if history.has_changes() and suggestion.state == "rejected" and suggestion.field in _FIELDS:
        _queue_for(connection, suggestion.document_id)

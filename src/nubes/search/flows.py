"""Work across domains for search: a transaction that changed documents or files wakes the indexer once it commits.
Registered when imported (the search manifest imports it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from nubes.core.jobs import after_commit, after_rollback, wake
from nubes.documents.extraction.models import DocumentContent
from nubes.documents.records.models import Document, DocumentCategory, DocumentChange, DocumentTag
from nubes.files.tree.models import FileNode

INDEXER = "nubes-search-index"
"""The indexer's worker name: what `wake` reaches, here and on every process of the install."""

_WATCHED = (Document, DocumentTag, DocumentCategory, DocumentChange, DocumentContent, FileNode)
_TABLES = frozenset(model.__tablename__ for model in _WATCHED)
_PENDING = "nubes.search.wake"


def _wake_once(session: Session) -> None:
    if session.info.get(_PENDING):
        return
    session.info[_PENDING] = True

    def fire() -> None:
        session.info.pop(_PENDING, None)
        wake(INDEXER)

    after_commit(session, fire)
    after_rollback(session, lambda: session.info.pop(_PENDING, None))


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context: UOWTransaction) -> None:
    if any(isinstance(instance, _WATCHED) for instance in (*session.new, *session.dirty, *session.deleted)):
        _wake_once(session)


@event.listens_for(Session, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    if state.is_update or state.is_delete or state.is_insert:
        table: Any = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in _TABLES:
            _wake_once(state.session)

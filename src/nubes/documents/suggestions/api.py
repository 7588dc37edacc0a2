"""Routes of suggestions: a document's open suggestions, accepted or rejected one by one."""

from __future__ import annotations

import uuid

from nubes.core.db import SessionDep
from nubes.core.routing import api_router
from nubes.documents.deps import Reader, Writer
from nubes.documents.records import service as records
from nubes.documents.records.schemas import DocumentRead
from nubes.documents.suggestions import service
from nubes.documents.suggestions.schemas import SuggestionRead

router = api_router(prefix="/documents", tags=["documents"])


@router.get(
    "/{document_id:uuid}/suggestions",
    operation_id="documents-suggestions",
    response_model=list[SuggestionRead],
    summary="What Nubes proposes for it, and why",
)
async def list_suggestions(session: SessionDep, principal: Reader, document_id: uuid.UUID) -> list[SuggestionRead]:
    document = await records.get(session, principal, document_id)
    return [SuggestionRead.model_validate(row) for row in await service.of_document(session, document)]


async def _decide(
    session: SessionDep, principal: Writer, document_id: uuid.UUID, suggestion_id: uuid.UUID, *, accept: bool
) -> DocumentRead:
    document = await records.get(session, principal, document_id, edit=True)
    await service.decide(session, principal, document, suggestion_id, accept=accept)
    return (await records.reads(session, principal, [document]))[0]


@router.post(
    "/{document_id:uuid}/suggestions/{suggestion_id:uuid}/accept",
    operation_id="documents-suggestions-accept",
    response_model=DocumentRead,
    summary="Accept a suggestion (its value is applied)",
)
async def accept(session: SessionDep, principal: Writer, document_id: uuid.UUID, suggestion_id: uuid.UUID) -> DocumentRead:
    return await _decide(session, principal, document_id, suggestion_id, accept=True)


@router.post(
    "/{document_id:uuid}/suggestions/{suggestion_id:uuid}/reject",
    operation_id="documents-suggestions-reject",
    response_model=DocumentRead,
    summary="Reject a suggestion (not proposed again for this document)",
)
async def reject(session: SessionDep, principal: Writer, document_id: uuid.UUID, suggestion_id: uuid.UUID) -> DocumentRead:
    return await _decide(session, principal, document_id, suggestion_id, accept=False)

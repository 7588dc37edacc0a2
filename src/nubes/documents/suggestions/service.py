"""Rules of suggestions: proposed from the vocabularies' matching rules and by the organization's classifier once a
document's text is read; accepted (the value is applied, with the document's history) or rejected (never proposed
again for that document)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.core.db import utcnow
from nubes.core.errors import Conflict, NotFound
from nubes.core.principal import Principal
from nubes.documents.classifier import service as classifier
from nubes.documents.extraction import service as extraction
from nubes.documents.records import service as records
from nubes.documents.records.models import Document, DocumentCategory, DocumentTag
from nubes.documents.records.schemas import DocumentUpdate
from nubes.documents.suggestions import matching
from nubes.documents.suggestions.models import Suggestion
from nubes.documents.vocabulary.models import Correspondent, DocumentType, Tag

FIELDS: dict[str, type[DocumentType] | type[Correspondent] | type[Tag]] = {
    "type": DocumentType,
    "correspondent": Correspondent,
    "tag": Tag,
}


async def suggest(session: AsyncSession, document_id: uuid.UUID) -> int:
    """Propose what the tenant's rules match in the document's title and text, then what its classifier finds there
    (values a rule proposed are not proposed twice); return how many are new.

    Nothing already applied, and nothing decided before for this document, is proposed again.
    """
    document = await session.get(Document, document_id)
    if document is None:
        return 0
    text = matching.Text(f"{document.title}\n{await extraction.text_of(session, document_id)}")
    decided = {
        (field, term_id) for field, term_id in await session.execute(
            select(Suggestion.field, Suggestion.term_id).where(Suggestion.document_id == document_id)
        )
    }  # fmt: skip
    applied = {("type", document.type_id), ("correspondent", document.correspondent_id)}
    applied |= {
        ("tag", tag_id)
        for tag_id in await session.scalars(select(DocumentTag.tag_id).where(DocumentTag.document_id == document_id))
    }
    made = 0
    for field, model in FIELDS.items():
        terms: list[Any] = list(
            await session.scalars(select(model).where(model.tenant_id == document.tenant_id, model.matching != "none"))
        )
        for term in terms:
            if (field, term.id) in decided or (field, term.id) in applied:
                continue
            found = matching.match(text, term.matching, term.match, term.case_sensitive)
            if found is None:
                continue
            session.add(
                Suggestion(
                    document_id=document_id, field=field, term_id=term.id, confidence=found.confidence, source="rule",
                    reason={"rule": found.rule, "words": found.words},
                )
            )  # fmt: skip
            made += 1
            decided.add((field, term.id))
    applied |= {
        ("category", category_id)
        for category_id in await session.scalars(
            select(DocumentCategory.category_id).where(DocumentCategory.document_id == document_id)
        )
    }
    learnt = await classifier.propose(session, document, text.raw, decided | applied)
    session.add_all(learnt)
    await session.flush()
    return made + len(learnt)


async def of_document(session: AsyncSession, document: Document, *, open_only: bool = True) -> list[dict[str, Any]]:
    """The document's suggestions (open ones by default), best first, with the names of what they propose."""
    query = select(Suggestion).where(Suggestion.document_id == document.id)
    if open_only:
        query = query.where(Suggestion.state == "open")
    suggestions = list(await session.scalars(query.order_by(Suggestion.confidence.desc(), Suggestion.created_at)))
    names: dict[tuple[str, uuid.UUID], str] = {
        (suggestion.field, suggestion.term_id): suggestion.value
        for suggestion in suggestions
        if suggestion.field == "date" and suggestion.value
    }
    for field, model in classifier.TERMS.items():
        ids = [suggestion.term_id for suggestion in suggestions if suggestion.field == field]
        if ids:
            for term_id, name in await session.execute(select(model.id, model.name).where(model.id.in_(ids))):
                names[(field, term_id)] = name
    return [
        {
            "id": suggestion.id, "field": suggestion.field, "term_id": suggestion.term_id,
            "name": names.get((suggestion.field, suggestion.term_id), "(deleted)"), "value": suggestion.value,
            "confidence": suggestion.confidence,
            "source": suggestion.source, "reason": suggestion.reason, "state": suggestion.state,
        }
        for suggestion in suggestions
        if (suggestion.field, suggestion.term_id) in names
    ]  # fmt: skip


async def decide(
    session: AsyncSession, principal: Principal, document: Document, suggestion_id: uuid.UUID, *, accept: bool
) -> None:
    """Accept (apply the value, recorded in the document's history) or reject an open suggestion."""
    suggestion = await session.scalar(
        select(Suggestion).where(Suggestion.id == suggestion_id, Suggestion.document_id == document.id)
    )
    if suggestion is None:
        raise NotFound(f"No suggestion {suggestion_id} for this document.")
    if suggestion.state != "open":
        raise Conflict(f"This suggestion was already {suggestion.state}.")
    if accept:
        change: dict[str, Any]
        if suggestion.field == "tag":
            current = list(await session.scalars(select(DocumentTag.tag_id).where(DocumentTag.document_id == document.id)))
            change = {"tag_ids": [*current, suggestion.term_id]}
        elif suggestion.field == "category":
            current = list(
                await session.scalars(select(DocumentCategory.category_id).where(DocumentCategory.document_id == document.id))
            )
            change = {"category_ids": [*current, suggestion.term_id]}
        elif suggestion.field == "date":
            change = {"created_on": suggestion.value}
        else:
            change = {f"{suggestion.field}_id": suggestion.term_id}
        await records.update(session, principal, document, DocumentUpdate.model_validate(change))
    suggestion.state = "accepted" if accept else "rejected"
    suggestion.decided_by, suggestion.decided_at = principal.user_id, utcnow()
    await session.flush()


async def forget_term(session: AsyncSession, field: str, term_id: uuid.UUID) -> None:
    """Drop the suggestions of a deleted term."""
    await session.execute(delete(Suggestion).where(Suggestion.field == field, Suggestion.term_id == term_id))

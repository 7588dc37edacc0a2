"""Rules of the classifier: what it learns from, when it trains again, and what it suggests for a document.

What counts as a confirmed value: a field of a document (type, correspondent, tags, categories) that a person set
(its history, `document_changes`, has a change of that field by a user; accepting a suggestion is one), with the
document's current value as the label. A document whose type or correspondent a person cleared is an example against
every type or correspondent; one whose tags a person emptied teaches nothing about tags. A rejected suggestion makes
its document an example against that very value (`learning.REJECTED_WEIGHT`). Documents in the trash are left out.

A suggestion's words are words of the document it is made for (a word adds to a score only where it occurs), so
nothing of the documents it learnt from, private ones included, shows in it.

Training is a durable job per organization (`tasks.ClassifierWorker`): queued `queue.DEBOUNCE` after confirmed
values change (more changes meanwhile ride along), or at once on demand.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.core.db import utcnow
from nubes.documents.classifier import dates, learning, queue
from nubes.documents.classifier.models import DocumentClassifier
from nubes.documents.classifier.schemas import ClassifierClass, ClassifierField, ClassifierStatus
from nubes.documents.extraction import service as extraction
from nubes.documents.records.models import Document, DocumentCategory, DocumentChange, DocumentTag
from nubes.documents.suggestions.models import Suggestion
from nubes.documents.vocabulary.models import Category, Correspondent, DocumentType, Tag
from nubes.files.tree import service as files

log = structlog.get_logger("nubes.documents")

MODEL_NAME = "words"
"""The model a classifier suggestion names in its reason."""
DATES_NAME = "dates"
"""What names a date suggestion's origin in its reason: the dates written in the text."""
TERMS: dict[str, type[DocumentType] | type[Correspondent] | type[Tag] | type[Category]] = {
    "type": DocumentType,
    "correspondent": Correspondent,
    "tag": Tag,
    "category": Category,
}
_HISTORY_FIELDS = {"type_id": "type", "correspondent_id": "correspondent", "tag_ids": "tag", "category_ids": "category"}
_NOT_TRAINED = "Not trained yet: confirm documents' types, correspondents, tags or categories, then retrain."
_DATES = uuid.UUID("6f1d7c1e-5b8a-4f0e-9a53-8f0f2a1c7d41")


def date_term(value: str) -> uuid.UUID:
    """The stable id a suggested date is stored under (a document's suggestions are unique per field and id)."""
    return uuid.uuid5(_DATES, value)


async def retrain(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    """Queue a training now (the worker is woken once the transaction commits)."""
    await queue.now(session, tenant_id)


async def status(session: AsyncSession, tenant_id: uuid.UUID) -> ClassifierStatus:
    """The organization's classifier: its job's state and what it learnt, with the names of today's vocabulary."""
    row = await session.get(DocumentClassifier, tenant_id)
    fields: list[ClassifierField] = []
    for name, model in TERMS.items():
        learnt: dict[str, Any] = (row.classes if row else {}).get(name, {})
        counts: dict[str, int] = learnt.get("classes", {})
        ids = [uuid.UUID(value) for value in counts]
        named = select(model.id, model.name).where(model.tenant_id == tenant_id, model.id.in_(ids))
        names: dict[uuid.UUID, str] = dict((await session.execute(named)).all()) if ids else {}
        classes = [
            ClassifierClass(id=term_id, name=names[term_id], examples=counts[str(term_id)]) for term_id in ids if term_id in names
        ]
        note = learnt.get("note") if row and row.trained_at else "Not trained yet."
        fields.append(ClassifierField(field=name, classes=sorted(classes, key=lambda item: item.name.casefold()), note=note))
    state = {"idle": "idle", "pending": "queued", "running": "training"}[row.state] if row else "idle"
    return ClassifierStatus(
        state=state,
        queued_for=row.due_at if row and row.state == "pending" else None,
        trained_at=row.trained_at if row else None,
        documents=row.documents if row else 0,
        fields=fields,
        problem=row.problem if row and (row.problem or row.trained_at) else _NOT_TRAINED,
        min_examples=learning.MIN_EXAMPLES,
        threshold=learning.THRESHOLD,
    )


async def examples(session: AsyncSession, tenant_id: uuid.UUID) -> list[learning.Example]:
    """The organization's documents that teach something (a value a person confirmed, a suggestion they rejected)."""
    documents = {
        row.id: row
        for row in await session.execute(
            select(Document.id, Document.title, Document.type_id, Document.correspondent_id).where(
                Document.tenant_id == tenant_id, files.is_live(Document.file_id)
            )
        )
    }
    in_tenant = select(Document.id).where(Document.tenant_id == tenant_id)
    confirmed: dict[uuid.UUID, set[str]] = {}
    for document_id, changes in await session.execute(
        select(DocumentChange.document_id, DocumentChange.changes).where(
            DocumentChange.document_id.in_(in_tenant), DocumentChange.actor_id.is_not(None)
        )
    ):
        confirmed.setdefault(document_id, set()).update(_HISTORY_FIELDS[key] for key in changes if key in _HISTORY_FIELDS)
    rejected: dict[uuid.UUID, dict[str, set[str]]] = {}
    for document_id, field, term_id in await session.execute(
        select(Suggestion.document_id, Suggestion.field, Suggestion.term_id).where(
            Suggestion.document_id.in_(in_tenant), Suggestion.state == "rejected", Suggestion.field.in_(learning.FIELDS)
        )
    ):
        rejected.setdefault(document_id, {}).setdefault(field, set()).add(str(term_id))
    wanted = [document_id for document_id in documents if document_id in confirmed or document_id in rejected]
    links: dict[tuple[uuid.UUID, str], set[str]] = {}
    for field, link, column in (
        ("tag", DocumentTag, DocumentTag.tag_id),
        ("category", DocumentCategory, DocumentCategory.category_id),
    ):
        for start in range(0, len(wanted), 500):
            batch = wanted[start : start + 500]
            for document_id, term_id in await session.execute(
                select(link.document_id, column).where(link.document_id.in_(batch))
            ):
                links.setdefault((document_id, field), set()).add(str(term_id))
    result: list[learning.Example] = []
    for start in range(0, len(wanted), 200):
        batch = wanted[start : start + 200]
        texts = await extraction.texts_of(session, batch)
        for document_id in batch:
            document = documents[document_id]
            labels: dict[str, set[str]] = {}
            for field in confirmed.get(document_id, ()):
                if field in learning.SINGLE:
                    value = document.type_id if field == "type" else document.correspondent_id
                    labels[field] = {str(value)} if value else set()
                else:
                    labels[field] = links.get((document_id, field), set())
            text = f"{document.title}\n{texts.get(document_id, '')[: learning.MAX_CHARS]}"
            result.append(learning.Example(text=text, labels=labels, rejected=rejected.get(document_id, {})))
    return result


async def store(
    session: AsyncSession, tenant_id: uuid.UUID, training: learning.Training | None, *, problem: str | None = None
) -> None:
    """Keep what a training made (or why it failed), and end the job unless it was queued again meanwhile."""
    values: dict[str, Any] = {"updated_at": utcnow()}
    if training is not None:
        classes = {
            name: {"classes": training.classes.get(name, {}), "note": training.notes.get(name)} for name in learning.FIELDS
        }
        if not training.model:
            problem = (
                f"Not enough confirmed documents yet: a type, correspondent, tag or category is learnt from "
                f"{learning.MIN_EXAMPLES} documents people confirmed with it and {learning.MIN_EXAMPLES} without it."
            )
        values |= {
            "model": training.model, "classes": classes, "documents": training.documents, "trained_at": utcnow(),
            "problem": problem,
        }  # fmt: skip
    else:
        values["problem"] = (problem or "Training failed.")[:500]
    await session.execute(update(DocumentClassifier).where(DocumentClassifier.tenant_id == tenant_id).values(**values))
    await session.execute(
        update(DocumentClassifier)
        .where(DocumentClassifier.tenant_id == tenant_id, DocumentClassifier.state == "running")
        .values(state="idle")
    )


async def _existing(
    session: AsyncSession, tenant_id: uuid.UUID, predictions: Sequence[learning.Prediction]
) -> set[tuple[str, str]]:
    """The predicted values that are terms of the organization today (a model never names another's, nor a deleted one)."""
    known: set[tuple[str, str]] = set()
    for name, model in TERMS.items():
        ids = [uuid.UUID(prediction.value) for prediction in predictions if prediction.field == name]
        if ids:
            found = await session.scalars(select(model.id).where(model.tenant_id == tenant_id, model.id.in_(ids)))
            known |= {(name, str(term_id)) for term_id in found}
    return known


async def propose(
    session: AsyncSession, document: Document, text: str, taken: set[tuple[str, uuid.UUID | None]]
) -> list[Suggestion]:
    """The classifier's suggestions for a document (not added): its organization's model's classes, and a date from
    its text; never a value in `taken` (applied, proposed or decided for it), nor a type or correspondent or date
    for a document that has one."""
    made: list[Suggestion] = []
    if document.created_on is None:
        found = dates.find(text)
        if found and ("date", date_term(found[0].value.isoformat())) not in taken:
            first = found[0]
            confidence = 0.85 if len({item.value for item in found}) == 1 else 0.65
            made.append(
                Suggestion(
                    document_id=document.id, field="date", term_id=date_term(first.value.isoformat()),
                    value=first.value.isoformat(), confidence=confidence, source="classifier",
                    reason={"model": DATES_NAME, "words": [first.text]},
                )
            )  # fmt: skip
    data = await session.scalar(select(DocumentClassifier.model).where(DocumentClassifier.tenant_id == document.tenant_id))
    if not data:
        return made
    try:
        model = learning.Model(data)
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("documents.classifier_unreadable", tenant_id=str(document.tenant_id), error=str(exc)[:200])
        return made
    skip = {(field, str(term_id)) for field, term_id in taken}
    skip |= {
        (field, value)
        for field, values in model.fields.items()
        for value in values[0]
        if field in learning.SINGLE and _has(document, field)
    }
    predictions = model.predict(text, skip=skip)
    known = await _existing(session, document.tenant_id, predictions)
    made += [
        Suggestion(
            document_id=document.id, field=prediction.field, term_id=uuid.UUID(prediction.value),
            confidence=prediction.confidence, source="classifier", reason={"model": MODEL_NAME, "words": prediction.words},
        )
        for prediction in predictions
        if (prediction.field, prediction.value) in known
    ]  # fmt: skip
    return made


def _has(document: Document, field: str) -> bool:
    return (document.type_id if field == "type" else document.correspondent_id) is not None


def training_due(now: datetime | None = None) -> Any:
    """A SQL condition: the organization's training is due (queued and due, or a lapsed lease)."""
    return (DocumentClassifier.state.in_(("pending", "running"))) & (DocumentClassifier.due_at <= (now or utcnow()))

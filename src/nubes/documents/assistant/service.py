"""Rules of the AI assistant: the organization's provider settings (the key sealed, never returned), "Test
connection", and the suggestions made from the provider's answer about a document, which may only name the
organization's existing types, correspondents and tags (anything else in the answer is ignored)."""

from __future__ import annotations

import json
import math
import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core import audit
from nubes.core.audit import Origin
from nubes.core.crypto import SealError, seal, unseal
from nubes.core.db import utcnow
from nubes.core.errors import FieldError, UnprocessableEntity
from nubes.core.principal import Principal
from nubes.documents.assistant import provider as providers
from nubes.documents.assistant.models import AssistantJob, AssistantSettings
from nubes.documents.assistant.schemas import (
    AssistantJobs,
    AssistantSettingsRead,
    AssistantSettingsUpdate,
    ConnectionTest,
)
from nubes.documents.extraction import service as extraction
from nubes.documents.records.models import Document, DocumentTag
from nubes.documents.suggestions.models import Suggestion
from nubes.documents.vocabulary.models import Correspondent, DocumentType, Tag

KEY_PURPOSE = "documents.assistant.api_key"
"""What the sealed API key is bound to (it cannot be opened as any other secret)."""

DEFAULT_PROMPT = (
    "You file an organization's documents. From a document's title and text, choose its document type, its "
    "correspondent (who sent it or whom it is addressed to) and its tags. Choose only among the names the "
    "organization already uses, listed with the document, spelled exactly as listed; never invent a name. Leave a "
    "field empty when nothing listed fits, and give a lower confidence when unsure."
)
ANSWER_FORMAT = (
    "Answer with one JSON object and nothing else, of this shape: "
    '{"type": {"name": "...", "confidence": 0.0-1.0} or null, '
    '"correspondent": {"name": "...", "confidence": 0.0-1.0} or null, '
    '"tags": [{"name": "...", "confidence": 0.0-1.0}], '
    '"words": ["up to 10 words of the text that decided it"], '
    '"explanation": "one short sentence"}.'
)
TERMS_SENT = 300
"""Names of each vocabulary sent at most (the prompt stays bounded for organizations with very many tags)."""
MAX_TAGS = 10
"""Tags suggested from one answer at most."""
MAX_WORDS = 10
DEFAULT_CONFIDENCE = 0.6
"""The confidence of a pick the provider gave none for."""
_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)
FIELDS: dict[str, type[DocumentType] | type[Correspondent] | type[Tag]] = {
    "type": DocumentType,
    "correspondent": Correspondent,
    "tag": Tag,
}


def _key_of(name: str) -> str:
    return unicodedata.normalize("NFC", name).strip().casefold()


async def _row(session: AsyncSession, tenant_id: uuid.UUID) -> AssistantSettings | None:
    return await session.scalar(select(AssistantSettings).where(AssistantSettings.tenant_id == tenant_id))


async def _jobs(session: AsyncSession, tenant_id: uuid.UUID) -> AssistantJobs:
    rows = await session.execute(
        select(AssistantJob.state, func.count()).where(AssistantJob.tenant_id == tenant_id).group_by(AssistantJob.state)
    )
    counts: dict[str, int] = dict(rows.all())
    last_error = await session.scalar(
        select(AssistantJob.error)
        .where(AssistantJob.tenant_id == tenant_id, AssistantJob.error.is_not(None))
        .order_by(AssistantJob.updated_at.desc())
        .limit(1)
    )
    return AssistantJobs(
        pending=counts.get("pending", 0) + counts.get("running", 0),
        done=counts.get("done", 0),
        failed=counts.get("failed", 0),
        last_error=last_error,
    )


async def get(session: AsyncSession, tenant_id: uuid.UUID, *, settings: Settings) -> AssistantSettingsRead:
    """The organization's AI provider settings, without the key (only whether one is set)."""
    row = await _row(session, tenant_id)
    return AssistantSettingsRead(
        enabled=row.enabled if row else False,
        base_url=row.base_url if row else "",
        model=row.model if row else "",
        key_set=bool(row and row.api_key_sealed),
        system_prompt=(row.system_prompt if row and row.system_prompt else DEFAULT_PROMPT),
        prompt_is_default=not (row and row.system_prompt),
        default_prompt=DEFAULT_PROMPT,
        answer_format=ANSWER_FORMAT,
        max_chars=row.max_chars if row else 8000,
        timeout_seconds=row.timeout_seconds if row else 60,
        allow_private_urls=settings.ai_allow_private_urls,
        updated_at=row.updated_at if row else None,
        jobs=await _jobs(session, tenant_id),
    )


async def update(
    session: AsyncSession, principal: Principal, change: AssistantSettingsUpdate, *, settings: Settings, origin: Origin
) -> None:
    """Store the settings (422 for a URL Nubes will not call, or an enabled assistant without a URL or model); the
    change is audited, never with the key."""
    base_url = ""
    if change.base_url.strip():
        try:
            base_url = providers.check_url(change.base_url, allow_private=settings.ai_allow_private_urls)
        except providers.RefusedURL as exc:
            error = FieldError(loc=["body", "base_url"], msg=str(exc), type="value_error")
            raise UnprocessableEntity(str(exc), errors=[error]) from None
    if change.enabled and (not base_url or not change.model.strip()):
        raise UnprocessableEntity("Give the provider's URL and model to turn the assistant on.")
    row = await _row(session, principal.tenant_id)
    if row is None:
        row = AssistantSettings(tenant_id=principal.tenant_id)
        session.add(row)
    key = "kept"
    if change.api_key is not None:
        row.api_key_sealed, key = seal(settings.secret_key, KEY_PURPOSE, change.api_key), "set"
    elif change.remove_api_key:
        row.api_key_sealed, key = None, "removed"
    prompt = change.system_prompt.strip()
    row.enabled, row.base_url, row.model = change.enabled, base_url, change.model.strip()
    row.system_prompt = "" if prompt == DEFAULT_PROMPT else prompt
    row.max_chars, row.timeout_seconds = change.max_chars, change.timeout_seconds
    row.updated_at, row.updated_by = utcnow(), principal.user_id
    await session.flush()
    await audit.record(
        session=session, action="documents.assistant.update", origin=origin, principal=principal,
        target_type="documents_assistant", target_id=principal.tenant_id,
        detail={"enabled": row.enabled, "base_url": row.base_url, "model": row.model, "api_key": key},
    )  # fmt: skip


def _provider(row: AssistantSettings, settings: Settings) -> providers.Provider:
    """The provider of the stored settings, its key opened (ProviderError when this server secret cannot)."""
    key = None
    if row.api_key_sealed:
        try:
            key = unseal(settings.secret_key, KEY_PURPOSE, row.api_key_sealed)
        except SealError:
            raise providers.ProviderError(
                "The stored API key cannot be opened with this server's secret (was it changed?); set the key again.",
                transient=False,
            ) from None
    base_url = providers.check_url(row.base_url, allow_private=settings.ai_allow_private_urls)
    return providers.Provider(
        base_url=base_url, model=row.model, key=key, timeout=float(row.timeout_seconds),
        allow_private=settings.ai_allow_private_urls,
    )  # fmt: skip


def _failed(detail: str) -> ConnectionTest:
    return ConnectionTest(ok=False, detail=detail, status=None, models=None, model_listed=None, elapsed_ms=0)


async def test_connection(session: AsyncSession, tenant_id: uuid.UUID, *, settings: Settings) -> ConnectionTest:
    """Whether the provider answers with the stored settings, or why not (never with the key in the reason)."""
    row = await _row(session, tenant_id)
    if row is None or not row.base_url:
        return _failed("No provider URL is set yet.")
    try:
        provider = _provider(row, settings)
    except (providers.ProviderError, providers.RefusedURL) as exc:
        return _failed(str(exc))
    found = await providers.check(provider)
    return ConnectionTest(
        ok=found.ok, detail=found.detail, status=found.status, models=found.models, model_listed=found.model_listed,
        elapsed_ms=found.elapsed_ms,
    )  # fmt: skip


async def enabled(session: AsyncSession, tenant_id: uuid.UUID) -> bool:
    """Whether the organization's assistant is on."""
    return bool(await session.scalar(select(AssistantSettings.enabled).where(AssistantSettings.tenant_id == tenant_id)))


@dataclass(slots=True)
class Question:
    """What the worker sends the provider about one document, and the terms an answer may name (by name key)."""

    provider: providers.Provider
    messages: list[dict[str, str]]
    terms: dict[str, dict[str, uuid.UUID]] = field(default_factory=dict)


async def question(session: AsyncSession, document_id: uuid.UUID, *, settings: Settings) -> Question | None:
    """What to ask about the document (None: the document is gone or its organization's assistant is off).

    ProviderError / RefusedURL when the stored settings cannot be used (a key this secret cannot open, a URL refused).
    """
    document = await session.get(Document, document_id)
    if document is None:
        return None
    row = await _row(session, document.tenant_id)
    if row is None or not row.enabled or not row.base_url or not row.model:
        return None
    provider = _provider(row, settings)
    terms: dict[str, dict[str, uuid.UUID]] = {}
    listed: dict[str, list[str]] = {}
    for name, model in FIELDS.items():
        rows = list(
            await session.execute(
                select(model.id, model.name)
                .where(model.tenant_id == document.tenant_id)
                .order_by(model.name_key)
                .limit(TERMS_SENT)
            )
        )
        terms[name] = {_key_of(term_name): term_id for term_id, term_name in rows}
        listed[name] = [term_name for _, term_name in rows]
    text = (await extraction.text_of(session, document_id))[: row.max_chars]
    prompt = row.system_prompt or DEFAULT_PROMPT
    document_json = {
        "title": document.title,
        "text": text,
        "document_types": listed["type"],
        "correspondents": listed["correspondent"],
        "tags": listed["tag"],
    }
    messages = [
        {"role": "system", "content": f"{prompt}\n\n{ANSWER_FORMAT}"},
        {"role": "user", "content": json.dumps(document_json, ensure_ascii=False)},
    ]
    return Question(provider=provider, messages=messages, terms=terms)


@dataclass(frozen=True, slots=True)
class Pick:
    field: str
    term_id: uuid.UUID
    confidence: float


@dataclass(slots=True)
class Answer:
    """What an answer proposes among the organization's terms, and why."""

    picks: list[Pick]
    words: list[str]
    explanation: str


def _confidence(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        return DEFAULT_CONFIDENCE
    return round(min(max(float(value), 0.0), 1.0), 3)


def _pick(value: Any, known: dict[str, uuid.UUID]) -> tuple[uuid.UUID, float] | None:
    """A named term of the answer, if it is one of the organization's: a name, or `{"name", "confidence"}`."""
    confidence: Any = None
    if isinstance(value, dict):
        value, confidence = value.get("name"), value.get("confidence")
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        return None
    term_id = known.get(_key_of(value))
    return (term_id, _confidence(confidence)) if term_id is not None else None


def read_answer(content: str, terms: dict[str, dict[str, uuid.UUID]]) -> Answer:
    """The picks of an answer among the known terms (unknown names, wrong shapes and extra keys are ignored);
    ProviderError when it is not one JSON object."""
    fenced = _FENCE.match(content)
    try:
        data = json.loads(fenced.group(1) if fenced else content)
    except ValueError:
        raise providers.ProviderError("The model's answer is not JSON (bad JSON).") from None
    if not isinstance(data, dict):
        raise providers.ProviderError("The model's answer is not a JSON object.")
    picks: list[Pick] = []
    for name in ("type", "correspondent"):
        found = _pick(data.get(name), terms[name])
        if found:
            picks.append(Pick(name, *found))
    tags = data.get("tags")
    seen: set[uuid.UUID] = set()
    for value in tags[: MAX_TAGS * 3] if isinstance(tags, list) else []:
        found = _pick(value, terms["tag"])
        if found and found[0] not in seen and len(seen) < MAX_TAGS:
            seen.add(found[0])
            picks.append(Pick("tag", *found))
    given = data.get("words")
    words = [word.strip()[:60] for word in given if isinstance(word, str) and word.strip()] if isinstance(given, list) else []
    explanation = data.get("explanation")
    return Answer(
        picks=picks,
        words=words[:MAX_WORDS],
        explanation=" ".join(explanation.split())[:300] if isinstance(explanation, str) else "",
    )


async def add_suggestions(session: AsyncSession, document_id: uuid.UUID, answer: Answer, *, model: str) -> int:
    """Add the answer's picks as open suggestions (`source="llm"`); never one already applied to the document, nor one
    proposed or decided before for it. Returns how many were added."""
    document = await session.get(Document, document_id)
    if document is None:
        return 0
    known: set[tuple[str, uuid.UUID | None]] = {
        (suggestion_field, term_id)
        for suggestion_field, term_id in await session.execute(
            select(Suggestion.field, Suggestion.term_id).where(Suggestion.document_id == document_id)
        )
    }
    known |= {("type", document.type_id), ("correspondent", document.correspondent_id)}
    known |= {
        ("tag", tag_id)
        for tag_id in await session.scalars(select(DocumentTag.tag_id).where(DocumentTag.document_id == document_id))
    }
    reason: dict[str, object] = {"model": model[:200], "words": answer.words, "explanation": answer.explanation}
    added = 0
    for pick in answer.picks:
        if (pick.field, pick.term_id) in known:
            continue
        try:
            async with session.begin_nested():  # a rule's suggestion of the same term may land meanwhile: skip it then
                session.add(
                    Suggestion(
                        document_id=document_id, field=pick.field, term_id=pick.term_id, confidence=pick.confidence,
                        source="llm", reason=reason,
                    )
                )  # fmt: skip
        except IntegrityError:
            continue
        known.add((pick.field, pick.term_id))
        added += 1
    return added

"""Pydantic shapes of suggestions."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field


class SuggestionReason(BaseModel):
    """Why a matching rule proposed it."""

    rule: str = Field(description="The rule that matched, e.g. `any: invoice bill`.")
    words: list[str] = Field(description="The words of the document that matched it.")


class ClassifierReason(BaseModel):
    """Why the classifier proposed it."""

    model: str = Field(
        description="`words`: the organization's model learnt from confirmed documents; `dates`: a date in the text."
    )
    words: list[str] = Field(description="The words that drove it most (or the date as the text writes it).")


class AssistantReason(BaseModel):
    """Why the organization's AI provider proposed it (its answer, bounded)."""

    model: str = Field(description="The provider's model that answered.")
    words: list[str] = Field(description="Words of the text the model said decided it (may be empty).")
    explanation: str = Field(description="The model's one-sentence explanation (may be empty).")


class SuggestionRead(BaseModel):
    """A proposed type, correspondent, tag, category or date, why, and how sure Nubes is."""

    id: uuid.UUID
    field: Literal["type", "correspondent", "tag", "category", "date"]
    term_id: uuid.UUID
    name: str = Field(description="The proposed term's name, or the date (ISO 8601).")
    value: str | None = Field(default=None, description="The proposed date (ISO 8601); None for a term.")
    confidence: float = Field(ge=0, le=1)
    source: Literal["rule", "classifier", "llm"] = Field(
        description="What proposed it: `rule` (a matching rule of the vocabulary), `classifier` (learnt, or a date) or "
        "`llm` (the organization's AI provider)."
    )
    reason: AssistantReason | SuggestionReason | ClassifierReason
    state: Literal["open", "accepted", "rejected"]

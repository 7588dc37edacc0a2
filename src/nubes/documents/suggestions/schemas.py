"""Pydantic shapes of suggestions."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field


class SuggestionReason(BaseModel):
    rule: str = Field(description="The rule that matched, e.g. `any: invoice bill`.")
    words: list[str] = Field(description="The words of the document that matched it.")


class SuggestionRead(BaseModel):
    """A proposed type, correspondent or tag, why, and how sure Nubes is."""

    id: uuid.UUID
    field: Literal["type", "correspondent", "tag"]
    term_id: uuid.UUID
    name: str
    confidence: float = Field(ge=0, le=1)
    source: str = Field(description="What proposed it: `rule` (a matching rule of the vocabulary).")
    reason: SuggestionReason
    state: Literal["open", "accepted", "rejected"]

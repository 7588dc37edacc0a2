"""Pydantic shapes of the classifier's state."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class ClassifierClass(BaseModel):
    id: uuid.UUID
    name: str
    examples: int = Field(description="Confirmed documents it was learnt from.")


class ClassifierField(BaseModel):
    field: Literal["type", "correspondent", "tag", "category"]
    classes: list[ClassifierClass] = Field(description="What the classifier may suggest for this field.")
    note: str | None = Field(description="Why it learnt nothing for this field (None: it learnt some).")


class ClassifierStatus(BaseModel):
    """Where the organization's classifier stands: its training job, and what the last training learnt."""

    state: Literal["idle", "queued", "training"]
    queued_for: datetime | None = Field(description="When the queued training starts (labels changed, or on demand).")
    trained_at: datetime | None
    documents: int = Field(description="Confirmed documents the last training learnt from.")
    fields: list[ClassifierField]
    problem: str | None = Field(description="Why it could not train, or learnt nothing (None: it did).")
    min_examples: int = Field(description="Documents a class needs with it, and as many without it, to be learnt.")
    threshold: float = Field(description="The least confidence at which the classifier suggests something.")

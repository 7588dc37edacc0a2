"""Pydantic shapes of saved views."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, field_validator

from nubes.documents.records.schemas import DocumentScope, DocumentSort

ViewColumn = Literal["type", "correspondent", "tags", "created", "added", "modified", "text"]
"""A column of the documents table a view may show (the title always shows)."""

DEFAULT_COLUMNS: list[ViewColumn] = ["type", "correspondent", "tags", "created", "added", "text"]

ViewName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


class ViewQuery(BaseModel):
    """The documents list's query a view opens: the filters, the scope and the order `GET /api/documents` takes,
    with the same rules (its paging is the reader's business, not the view's)."""

    model_config = ConfigDict(extra="forbid")
    type_id: uuid.UUID | None = None
    correspondent_id: uuid.UUID | None = None
    tag_id: uuid.UUID | None = None
    category_id: uuid.UUID | None = None
    q: Annotated[str | None, Field(max_length=200, description="Words in the title or the notes.")] = None
    scope: DocumentScope = "mine"
    sort: DocumentSort = "-added"

    @field_validator("q")
    @classmethod
    def _strip(cls, value: str | None) -> str | None:
        return (value.strip() or None) if value is not None else None


class ViewCreate(BaseModel):
    """Save a documents list under a name."""

    model_config = ConfigDict(extra="forbid")
    name: ViewName
    query: ViewQuery = Field(default_factory=ViewQuery)
    columns: list[ViewColumn] = Field(default_factory=lambda: list(DEFAULT_COLUMNS), max_length=7)
    in_sidebar: StrictBool = Field(default=False, description="Listed in the app's sidebar under Documents.")
    on_overview: StrictBool = Field(default=False, description="Shown as a card on the overview page.")
    shared: StrictBool = Field(default=False, description="Seen by everyone in the organization (takes documents.manage).")
    position: int | None = Field(
        default=None, ge=0, le=100_000, strict=True, description="Its place among your views; default last."
    )

    @field_validator("columns")
    @classmethod
    def _unique_columns(cls, columns: list[ViewColumn] | None) -> list[ViewColumn] | None:
        return list(dict.fromkeys(columns)) if columns is not None else None


class ViewUpdate(BaseModel):
    """Change a view; a field left out is unchanged."""

    model_config = ConfigDict(extra="forbid")
    name: ViewName | None = None
    query: ViewQuery | None = None
    columns: list[ViewColumn] | None = Field(default=None, max_length=7)
    in_sidebar: StrictBool | None = None
    on_overview: StrictBool | None = None
    shared: StrictBool | None = None
    position: int | None = Field(default=None, ge=0, le=100_000, strict=True)

    @field_validator("columns")
    @classmethod
    def _unique_columns(cls, columns: list[ViewColumn] | None) -> list[ViewColumn] | None:
        return list(dict.fromkeys(columns)) if columns is not None else None


class ViewRead(BaseModel):
    """A saved view; its query names only terms that still exist."""

    id: uuid.UUID
    name: str
    query: ViewQuery
    columns: list[ViewColumn]
    in_sidebar: bool
    on_overview: bool
    shared: bool
    position: int
    mine: bool = Field(description="Whether it is yours (otherwise someone shared it with the organization).")
    owner_name: str
    created_at: datetime
    updated_at: datetime

"""Pydantic shapes of saved views."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, field_validator, model_validator

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
    custom_field_id: uuid.UUID | None = Field(default=None, description="Only documents carrying this custom field.")
    custom_field_value: str | None = Field(
        default=None, max_length=2048, description="... with this value (a select: an option's id or label)."
    )
    custom_field_min: str | None = Field(default=None, max_length=64, description="... at least this (number, date, money).")
    custom_field_max: str | None = Field(default=None, max_length=64, description="... at most this (number, date, money).")
    scope: DocumentScope = "mine"
    sort: DocumentSort = "-added"

    @field_validator("q")
    @classmethod
    def _strip(cls, value: str | None) -> str | None:
        return (value.strip() or None) if value is not None else None

    @model_validator(mode="after")
    def _value_needs_field(self) -> ViewQuery:
        given = [key for key in ("custom_field_value", "custom_field_min", "custom_field_max") if getattr(self, key) is not None]
        if given and self.custom_field_id is None:
            raise ValueError(f"{given[0]} filters the values of a custom field: give custom_field_id too.")
        return self


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
    custom_field_removed: bool = Field(
        default=False,
        description="Its query filters by a custom field deleted since: the list it opens is empty until that filter goes.",
    )
    owner_name: str
    created_at: datetime
    updated_at: datetime

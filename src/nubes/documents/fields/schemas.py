"""Pydantic shapes of custom fields: definitions, the values a document update sets, and the values a document shows."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from nubes.documents.vocabulary.schemas import Name

FieldType = Literal["text", "number", "date", "monetary", "boolean", "url", "select", "document_link"]

VALUE_FORMS = (
    "text: a string; number: a JSON number; date: 'YYYY-MM-DD'; monetary: 'EUR 12.50' or {amount: '12.50', currency: "
    "'EUR'} (the amount a decimal string, never a float); boolean: true/false; url: an http(s) URL; select: an "
    "option's id; document_link: a document's id; null: the document carries the field without a value."
)


class SelectOptionIn(BaseModel):
    """An option of a select field: with its `id` it is an option kept (and renamed), without it a new one."""

    model_config = ConfigDict(extra="forbid")
    id: str | None = Field(default=None, max_length=36)
    label: Name


class SelectOption(BaseModel):
    id: str
    label: str


class FieldCreate(BaseModel):
    """A new custom field (`options` only for a select)."""

    model_config = ConfigDict(extra="forbid")
    name: Name
    data_type: FieldType
    options: list[SelectOptionIn] = Field(default_factory=list, max_length=200)


class FieldUpdate(BaseModel):
    """Rename a field, change its type (only while no document carries it) or its options (the whole list: an option
    left out is removed, which documents holding it lose only with `clear_removed_options`)."""

    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    data_type: FieldType | None = None
    options: list[SelectOptionIn] | None = Field(default=None, max_length=200)
    clear_removed_options: bool = Field(
        default=False, strict=True, description="Remove options documents hold, clearing those documents' values."
    )


class FieldRead(BaseModel):
    """A custom field, with how many of your documents carry it."""

    id: uuid.UUID
    name: str
    data_type: FieldType
    options: list[SelectOption]
    document_count: int = 0


class FieldRemoval(BaseModel):
    """What deleting a field did (or, for a dry run, would do)."""

    documents: int = Field(description="Documents of the organization that carried the field and lost its value.")


class CustomFieldSet(BaseModel):
    """One field a document carries, with its value."""

    model_config = ConfigDict(extra="forbid")
    field_id: uuid.UUID
    value: Annotated[Any, Field(description=VALUE_FORMS)] = None


class Money(BaseModel):
    amount: str = Field(description="A decimal string, e.g. '12.50'.")
    currency: str = Field(description="ISO 4217, e.g. 'EUR'.")


class LinkedDocument(BaseModel):
    """The document a document-link value points to."""

    id: uuid.UUID
    title: str | None = Field(description="None when it is gone.")
    gone: bool = Field(description="Deleted since, or not visible to you.")


class CustomFieldValueRead(BaseModel):
    """A field a document carries: its value in the field's form, and as text."""

    field_id: uuid.UUID
    name: str
    data_type: FieldType
    value: bool | float | str | Money | None = Field(description=VALUE_FORMS)
    display: str = Field(description="The value as text: an option's label, 'EUR 12.50', a linked document's title.")
    link: LinkedDocument | None = None

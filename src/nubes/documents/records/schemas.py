"""Pydantic shapes of documents."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from nubes.documents.fields.schemas import CustomFieldSet, CustomFieldValueRead
from nubes.documents.vocabulary.schemas import TagRead

ExtractionState = Literal["pending", "running", "done", "failed"]
DocumentScope = Literal["mine", "shared", "all"]
DocumentPreview = Literal["ready", "pending", "none"]
DocumentSort = Literal["added", "-added", "created", "-created", "title", "-title", "modified", "-modified"]


class DocumentAdd(BaseModel):
    """Make an existing file a document."""

    model_config = ConfigDict(extra="forbid")
    file_id: uuid.UUID


class DocumentUpdate(BaseModel):
    """Change a document's metadata; a field left out is unchanged, `null` clears it."""

    model_config = ConfigDict(extra="forbid")
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)] | None = None
    type_id: uuid.UUID | None = None
    correspondent_id: uuid.UUID | None = None
    archive_serial: int | None = Field(default=None, ge=1, le=2_000_000_000, strict=True)
    created_on: date | None = None
    notes: str | None = Field(default=None, max_length=20_000)
    tag_ids: list[uuid.UUID] | None = Field(default=None, max_length=100)
    category_ids: list[uuid.UUID] | None = Field(default=None, max_length=100)
    custom_fields: list[CustomFieldSet] | None = Field(
        default=None, max_length=100, description="Every custom field the document carries, with its value (the whole set)."
    )


class Ref(BaseModel):
    id: uuid.UUID
    name: str


class Extraction(BaseModel):
    """Where reading the document's text stands."""

    state: ExtractionState
    progress: int = Field(description="Percent done while running.")
    method: str = Field(description="How the text was read: text-layer, ocr, plain, email, office.")
    pages: int
    error: str | None = Field(description="Why it failed, when it did.")
    updated_at: datetime


class DocumentRead(BaseModel):
    """A document: its file, its metadata, and where its extraction stands."""

    id: uuid.UUID
    file_id: uuid.UUID
    owner_id: uuid.UUID
    title: str
    file_name: str
    size: int
    content_type: str
    type: Ref | None
    correspondent: Ref | None
    tags: list[TagRead]
    categories: list[Ref]
    archive_serial: int | None
    created_on: date | None
    notes: str
    added_at: datetime
    modified_at: datetime
    extraction: Extraction | None
    custom_fields: list[CustomFieldValueRead] = Field(default_factory=list, description="The custom fields it carries.")
    mine: bool = Field(description="Whether you own it (otherwise it is shared with you).")
    sha256: str | None = Field(default=None, description="The SHA-256 of the file's content (null while it has none).")
    preview: DocumentPreview = Field(
        default="none",
        description=(
            "Whether a preview of the file (an image, or a PDF's first page) is `ready` at GET "
            "/api/files/{file_id}/thumbnail, still being made (`pending`), or there is `none`."
        ),
    )


class DocumentPage(BaseModel):
    items: list[DocumentRead]
    total: int
    limit: int
    offset: int


class DocumentText(BaseModel):
    """The text read from a document (empty until its extraction is done)."""

    text: str
    extraction: Extraction | None


class DocumentChangeRead(BaseModel):
    at: datetime
    actor: Ref | None
    changes: dict[str, list[object]] = Field(description="Each changed field: [before, after].")


class Duplicate(BaseModel):
    document_id: uuid.UUID
    title: str

"""Pydantic shapes of the document vocabularies."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# No control characters (C0, DEL, C1), and not only spaces: stated in the schema, checked again by the service.
_TEXT = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
Name = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=_TEXT)]
TagName = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=_TEXT)]
Color = Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")]


Algorithm = Literal["none", "any", "all", "exact", "regex", "fuzzy"]


class MatchingIn(BaseModel):
    """How a term is suggested for a document whose text matches it (`none`: never); absent fields stay as they are."""

    matching: Algorithm | None = Field(
        default=None,
        description="any word / all words / an exact phrase / a regex (RE2) / a fuzzy phrase (OCR errors); none: never.",
    )
    match: str | None = Field(default=None, max_length=500, description="The words, phrase or regex.")
    case_sensitive: bool | None = Field(default=None, strict=True)


class MatchingRead(BaseModel):
    matching: Algorithm = "none"
    match: str = ""
    case_sensitive: bool = False


class TermCreate(MatchingIn):
    """A new document type or correspondent."""

    model_config = ConfigDict(extra="forbid")
    name: Name


class TermUpdate(MatchingIn):
    """Rename a document type or correspondent, or change its matching rule."""

    model_config = ConfigDict(extra="forbid")
    name: Name | None = None


class TermRead(MatchingRead):
    """A document type or correspondent, with how many documents of yours use it."""

    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    document_count: int = 0


class TagCreate(MatchingIn):
    model_config = ConfigDict(extra="forbid")
    name: TagName
    color: Color = "#64748b"


class TagUpdate(MatchingIn):
    model_config = ConfigDict(extra="forbid")
    name: TagName | None = None
    color: Color | None = None


class TagRead(MatchingRead):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    color: str
    document_count: int = 0


class CategoryCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    parent_id: uuid.UUID | None = Field(default=None, description="The category it sits in; the top level when absent.")


class CategoryUpdate(BaseModel):
    """Rename and/or move a category (`parent_id: null` moves it to the top level; absent: it stays)."""

    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    parent_id: uuid.UUID | None = None


class CategoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    parent_id: uuid.UUID | None
    path: list[str] = Field(default_factory=list, description="Names from the top level down to this one.")
    document_count: int = Field(default=0, description="Your documents in this category itself (not below).")


class CategoryMerge(BaseModel):
    model_config = ConfigDict(extra="forbid")
    into_id: uuid.UUID = Field(description="The category that takes this one's documents and subcategories.")


class CategoryRemoval(BaseModel):
    """What deleting a category did (or, for a dry run, would do)."""

    categories: int = Field(description="Categories deleted: this one and every one below it.")
    documents: int = Field(description="Documents that lost one of those categories (the documents themselves stay).")

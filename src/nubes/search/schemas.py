"""Response bodies of search: full-text hits' snippets, and the top bar's answer grouped by kind of thing found."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class SnippetPart(BaseModel):
    text: str
    match: bool = Field(description="Whether this part is a word the query matched (show it marked).")


class FileFound(BaseModel):
    """One of your files or folders whose name matched, or one of your files whose content holds the words."""

    id: uuid.UUID
    kind: Literal["file", "folder"]
    name: str
    parent_id: uuid.UUID | None = Field(description="The folder it is in (open it there).")
    content_type: str
    size: int
    updated_at: datetime
    snippet: list[SnippetPart] = Field(
        default_factory=list, description="Where the words matched in its content (empty when its name matched)."
    )


class DocumentFound(BaseModel):
    """A document whose text, title or notes matched, with where."""

    document_id: uuid.UUID
    file_id: uuid.UUID
    title: str
    snippet: list[SnippetPart] = Field(description="Where the words matched, in the document's text.")


class ContainerFound(BaseModel):
    """A container of your organization whose name matched."""

    id: uuid.UUID
    name: str
    state: str


class PersonFound(BaseModel):
    """Someone of your organization you could share with (what the sharing picker shows of them, nothing more)."""

    id: uuid.UUID
    name: str = Field(description="Their display name (their username when they set none).")
    username: str
    initials: str = Field(description="For their avatar.")


class FileGroup(BaseModel):
    items: list[FileFound]
    more: bool = Field(description="Whether more matched than are listed (see them in Files' search).")


class DocumentGroup(BaseModel):
    items: list[DocumentFound]
    more: bool = Field(description="Whether more matched than are listed (see them in Documents).")
    total: int = Field(description="How many documents matched in all (that you may open).")


class ContainerGroup(BaseModel):
    items: list[ContainerFound]
    more: bool = Field(description="Whether more matched than are listed.")


class PersonGroup(BaseModel):
    items: list[PersonFound]
    more: bool = Field(description="Whether more matched than are listed.")


class Everything(BaseModel):
    """What the top bar's search box found, by kind; a kind is null when it was not searched, because you (or the
    access token you use) may not see it: files need files.read, documents documents.read, containers
    containers.read, people files.share (the sharing picker's rule)."""

    q: str
    files: FileGroup | None
    documents: DocumentGroup | None
    containers: ContainerGroup | None
    people: PersonGroup | None

"""Pydantic shapes of the tree: files, folders, listings and their changes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# Names are checked by the service (nubes.files.tree.names) so that the rule and its message live in one place;
# the schema bounds the size only.
NameField = Field(
    min_length=1, max_length=1024, description="At most 255 bytes of UTF-8; no '/', control characters, '.' or '..'."
)


class FileRead(BaseModel):
    """A folder or a file."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    parent_id: uuid.UUID | None = Field(description="The containing folder; null only for your root folder.")
    kind: Literal["root", "folder", "file"]
    name: str
    size: int = Field(description="Bytes of the current content (0 for folders).")
    content_type: str
    sha256: str | None
    version_no: int
    created_at: datetime
    updated_at: datetime
    modified_at: datetime | None = Field(
        description="The content's date as the client that wrote it gave it (WebDAV's X-OC-Mtime); null: updated_at."
    )
    trashed_at: datetime | None
    favorite: bool = False


class FolderListing(BaseModel):
    """A folder, the path to it from your root, and one page of what it holds (folders first, then by name)."""

    folder: FileRead
    path: list[FileRead] = Field(description="From your root down to this folder's parent.")
    items: list[FileRead]
    total: int


class FilePlace(BaseModel):
    """Where a file or folder is listed: its folder and its place in the folder's listing (folders first, then by
    name), so the page that holds it is `offset // limit`."""

    folder_id: uuid.UUID
    offset: int = Field(description="How many of the folder's entries the listing shows before it.")
    total: int = Field(description="How many entries the folder holds.")


class FilePage(BaseModel):
    """A list of files and folders."""

    items: list[FileRead]
    total: int


class FolderCreate(BaseModel):
    """A new folder."""

    parent_id: uuid.UUID | None = Field(default=None, description="Where to create it; your root when null.")
    name: str = NameField


class FileUpdate(BaseModel):
    """Rename and/or move."""

    name: str | None = Field(default=None, min_length=1, max_length=1024)
    parent_id: uuid.UUID | None = Field(default=None, description="The folder to move into; unchanged when absent.")


class FileCopy(BaseModel):
    """Where a copy goes: the same folder and a free name when absent."""

    parent_id: uuid.UUID | None = None
    name: str | None = Field(default=None, min_length=1, max_length=1024)


class TrashRestore(BaseModel):
    """Restore under another name (when the old one has been taken meanwhile)."""

    name: str | None = Field(default=None, min_length=1, max_length=1024)


def json_integer(value: object) -> object:
    """A JSON integer (`5` or `5.0`, as JSON Schema has it); not `true`, not `"5"`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("use a whole number of bytes")
    if isinstance(value, float) and not value.is_integer():
        raise ValueError("use a whole number of bytes")
    return int(value)

"""Pydantic shapes of uploads: presigned upload and download URLs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field

from nubes.files.tree.schemas import NameField, json_integer


class PresignUpload(BaseModel):
    """What a presigned upload will bring: where it goes, its name, its exact size and (optionally) its sha256."""

    parent_id: uuid.UUID | None = Field(default=None, description="The folder to upload into; your root when absent.")
    target_id: uuid.UUID | None = Field(default=None, description="A file to give new content (a new version) instead.")
    name: str = NameField
    size: Annotated[int, Field(ge=0, le=1 << 40), BeforeValidator(json_integer)] = Field(
        description="The exact number of bytes that will be PUT."
    )
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$", description="Checked at finalize when given.")
    content_type: str | None = Field(default=None, max_length=255)


class PresignUploadRead(BaseModel):
    """Where and how to send the bytes; then POST /api/files/finalize with `upload_id`."""

    upload_id: uuid.UUID
    url: str
    method: str
    headers: dict[str, str]
    expires_at: datetime


class PresignFinalize(BaseModel):
    """Which presigned upload to turn into a file."""

    upload_id: uuid.UUID


class PresignDownloadRead(BaseModel):
    """A URL that downloads one file without credentials until it expires."""

    url: str
    expires_at: datetime

"""Pydantic shapes of the transfer routes: presigned URLs and a tenant's files settings."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field

from nubes.files.schemas import NameField, _json_integer


class PresignUpload(BaseModel):
    """What a presigned upload will bring: where it goes, its name, its exact size and (optionally) its sha256."""

    parent_id: uuid.UUID | None = Field(default=None, description="The folder to upload into; your root when absent.")
    target_id: uuid.UUID | None = Field(default=None, description="A file to give new content (a new version) instead.")
    name: str = NameField
    size: Annotated[int, Field(ge=0, le=1 << 40), BeforeValidator(_json_integer)] = Field(
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


class FilesSettingsRead(BaseModel):
    """A tenant's version retention, quota and use."""

    keep_versions: int = Field(description="Earlier versions kept per file; 0: no limit.")
    keep_days: int = Field(description="Days an earlier version is kept; 0: no limit.")
    quota_bytes: int | None = Field(description="The tenant's own quota; null: the server default.")
    default_quota_bytes: int | None = Field(description="The server's default tenant quota; null: none.")
    default_user_quota_bytes: int | None = Field(description="The server's default user quota; null: none.")
    used_bytes: int


class FilesSettingsUpdate(BaseModel):
    """New retention for a tenant (and, for platform administrators, its quota)."""

    keep_versions: Annotated[int, Field(ge=0, le=100_000), BeforeValidator(_json_integer)] = Field(
        description="Earlier versions kept per file; 0: no limit."
    )
    keep_days: Annotated[int, Field(ge=0, le=36_500), BeforeValidator(_json_integer)] = Field(
        description="Days an earlier version is kept; 0: no limit."
    )
    quota_bytes: Annotated[int, Field(ge=0, le=2**53), BeforeValidator(_json_integer)] | None = Field(
        default=None, description="Platform administrators only; bytes, null: the server default."
    )

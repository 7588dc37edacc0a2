"""Pydantic shapes of versions: a file's earlier versions and a tenant's files settings (retention, quota)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from nubes.files.tree.schemas import json_integer


class VersionRead(BaseModel):
    """An earlier content of a file."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    version_no: int
    size: int
    content_type: str
    sha256: str
    created_at: datetime
    created_by: uuid.UUID | None = Field(description="Who wrote this content (null when that account is gone).")


WindowsNames = Literal["allow", "refuse"]


class FilesSettingsRead(BaseModel):
    """A tenant's version retention, quota and use."""

    keep_versions: int = Field(description="Earlier versions kept per file; 0: no limit.")
    keep_days: int = Field(description="Days an earlier version is kept; 0: no limit.")
    quota_bytes: int | None = Field(description="The tenant's own quota; null: the server default.")
    default_quota_bytes: int | None = Field(description="The server's default tenant quota; null: none.")
    default_user_quota_bytes: int | None = Field(description="The server's default user quota; null: none.")
    used_bytes: int
    windows_names: WindowsNames = Field(
        description='Names a Windows computer cannot hold (`a:b`, `CON.txt`, a trailing dot): "allow", or "refuse" them on '
        "every write path (REST, WebDAV, sync clients) so every member's computer can sync every file."
    )


class FilesSettingsUpdate(BaseModel):
    """New retention for a tenant (and, for platform administrators, its quota)."""

    keep_versions: Annotated[int, Field(ge=0, le=100_000), BeforeValidator(json_integer)] = Field(
        description="Earlier versions kept per file; 0: no limit."
    )
    keep_days: Annotated[int, Field(ge=0, le=36_500), BeforeValidator(json_integer)] = Field(
        description="Days an earlier version is kept; 0: no limit."
    )
    quota_bytes: Annotated[int, Field(ge=0, le=2**53), BeforeValidator(json_integer)] | None = Field(
        default=None, description="Platform administrators only; bytes, null: the server default."
    )
    windows_names: WindowsNames | None = Field(
        default=None, description='"allow" or "refuse" names Windows cannot hold (unchanged when absent).'
    )

"""Schemas of ops/backups: backup runs (restore points), the backup settings."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

RunStatus = Literal["queued", "running", "succeeded", "failed"]
RunTrigger = Literal["manual", "schedule", "cli"]


class BackupRunRead(BaseModel):
    """One backup run: its progress while it runs, its restore point and verification once done."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    trigger: RunTrigger
    status: RunStatus
    stage: str
    progress: float
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    snapshot_id: str | None
    bytes_added: int
    total_bytes: int
    files: int
    duration_seconds: float
    verified: bool | None
    verify_detail: str
    error: str | None


class BackupRunPage(BaseModel):
    """The newest backup runs, newest first."""

    items: list[BackupRunRead]


class Retention(BaseModel):
    """How many daily, weekly and monthly restore points are kept (older ones are pruned after each backup)."""

    model_config = ConfigDict(extra="forbid")

    # Strict: `true` or "7" is a mistake to report, not a count to guess.
    keep_daily: int = Field(default=7, ge=0, le=366, strict=True)
    keep_weekly: int = Field(default=4, ge=0, le=520, strict=True)
    keep_monthly: int = Field(default=6, ge=0, le=1200, strict=True)


class BackupSettingsRead(BaseModel):
    """The backup settings in effect; the repository password is never shown, only whether it is set."""

    configured: bool
    repository: str
    password_file_set: bool
    schedule: str = Field(description="Daily time HH:MM (UTC) of the scheduled backup; empty: none.")
    retention: Retention


class BackupSettingsUpdate(BaseModel):
    """What a super-admin may change from the UI (the repository and its password stay in the server's config)."""

    model_config = ConfigDict(extra="forbid")

    schedule: str = Field(pattern=r"^(|([01][0-9]|2[0-3]):[0-5][0-9])$", max_length=5)
    retention: Retention


class RestorePointRead(BaseModel):
    """A verified backup a user may restore their own files from."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    created_at: datetime
    finished_at: datetime | None


class RestorePointPage(BaseModel):
    """The restore points, newest first."""

    items: list[RestorePointRead]


class BackedUpFileRead(BaseModel):
    """One of your files or folders as it was at a restore point."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    parent_id: uuid.UUID | None
    kind: Literal["folder", "file"]
    name: str
    size: int
    content_type: str


class BackedUpFilePage(BaseModel):
    """What one of your folders held at a restore point."""

    items: list[BackedUpFileRead]


class RestoredFromBackup(BaseModel):
    """Where the restored copy is: a folder in your trash (restore it from the trash to put it back)."""

    trashed_id: uuid.UUID

"""Pydantic shapes of locks: a lock as the REST API shows it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class LockRead(BaseModel):
    """A WebDAV write lock on a file or folder."""

    id: uuid.UUID
    node_id: uuid.UUID = Field(description="The file or folder the lock was taken on (an ancestor's, when inherited).")
    inherited: bool = Field(description="Taken on a folder above, with depth infinity.")
    locked_by: str = Field(description="The display name of the user who took it.")
    locked_by_id: uuid.UUID
    scope: Literal["exclusive", "shared"]
    depth: Literal["0", "infinity"]
    created_at: datetime
    expires_at: datetime
    can_unlock: bool = Field(description="Whether you may remove it here (you took it, or you administer the organization).")


class LockPage(BaseModel):
    """Locks, oldest first."""

    items: list[LockRead]

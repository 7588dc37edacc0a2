"""Pydantic shapes of sharing: shares with people and groups, what is shared with me."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from nubes.files.tree.schemas import FileRead

SharePermission = Literal["view", "edit", "reshare"]


class PartyRef(BaseModel):
    """A user or a group, by id and display name."""

    id: uuid.UUID
    name: str


class ShareWithUser(BaseModel):
    """Share with one user of your organization."""

    model_config = ConfigDict(extra="forbid")

    user_id: uuid.UUID
    permission: SharePermission = Field(default="view", description="view < edit < reshare; each includes the ones before it.")


class ShareWithGroup(BaseModel):
    """Share with one group of your organization (its members, as they come and go)."""

    model_config = ConfigDict(extra="forbid")

    group_id: uuid.UUID
    permission: SharePermission = Field(default="view", description="view < edit < reshare; each includes the ones before it.")


ShareCreate = ShareWithUser | ShareWithGroup


class ShareUpdate(BaseModel):
    """A new permission for a share."""

    permission: SharePermission


class ShareRead(BaseModel):
    """Who a file or folder is shared with, and how."""

    id: uuid.UUID
    node_id: uuid.UUID
    user: PartyRef | None
    group: PartyRef | None
    permission: SharePermission
    shared_by: PartyRef | None
    created_at: datetime
    active: bool = Field(
        description="False when whoever made this share no longer holds reshare on it: it gives no access until they do again."
    )


class SharedItem(BaseModel):
    """Something shared with you, directly or through a group; `permission` is the most any of those shares grants."""

    node: FileRead
    permission: SharePermission
    shared_by: PartyRef | None
    via_groups: list[PartyRef] = Field(description="The groups it reaches you through (empty when shared with you directly).")
    shared_at: datetime


class SharedWithMe(BaseModel):
    """Everything shared with you."""

    items: list[SharedItem]
    total: int

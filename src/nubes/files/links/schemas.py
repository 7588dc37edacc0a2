"""Pydantic shapes of public links: links, the tenant's link policy, what a link's visitor sees."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, StrictBool

from nubes.files.sharing.schemas import PartyRef

LinkKind = Literal["view", "edit", "upload"]


class LinkCreate(BaseModel):
    """A public link; expiry and password as the tenant's link policy allows."""

    kind: LinkKind = Field(default="view", description="view: read; edit: read and upload; upload: a drop box, upload only.")
    expires_at: datetime | None = Field(default=None, description="When it stops working; the policy's default when absent.")
    password: str | None = Field(default=None, min_length=1, max_length=200)
    max_downloads: int | None = Field(default=None, ge=1, le=1_000_000)


class LinkUpdate(BaseModel):
    """Change a link; a field left out is unchanged, `password: null` removes the password."""

    kind: LinkKind | None = None
    expires_at: datetime | None = None
    password: str | None = Field(default=None, min_length=1, max_length=200)
    max_downloads: int | None = Field(default=None, ge=1, le=1_000_000)


class LinkRead(BaseModel):
    """A public link of a file or folder."""

    id: uuid.UUID
    node_id: uuid.UUID
    kind: LinkKind
    token: str = Field(description="The secret part of the link; anyone who has it can use the link.")
    url_path: str = Field(description="Where the link opens, e.g. /s/<token>.")
    expires_at: datetime | None
    has_password: bool
    max_downloads: int | None
    download_count: int
    created_by: PartyRef | None
    created_at: datetime
    active: bool = Field(
        description="False when whoever made this link no longer holds reshare on it: it opens nothing meanwhile."
    )


class LinkPolicyRead(BaseModel):
    """The organization's rules for public links."""

    default_expiry_days: int | None = Field(description="Expiry given to a link made without one; null: none.")
    max_expiry_days: int | None = Field(description="The longest a link may live; null: no limit.")
    require_password: bool


class LinkPolicyUpdate(BaseModel):
    """New rules for public links (a default longer than the maximum is cut to the maximum)."""

    default_expiry_days: int | None = Field(default=None, ge=1, le=3650)
    max_expiry_days: int | None = Field(default=None, ge=1, le=3650)
    require_password: StrictBool = False


class PublicEntry(BaseModel):
    """One file or folder inside a shared folder, as a link's visitor sees it."""

    id: uuid.UUID
    kind: Literal["folder", "file"]
    name: str
    size: int
    content_type: str
    updated_at: datetime


class PublicLinkInfo(BaseModel):
    """What a public link opens: the item, and for a folder (view and edit links) what it holds."""

    kind: LinkKind
    node_kind: Literal["root", "folder", "file"]
    name: str
    size: int
    content_type: str
    updated_at: datetime
    expires_at: datetime | None
    downloads_left: int | None
    folder_id: uuid.UUID | None = Field(description="The folder listed (the link's folder or one below it).")
    path: list[PublicEntry] = Field(description="From the link's folder down to the listed folder's parent.")
    items: list[PublicEntry] | None = Field(description="The listed folder's content; null for files and drop boxes.")


class LinkUnlock(BaseModel):
    """The link's password."""

    password: str = Field(min_length=1, max_length=200)


class LinkUnlocked(BaseModel):
    """Proof that the password was given: sent back as the `X-Link-Access` header (browsers get a cookie too)."""

    access_token: str
    expires_in: int

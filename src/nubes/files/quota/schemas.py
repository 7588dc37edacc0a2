"""Pydantic shapes of quota: a user's storage and an admin's quota change."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field

from nubes.files.tree.schemas import json_integer


class QuotaRead(BaseModel):
    """Your storage: bytes used (current files, versions and trash) and the limits that apply."""

    used_bytes: int
    trash_bytes: int = Field(description="Of `used_bytes`: the current content of what is in your trash.")
    versions_bytes: int = Field(description="Of `used_bytes`: earlier versions of your files.")
    quota_bytes: int | None = Field(description="Your quota; null when you have none.")
    tenant_used_bytes: int
    tenant_quota_bytes: int | None
    available_bytes: int | None = Field(description="What you can still store; null when unlimited.")


class QuotaUpdate(BaseModel):
    """A user's quota; null returns them to the configured default."""

    quota_bytes: Annotated[int, Field(ge=0, le=2**53), BeforeValidator(json_integer)] | None = Field(
        description="Bytes; at most 2^53 (8 PiB), which every JSON client reads exactly."
    )

"""Pydantic shapes of the settings area and the feature flags API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Source = Literal["tenant", "install", "default"]


class FlagRead(BaseModel):
    """A feature flag, its value for the caller's tenant and where that value comes from."""

    key: str
    title: str
    description: str
    scope: Literal["install", "tenant"] = Field(description="install: platform administrators set it; tenant: tenant admins too.")
    since: str = Field(description="The Nubes version that added the flag.")
    default: bool = Field(description="Its value when nobody set it (new features are off).")
    enabled: bool = Field(description="Its value for the caller's tenant: the tenant's, else the install's, else the default.")
    source: Source
    tenant_value: bool | None = Field(description="What the tenant's admins chose (None: they did not).")
    install_value: bool | None = Field(description="What platform administrators chose for the install (shown to them only).")


class FlagList(BaseModel):
    """Every feature flag, and whether the caller may set install-wide values."""

    items: list[FlagRead]
    can_set_install: bool


class FlagChange(BaseModel):
    """Turn a flag on or off."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(strict=True)


class FlagOverride(BaseModel):
    """One tenant's own value of a flag (what a platform administrator sees across tenants)."""

    tenant_id: uuid.UUID
    tenant_name: str
    enabled: bool
    updated_at: datetime


class FlagOverrides(BaseModel):
    """The tenants that chose their own value of one flag (at most `limit`), and how many did."""

    key: str
    items: list[FlagOverride]
    total: int


class SettingsGroupRead(BaseModel):
    """One group of settings: what it holds, who may change it, and the page where it is changed."""

    key: str
    title: str
    description: str
    scope: Literal["install", "tenant"]
    page: str = Field(description="The console's path of the page that changes it.")
    permission: str = Field(description="The permission needed to open the page (superadmin: platform administrators).")
    summary: str | None = Field(default=None, description="Its current state in a few words, when the hub knows it.")


class PlatformSetting(BaseModel):
    """A platform setting stored in `system_settings` (its value is changed on its own page, never shown here)."""

    key: str
    page: str | None = Field(description="The console's path of the page that changes it, if there is one.")


class SettingsOverview(BaseModel):
    """The Settings area: the groups the caller may open, and (platform administrators) the platform settings."""

    groups: list[SettingsGroupRead]
    platform: list[PlatformSetting]

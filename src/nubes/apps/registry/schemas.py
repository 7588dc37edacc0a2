"""Pydantic shapes of the service registry's API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, model_validator

from nubes.apps.registry.manifest import ManifestSettingField, SettingKey, SettingValue

ServiceStatus = Literal["up", "down", "unknown"]


class AppServiceRegister(BaseModel):
    """Register a service by its base URL: Nubes reads `<base_url>/plugin/manifest` and refuses it when invalid."""

    model_config = ConfigDict(extra="forbid")
    base_url: Annotated[str, StringConstraints(strip_whitespace=True, min_length=8, max_length=2048)] = Field(
        examples=["http://notes.internal:8080"]
    )


class AppServiceUpdate(BaseModel):
    """Change a registered service; a field left out is unchanged."""

    model_config = ConfigDict(extra="forbid")
    enabled: StrictBool | None = Field(default=None, description="A disabled service is hidden and not proxied.")


class AppServiceRead(BaseModel):
    """A registered service as administrators see it."""

    id: uuid.UUID
    slug: str
    name: str
    description: str
    version: str
    icon: str = Field(description="Where the browser loads the icon: through the gateway, or a data: URI.")
    base_url: str
    status: ServiceStatus
    last_error: str
    last_checked_at: datetime | None
    manifest_fetched_at: datetime
    enabled: bool
    admin_group: str = Field(description="The group whose members manage its settings, in each organization.")
    created_at: datetime


class AppServiceDetail(AppServiceRead):
    """A registered service with its last good manifest."""

    manifest: dict[str, Any]


class AppServiceEntry(BaseModel):
    """A service the caller may open, with its health."""

    id: uuid.UUID
    slug: str
    name: str
    description: str
    icon: str
    status: ServiceStatus
    last_checked_at: datetime | None
    open_url: str | None = Field(description="Its user interface through the gateway; none for an API-only service.")
    open_in: Literal["nubes", "tab"]
    can_manage_settings: bool = Field(description="Whether the caller manages its settings for the organization.")


class AppServiceCheckRead(BaseModel):
    """One health check."""

    checked_at: datetime
    ok: bool
    status_code: int | None
    latency_ms: int | None
    error: str


class AppServiceCheckPage(BaseModel):
    """A page of health checks, newest first."""

    items: list[AppServiceCheckRead]
    total: int


class AppServiceSettingsRead(BaseModel):
    """The organization's settings for a service: the fields its manifest asks for and their values.

    Secrets are never returned: `secrets_set` says which are filled in.
    """

    fields: list[ManifestSettingField]
    values: dict[str, SettingValue | None]
    secrets_set: dict[str, bool]
    updated_at: datetime | None


class AppServiceSettingsUpdate(BaseModel):
    """New values, by key; a key left out is unchanged, null clears it (a secret too)."""

    model_config = ConfigDict(extra="forbid")
    values: dict[SettingKey, SettingValue | None] = Field(max_length=50)


class AppPermissionGrant(BaseModel):
    """Let a user, or a group's members, use a service (exactly one of the two)."""

    model_config = ConfigDict(extra="forbid")
    user_id: uuid.UUID | None = None
    group_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> AppPermissionGrant:
        if (self.user_id is None) == (self.group_id is None):
            raise ValueError("give either user_id or group_id")
        return self


class AppPermissionRead(BaseModel):
    """Who may use a service: a user or a group, and who granted it when."""

    id: uuid.UUID
    kind: Literal["user", "group"]
    user_id: uuid.UUID | None
    group_id: uuid.UUID | None
    name: str
    granted_by: str
    granted_at: datetime


class AppPermissionList(BaseModel):
    """Who in the organization may use a service."""

    open_to_everyone: bool = Field(
        description="True while nothing is granted and the manifest requires no group: every member with apps.use may."
    )
    required_groups: list[str]
    items: list[AppPermissionRead]

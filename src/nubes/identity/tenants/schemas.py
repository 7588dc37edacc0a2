"""Request and response bodies for tenants and the audit log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from nubes.identity.schemas import Slug


class TenantRead(BaseModel):
    """A tenant as users see it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    slug: str
    name: str
    status: str


class AuditEventRead(BaseModel):
    """One audit row."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    created_at: datetime
    tenant_id: uuid.UUID | None
    actor_id: uuid.UUID | None
    actor_name: str
    action: str
    target_type: str
    target_id: str
    outcome: str
    ip: str
    user_agent: str
    detail: dict[str, object]


class AuditPage(BaseModel):
    """One page of audit rows, newest first."""

    items: list[AuditEventRead]
    total: int


class TenantCreate(BaseModel):
    """A new tenant (organization); it gets the built-in roles."""

    name: str = Field(min_length=1, max_length=200)
    slug: Slug


class TenantUpdate(BaseModel):
    """Rename a tenant or suspend it (suspension ends its users' sessions)."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    status: Literal["active", "suspended"] | None = None


class TenantDetail(TenantRead):
    """A tenant with its size."""

    created_at: datetime
    users: int = 0

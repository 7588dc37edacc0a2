"""Request and response bodies for roles and the permission catalog."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from nubes.identity.roles import catalog


class RoleRef(BaseModel):
    """A role by id and name."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str


class PermissionRead(BaseModel):
    """One entry of the permission catalog."""

    code: str
    description: str


RoleName = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9_.-]*$")]


def _known_permission(value: str) -> str:
    if value not in catalog.CODES:
        raise ValueError("unknown permission; GET /api/admin/permissions lists them")
    return value


PermissionCode = Annotated[str, Field(json_schema_extra={"enum": sorted(catalog.CODES)}), AfterValidator(_known_permission)]


class RoleRead(BaseModel):
    """A role: its own permissions, the role it inherits, whether it is built in."""

    id: uuid.UUID
    name: str
    description: str
    parent_id: uuid.UUID | None
    builtin: bool
    permissions: list[str] = Field(description="Granted by this role itself (inherited ones not repeated).")
    effective_permissions: list[str] = Field(description="Everything holding this role grants, inherited included.")


class RoleCreate(BaseModel):
    """A custom role."""

    name: RoleName
    description: str = Field(default="", max_length=500)
    parent: RoleName | None = Field(default=None, description="Name of a role to inherit from.")
    permissions: list[PermissionCode] = Field(default_factory=list)


class RoleUpdate(BaseModel):
    """Changes to a custom role (built-in roles cannot change)."""

    description: str | None = Field(default=None, max_length=500)
    parent: RoleName | None = None
    permissions: list[PermissionCode] | None = None

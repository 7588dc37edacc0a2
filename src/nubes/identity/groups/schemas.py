"""Request and response bodies for groups."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from nubes.identity.roles.schemas import RoleName, RoleRef


class GroupRead(BaseModel):
    """A group with its roles and how many members it has."""

    id: uuid.UUID
    name: str
    description: str
    roles: list[RoleRef]
    members: int


class GroupCreate(BaseModel):
    """A new group."""

    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=500)
    roles: list[RoleName] = Field(default_factory=list)


class GroupUpdate(BaseModel):
    """Changes to a group."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    roles: list[RoleName] | None = None

"""Request and response bodies of eggs and egg categories."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from nubes.compute.schemas import Name


class EggVariableRead(BaseModel):
    """A variable a user may see (and perhaps set) when creating a container."""

    name: str
    description: str
    env_variable: str
    default_value: str
    user_editable: bool
    rules: str


class EggRead(BaseModel):
    """An egg, with the variables users see."""

    id: uuid.UUID
    name: str
    author: str
    description: str
    category_id: uuid.UUID | None
    images: list[str]
    startup: str
    variables: list[EggVariableRead]
    created_at: datetime


class EggCategoryCreate(BaseModel):
    """A new egg category."""

    name: Name
    description: str = Field(default="", max_length=500)


class EggCategoryUpdate(BaseModel):
    """Changes to an egg category."""

    name: Name | None = None
    description: str | None = Field(default=None, max_length=500)


class EggCategoryRead(BaseModel):
    """An egg category and how many eggs it holds."""

    id: uuid.UUID
    name: str
    description: str
    eggs: int


class EggUpdate(BaseModel):
    """Changes to an egg's name, author, description (written into its file too, so an export carries them) or category."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None
    author: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    category_id: uuid.UUID | None = Field(default=None, description="The category to move it to.")
    uncategorized: bool = Field(default=False, description="Take it out of its category.")

"""Pydantic pieces every compute sub-domain's bodies use."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[\w .@-]+$")]


class Read(BaseModel):
    """A response body read from a table row's attributes."""

    model_config = ConfigDict(from_attributes=True)

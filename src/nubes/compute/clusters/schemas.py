"""Request and response bodies of clusters."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from nubes.compute.schemas import Name, Read


class ClusterCreate(BaseModel):
    """A new cluster."""

    name: Name
    description: str = Field(default="", max_length=500)


class ClusterRead(Read):
    """A cluster."""

    id: uuid.UUID
    name: str
    description: str
    created_at: datetime

"""Request and response bodies of jobs."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

from nubes.compute.schemas import Read


class JobRead(Read):
    """One operation and how it ended."""

    id: uuid.UUID
    action: str
    target_type: str
    target_id: str
    container_id: uuid.UUID | None
    node_id: uuid.UUID | None
    actor_name: str
    status: str
    output: str
    error: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class JobPage(BaseModel):
    """A page of jobs."""

    items: list[JobRead]
    total: int

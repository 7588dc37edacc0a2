"""Routes of jobs: a tenant's container operations."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query

from nubes.compute.deps import ContainersRead
from nubes.compute.jobs import service
from nubes.compute.jobs.models import Job
from nubes.compute.jobs.schemas import JobPage, JobRead
from nubes.core.db import SessionDep
from nubes.core.pagination import Limit, Offset
from nubes.core.routing import api_router

router = api_router()


@router.get("/jobs", operation_id="jobs-list", response_model=JobPage, tags=["containers"], summary="Jobs")
async def list_jobs(
    session: SessionDep,
    principal: ContainersRead,
    container_id: Annotated[uuid.UUID | None, Query(description="Only this container's jobs.")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> JobPage:
    """Every operation on your tenant's containers, newest first: who, what, when, how it ended."""
    rows, total = await service.list_jobs(
        session=session, principal=principal, container_id=container_id, limit=limit, offset=offset
    )
    return JobPage(items=[JobRead.model_validate(row) for row in rows], total=total)


@router.get("/jobs/{job_id}", operation_id="jobs-get", response_model=JobRead, tags=["containers"], summary="One job")
async def get_job(job_id: uuid.UUID, session: SessionDep, principal: ContainersRead) -> JobRead:
    """A job and its output or error."""
    job: Job = await service.get_job(session=session, principal=principal, job_id=job_id)
    return JobRead.model_validate(job)

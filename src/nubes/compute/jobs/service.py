"""Rules of jobs: one queued operation on a container, its auto-restarts after a crash, and the tenant's job history."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.compute.containers.models import Container
from nubes.compute.jobs.models import Job
from nubes.core.db import utcnow
from nubes.core.errors import NotFound
from nubes.core.principal import Principal

AUTO_RESTART_ACTOR = "auto-restart"
MAX_RESTART_BACKOFF = 300


async def enqueue(*, session: AsyncSession, container: Container, action: str, principal: Principal | None) -> Job:
    """Queue `action` for the container's node, on behalf of `principal` (the system when None)."""
    job = Job(
        tenant_id=container.tenant_id,
        actor_id=principal.user_id if principal else None,
        actor_name=principal.username if principal else "system",
        action=action,
        container_id=container.id,
        target_id=str(container.id),
        node_id=container.node_id,
    )
    session.add(job)
    await session.flush()
    return job


async def drop_pending_restarts(*, session: AsyncSession, container: Container, superseded_by: str) -> None:
    """An auto-restart still waiting for its backoff gives way to what a user asked for."""
    await session.execute(
        update(Job)
        .where(Job.container_id == container.id, Job.status == "queued", Job.actor_name == AUTO_RESTART_ACTOR)
        .values(status="failed", error=f"Superseded by a {superseded_by} asked for meanwhile.", finished_at=utcnow())
    )


async def after_crash(*, session: AsyncSession, container: Container, reason: str) -> None:
    """A crash under an `on-crash` policy queues a start after the backoff; past the retries the container stays crashed."""
    container.state = "crashed"
    container.state_reason = reason[:500]
    if container.restart_policy != "on-crash" or container.desired_state != "running":
        return
    window = timedelta(seconds=container.restart_window_seconds)
    restarts = int(
        await session.scalar(
            select(func.count())
            .select_from(Job)
            .where(
                Job.container_id == container.id,
                Job.actor_name == AUTO_RESTART_ACTOR,
                Job.created_at >= utcnow() - window,
                Job.error.not_like("Superseded%"),
            )
        )
        or 0
    )
    if restarts >= container.restart_max_retries:
        container.desired_state = "stopped"  # or a reconnect's reconciliation would start it again
        container.state_reason = (
            f"Crashed {restarts + 1} times within {container.restart_window_seconds} s; auto-restart gave up after "
            f"{restarts} restarts. Last: {reason}"
        )[:500]
        return
    delay = min(container.restart_backoff_seconds * 2**restarts, MAX_RESTART_BACKOFF)
    session.add(
        Job(
            tenant_id=container.tenant_id,
            actor_name=AUTO_RESTART_ACTOR,
            action="start",
            container_id=container.id,
            target_id=str(container.id),
            node_id=container.node_id,
            not_before=utcnow() + timedelta(seconds=delay),
            output=f"Restart {restarts + 1} of at most {container.restart_max_retries} after a crash: {reason}"[:4000],
        )
    )
    container.state_reason = f"{reason}; restarting in {delay} s ({restarts + 1} of {container.restart_max_retries})"[:500]
    await session.flush()


async def next_due(*, session: AsyncSession, node_id: uuid.UUID) -> float | None:
    """Seconds until the node's next delayed job may be sent (None when none waits)."""
    due = await session.scalar(
        select(func.min(Job.not_before)).where(Job.node_id == node_id, Job.status == "queued", Job.not_before.is_not(None))
    )
    if due is None:
        return None
    return max((due - utcnow()).total_seconds(), 0.0)


async def queue_depth(*, session: AsyncSession) -> tuple[int, datetime | None]:
    """How many jobs of the whole install wait to be sent, and when the oldest was queued (for ops/metrics)."""
    count, oldest = (await session.execute(select(func.count(), func.min(Job.created_at)).where(Job.status == "queued"))).one()
    return int(count), oldest


async def restarts_between(
    *, session: AsyncSession, start: datetime, end: datetime
) -> list[tuple[uuid.UUID, uuid.UUID | None, uuid.UUID, int]]:
    """Auto-restarts queued in [start, end) per container: (container, node, tenant, count), for ops/metrics."""
    rows = await session.execute(
        select(Job.container_id, Job.node_id, Job.tenant_id, func.count())
        .where(
            Job.actor_name == AUTO_RESTART_ACTOR,
            Job.created_at >= start,
            Job.created_at < end,
            Job.container_id.is_not(None),
        )
        .group_by(Job.container_id, Job.node_id, Job.tenant_id)
    )
    return [(container, node, tenant, int(count)) for container, node, tenant, count in rows if container is not None]


async def list_jobs(
    *, session: AsyncSession, principal: Principal, container_id: uuid.UUID | None, limit: int, offset: int
) -> tuple[list[Job], int]:
    """The tenant's jobs, newest first, optionally of one container."""
    query = select(Job).where(Job.tenant_id == principal.tenant_id)
    if container_id is not None:
        query = query.where(Job.target_id == str(container_id))
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(query.order_by(Job.created_at.desc(), Job.id).limit(limit).offset(offset))
    return list(rows), int(total or 0)


async def get_job(*, session: AsyncSession, principal: Principal, job_id: uuid.UUID) -> Job:
    """A job of the tenant, or 404."""
    job = await session.scalar(select(Job).where(Job.id == job_id, Job.tenant_id == principal.tenant_id))
    if job is None:
        raise NotFound("No such job.")
    return job

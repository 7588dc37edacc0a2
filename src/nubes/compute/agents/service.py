"""The agent's side of compute: jobs out as commands, results, events and observed state in."""

from __future__ import annotations

import uuid

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.compute.agents import protocol
from nubes.compute.containers.models import Container
from nubes.compute.eggs import ptdl
from nubes.compute.eggs import service as eggs_service
from nubes.compute.jobs import service as jobs_service
from nubes.compute.jobs.models import Job
from nubes.compute.nodes import service as nodes_service
from nubes.compute.nodes.models import Allocation
from nubes.core.db import utcnow

STOP_TIMEOUT_SECONDS = 30.0


async def container_spec(*, session: AsyncSession, container: Container) -> protocol.ContainerSpec:
    """What the agent needs to create `container`."""
    egg = await eggs_service.get_egg(session=session, egg_id=container.egg_id)  # RESTRICT keeps it while containers use it
    document = ptdl.read_stored(egg.document)
    ports = (await nodes_service.ports_of(session=session, container_ids=[container.id]))[container.id]
    builtins = {"SERVER_MEMORY": str(container.memory_mb)}
    if ports:
        builtins |= {"SERVER_IP": ports[0][0], "SERVER_PORT": str(ports[0][1])}
    return protocol.ContainerSpec(
        container_id=container.id,
        name=container.name,
        image=container.image,
        startup=container.startup,
        # A container made from an egg stored before reserved names were refused may hold one: it never reaches the agent.
        environment={
            **{name: value for name, value in container.environment.items() if not ptdl.is_reserved(name)},
            **builtins,
            "STARTUP": container.startup,
        },
        cpu=container.cpu,
        memory_mb=container.memory_mb,
        disk_mb=container.disk_mb,
        pids=container.pids,
        ports=[protocol.Port(ip=ip, port=port) for ip, port in ports],
        install=document.install_spec(),
        stop=document.stop_spec(STOP_TIMEOUT_SECONDS),
    )


async def commands_for_node(*, session: AsyncSession, node_id: uuid.UUID, include_sent: bool) -> list[protocol.Command]:
    """The node's unfinished jobs as commands, oldest first (sent ones too after a reconnect), marked `sent`."""
    statuses = ("queued", "sent") if include_sent else ("queued",)
    jobs = list(
        await session.scalars(
            select(Job)
            .where(
                Job.node_id == node_id,
                Job.status.in_(statuses),
                or_(Job.not_before.is_(None), Job.not_before <= utcnow()),
            )
            .order_by(Job.created_at, Job.id)
        )
    )
    commands = []
    for job in jobs:
        container = await session.get(Container, job.container_id) if job.container_id else None
        if container is None:
            job.status, job.error, job.finished_at = "failed", "The container no longer exists.", utcnow()
            continue
        needs_spec = job.action != "delete"
        spec = await container_spec(session=session, container=container) if needs_spec else None
        commands.append(protocol.Command(idempotency_key=str(job.id), action=job.action, container_id=container.id, spec=spec))
        job.status = "sent"
        job.attempts += 1
        job.started_at = job.started_at or utcnow()
    await session.flush()
    return commands


_AFTER_SUCCESS = {"create": "stopped", "start": "running", "restart": "running", "stop": "stopped", "kill": "stopped"}


async def apply_result(*, session: AsyncSession, node_id: uuid.UUID, result: protocol.CommandResult) -> list[protocol.Command]:
    """Record how a job ended and move its container's state; returns follow-up commands (start after install)."""
    try:
        job_id = uuid.UUID(result.idempotency_key)
    except ValueError:
        return []
    job = await session.scalar(select(Job).where(Job.id == job_id, Job.node_id == node_id))
    if job is None or job.status in {"succeeded", "failed"}:
        return []  # another node's job, or a result already recorded (a re-sent command answered twice)
    job.status = "succeeded" if result.ok else "failed"
    job.output = "\n".join(part for part in (job.output, result.output) if part)[-65_536:]  # kept: why it was queued
    job.error = result.error[:4000]
    job.finished_at = utcnow()
    container = await session.get(Container, job.container_id) if job.container_id else None
    if container is None or container.node_id != node_id:
        await session.flush()
        return []
    follow_up: list[protocol.Command] = []
    if job.action == "delete":
        if result.ok:
            await session.execute(update(Allocation).where(Allocation.container_id == container.id).values(container_id=None))
            job.container_id = None
            await session.flush()
            await session.delete(container)
        else:
            container.state, container.state_reason = "stopped", f"Delete failed: {result.error}"[:500]
        await session.flush()
        return []
    if result.ok:
        # What the agent saw after the action wins over what the action should have done (it may have crashed at once).
        observed = result.state if result.state in {"running", "stopped", "crashed"} else None
        container.state = _observed_to_state(observed) if observed else _AFTER_SUCCESS[job.action]
        container.state_reason = ""
        if observed == "crashed":
            await jobs_service.after_crash(session=session, container=container, reason="exited right after starting")
        if job.action == "create" and container.desired_state == "running":
            start = await jobs_service.enqueue(session=session, container=container, action="start", principal=None)
            container.state = "starting"
            follow_up = await commands_for_node(session=session, node_id=node_id, include_sent=False)
            del start
    elif job.action == "create":
        container.state, container.state_reason = "install_failed", result.error[:500]
    else:
        container.state = _observed_to_state(result.state) if result.state else container.state
        container.state_reason = result.error[:500]
    await session.flush()
    return follow_up


def _observed_to_state(observed: str | None) -> str:
    return {"running": "running", "stopped": "stopped", "crashed": "crashed"}.get(observed or "", "stopped")


async def apply_event(*, session: AsyncSession, node_id: uuid.UUID, event: protocol.Event) -> None:
    """A container changed on its own; ignored while a job of it is still under way, or if it is not this node's."""
    container = await session.scalar(select(Container).where(Container.id == event.container_id, Container.node_id == node_id))
    if container is None or container.state in {"installing", "deleting"}:
        return
    busy = await session.scalar(
        select(Job.id).where(Job.container_id == container.id, Job.status.in_(("queued", "sent"))).limit(1)
    )
    if busy is not None:
        return
    container.state = _observed_to_state(event.state)
    container.state_reason = event.reason[:500]
    if event.state == "crashed":
        await jobs_service.after_crash(session=session, container=container, reason=event.reason or "crashed")
    if event.enforced:
        container.desired_state = "stopped"  # or the reconciler would start it again
    await session.flush()


async def reconcile(
    *, session: AsyncSession, node_id: uuid.UUID, observed: list[protocol.ObservedContainer]
) -> list[protocol.Command]:
    """Compare what the node runs with what the database wants; queue jobs to close the gap.

    Containers the node runs that the database does not know (deleted while the agent was away)
    are removed; containers the database expects that the node lacks are marked failed.
    Returns the commands to send (the jobs left from before included).
    """
    seen = {item.container_id: item for item in observed}
    containers = list(await session.scalars(select(Container).where(Container.node_id == node_id)))
    known = {container.id for container in containers}
    busy = set(
        await session.scalars(
            select(Job.container_id).where(
                Job.node_id == node_id, Job.status.in_(("queued", "sent")), Job.container_id.is_not(None)
            )
        )
    )
    for container in containers:
        if container.id in busy:
            continue
        item = seen.get(container.id)
        if item is None or item.state == "missing":
            if container.state not in {"install_failed"}:
                container.state = "install_failed"
                container.state_reason = "The container is missing on its node; delete it and create it again."
            continue
        container.state = _observed_to_state(item.state)
        if container.desired_state == "running" and item.state != "running":
            await jobs_service.enqueue(session=session, container=container, action="start", principal=None)
            container.state = "starting"
        elif container.desired_state == "stopped" and item.state == "running":
            await jobs_service.enqueue(session=session, container=container, action="stop", principal=None)
            container.state = "stopping"
    await session.flush()
    commands = await commands_for_node(session=session, node_id=node_id, include_sent=True)
    for container_id in seen.keys() - known:
        commands.append(protocol.Command(idempotency_key=f"orphan:{container_id}", action="delete", container_id=container_id))
    return commands


async def node_owns_container(*, session: AsyncSession, node_id: uuid.UUID, container_id: uuid.UUID) -> bool:
    """Whether a container is placed on this node (a node acts for its own containers only)."""
    return (
        await session.scalar(select(Container.id).where(Container.id == container_id, Container.node_id == node_id)) is not None
    )

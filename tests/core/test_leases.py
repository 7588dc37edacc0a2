"""Leases: a chore runs on one replica of the install at a time, and another takes over when its holder stops."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update

from nubes.core.db import Database, utcnow
from nubes.core.leases import Lease, hold, once_per_install, release


@pytest.fixture
async def lease_name(database: Database) -> AsyncIterator[str]:
    """A lease of this test's own, in the real (committing) database; removed after."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    yield name
    async with database.writer_sessions() as session:
        await session.execute(delete(Lease).where(Lease.name == name))
        await session.commit()


async def test_one_holder_at_a_time_until_it_stops_renewing(database: Database, lease_name: str) -> None:
    sessions = database.writer_sessions
    assert await hold(sessions, name=lease_name, seconds=60, holder="replica-a")
    assert not await hold(sessions, name=lease_name, seconds=60, holder="replica-b")
    assert await hold(sessions, name=lease_name, seconds=60, holder="replica-a")  # a renewal

    async with sessions() as session:  # replica A died: its lease runs out
        await session.execute(update(Lease).where(Lease.name == lease_name).values(expires_at=utcnow() - timedelta(seconds=1)))
        await session.commit()
    assert await hold(sessions, name=lease_name, seconds=60, holder="replica-b")
    assert not await hold(sessions, name=lease_name, seconds=60, holder="replica-a")  # back, but B holds it now

    await release(sessions, name=lease_name, holder="replica-b")
    assert await hold(sessions, name=lease_name, seconds=60, holder="replica-a")  # no wait after a release


async def test_replicas_racing_for_a_free_lease_get_it_once(database: Database, lease_name: str) -> None:
    sessions = database.writer_sessions
    won = await asyncio.gather(*(hold(sessions, name=lease_name, seconds=60, holder=f"replica-{n}") for n in range(6)))
    assert won.count(True) == 1
    async with sessions() as session:
        holder = await session.scalar(select(Lease.holder).where(Lease.name == lease_name))
    assert holder == f"replica-{won.index(True)}"


async def test_a_chore_runs_on_the_holder_only(database: Database, lease_name: str) -> None:
    ran: list[str] = []

    def replica(name: str) -> Callable[[], Awaitable[bool]]:
        async def chore() -> None:
            ran.append(name)

        return once_per_install(database.writer_sessions, lease_name, chore, lease=60, holder=name)

    first, second = replica("replica-a"), replica("replica-b")
    for _ in range(3):
        assert await first() is True
        assert await second() is False
    assert ran == ["replica-a"] * 3

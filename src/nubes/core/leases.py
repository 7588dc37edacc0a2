"""Leases: work that must run once per install, however many replicas run, held in the database they share.

A periodic chore (a sweep of expired uploads and old versions) must not run on every replica at once. Each round,
a replica asks for the chore's lease: it gets it when nobody holds it, when it already holds it (a renewal), or when
the holder's lease has run out (the holder died or stalled). One conditional UPDATE (or the INSERT of the first
holder) decides, in its own transaction, on SQLite and PostgreSQL alike:

    round_ = once_per_install(sessions, "files-sweep", sweep_round, lease=700)
    every("nubes-files-sweep", 300, round_)

The lease should outlive two rounds, so the holder keeps it while it lives and another replica takes over within
one lease after it stops.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import structlog
from sqlalchemy import String, insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from nubes.core.db import Base, utcnow

log = structlog.get_logger("nubes.leases")

HOLDER = f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"
"""This process, as lease holders are named (host, pid, and a nonce: a restarted process is another holder)."""

REPLICA = hashlib.sha256(HOLDER.encode()).hexdigest()[:12]
"""This process's public name (GET /api/version): it tells replicas apart without showing host names; the log of
`server.starting` pairs it with `HOLDER`."""


class Lease(Base):
    """Who holds the right to run one chore of the install, until when."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime]


async def hold(sessions: async_sessionmaker[AsyncSession], *, name: str, seconds: float, holder: str = HOLDER) -> bool:
    """Take or renew the lease `name` for `seconds`; whether `holder` has it now."""
    now = utcnow()
    until = now + timedelta(seconds=seconds)
    async with sessions() as session:
        renewed = await session.execute(
            update(Lease)
            .where(Lease.name == name, or_(Lease.holder == holder, Lease.expires_at <= now))
            .values(holder=holder, expires_at=until)
        )
        if getattr(renewed, "rowcount", 0):
            await session.commit()
            return True
        try:
            await session.execute(insert(Lease).values(name=name, holder=holder, expires_at=until))
            await session.commit()
        except IntegrityError:  # held by a live replica
            await session.rollback()
            return False
        return True


async def release(sessions: async_sessionmaker[AsyncSession], *, name: str, holder: str = HOLDER) -> None:
    """Give the lease up (at shutdown), so another replica need not wait for it to run out."""
    async with sessions() as session:
        await session.execute(update(Lease).where(Lease.name == name, Lease.holder == holder).values(expires_at=utcnow()))
        await session.commit()


def once_per_install(
    sessions: async_sessionmaker[AsyncSession],
    name: str,
    round_: Callable[[], Awaitable[object]],
    *,
    lease: float,
    holder: str = HOLDER,
) -> Callable[[], Awaitable[bool]]:
    """`round_`, run only by the replica holding the lease `name` (taken or renewed for `lease` seconds each round).

    The returned round answers whether it ran.
    """

    async def guarded() -> bool:
        if not await hold(sessions, name=name, seconds=lease, holder=holder):
            log.debug("leases.held_elsewhere", lease=name)
            return False
        await round_()
        return True

    return guarded

"""The Nextcloud layer's share of the files sweep: stale chunked transfers and expired login flows."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nubes.core.storage import Storage
from nubes.files.nextcloud import chunking, service


async def sweep(sessions: async_sessionmaker[AsyncSession], storage: Storage) -> None:
    """Abort transfers idle for 24 hours (their chunk objects too) and delete expired login flows."""
    async with sessions() as session:
        await chunking.sweep(session=session, storage=storage)
        await service.sweep_login_flows(session=session)
        await session.commit()

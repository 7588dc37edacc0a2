"""Blobs follow their transaction: a written blob goes if it rolls back, a freed one only once the outermost one commits."""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession

from nubes.core import jobs
from nubes.core.storage import Storage
from nubes.files.tree import service
from tests.files.conftest import blob_keys

OLD = "0123456789abcdef0123456789abcdef"
NEW = "fedcba9876543210fedcba9876543210"


async def _bytes() -> AsyncIterator[bytes]:
    yield b"content"


async def test_a_released_savepoint_does_not_free_blobs_before_the_outer_commit(session: AsyncSession, storage: Storage) -> None:
    """GIVEN a transaction that frees a blob WHEN a savepoint inside it is released THEN the blob stays until the commit."""
    await storage.put(OLD, _bytes())
    await session.connection()
    service.free_blobs(session=session, storage=storage, keys=[OLD])
    async with session.begin_nested():  # as `_place` does for every new node
        pass
    await jobs.wait_for_after_commit()
    assert await blob_keys(storage) == {OLD}
    await session.commit()
    await jobs.wait_for_after_commit()
    assert await blob_keys(storage) == set()


async def test_a_rollback_after_a_released_savepoint_deletes_the_written_blob(session: AsyncSession, storage: Storage) -> None:
    """GIVEN a blob written for a transaction and a savepoint released after it WHEN the transaction rolls back
    THEN the blob is deleted, and a blob freed in it is kept."""
    await storage.put(OLD, _bytes())
    await storage.put(NEW, _bytes())
    await session.connection()
    service.own_blob(session=session, storage=storage, key=NEW)
    service.free_blobs(session=session, storage=storage, keys=[OLD])
    async with session.begin_nested():
        pass
    await session.rollback()
    await jobs.wait_for_after_commit()
    assert await blob_keys(storage) == {OLD}


async def test_a_blob_written_in_a_savepoint_that_rolls_back_is_deleted(session: AsyncSession, storage: Storage) -> None:
    await storage.put(NEW, _bytes())
    await session.connection()
    nested = await session.begin_nested()
    service.own_blob(session=session, storage=storage, key=NEW)
    await nested.rollback()
    await jobs.wait_for_after_commit()
    assert await blob_keys(storage) == set()

"""`after_commit` runs work exactly when a transaction commits; `Worker` is the durable loop's base."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nubes.core.jobs import Worker, after_commit, after_rollback, backoff, wait_for_after_commit


async def test_runs_once_when_the_transaction_commits(sessions: async_sessionmaker[AsyncSession]) -> None:
    ran: list[str] = []
    async with sessions() as session:
        await session.execute(text("SELECT 1"))
        after_commit(session, lambda: ran.append("a"))
        assert ran == []
        await session.commit()
        assert ran == ["a"]
        await session.execute(text("SELECT 1"))
        await session.commit()
    assert ran == ["a"]


async def test_never_runs_when_the_transaction_rolls_back(sessions: async_sessionmaker[AsyncSession]) -> None:
    ran: list[str] = []
    async with sessions() as session:
        await session.execute(text("SELECT 1"))
        after_commit(session, lambda: ran.append("rolled back"))
        await session.rollback()
        await session.execute(text("SELECT 1"))
        await session.commit()
    assert ran == []


async def test_a_session_closed_without_commit_forgets_its_callbacks(sessions: async_sessionmaker[AsyncSession]) -> None:
    ran: list[str] = []
    session = sessions()
    await session.execute(text("SELECT 1"))
    after_commit(session, lambda: ran.append("closed"))
    await session.close()
    await session.execute(text("SELECT 1"))
    await session.commit()
    await session.close()
    assert ran == []


async def test_registered_before_the_transaction_begins(sessions: async_sessionmaker[AsyncSession]) -> None:
    ran: list[str] = []
    async with sessions() as session:
        after_commit(session, lambda: ran.append("early"))
        await session.execute(text("SELECT 1"))
        await session.commit()
    assert ran == ["early"]


async def test_savepoints_wait_for_the_outer_commit_and_drop_what_they_rolled_back(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    ran: list[str] = []
    async with sessions() as session:
        await session.execute(text("SELECT 1"))
        after_commit(session, lambda: ran.append("outer"))
        async with session.begin_nested():
            after_commit(session, lambda: ran.append("kept savepoint"))
        assert ran == []  # releasing a savepoint is no commit

        async def fail_in_a_savepoint() -> None:
            async with session.begin_nested():
                after_commit(session, lambda: ran.append("rolled back savepoint"))
                raise RuntimeError

        with pytest.raises(RuntimeError):
            await fail_in_a_savepoint()
        await session.commit()
    assert ran == ["outer", "kept savepoint"]


async def test_coroutines_run_as_tasks_and_errors_do_not_undo_the_commit(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    ran: list[str] = []

    async def later() -> None:
        await asyncio.sleep(0)
        ran.append("coroutine")

    def broken() -> None:
        raise ValueError("boom")

    async def broken_later() -> None:
        raise ValueError("boom")

    async with sessions() as session:
        await session.execute(text("SELECT 1"))
        after_commit(session, broken)
        after_commit(session, later)
        after_commit(session, broken_later)
        after_commit(session, lambda: ran.append("plain"))
        await session.commit()
    await wait_for_after_commit()
    assert ran == ["plain", "coroutine"]


async def test_after_rollback_runs_for_what_did_not_commit(sessions: async_sessionmaker[AsyncSession]) -> None:
    ran: list[str] = []
    async with sessions() as session:
        await session.execute(text("SELECT 1"))
        after_rollback(session, lambda: ran.append("committed"))
        await session.commit()
        assert ran == []

        await session.execute(text("SELECT 1"))
        after_rollback(session, lambda: ran.append("outer"))
        async with session.begin_nested():
            after_rollback(session, lambda: ran.append("released savepoint"))

        async def fail_in_a_savepoint() -> None:
            async with session.begin_nested():
                after_rollback(session, lambda: ran.append("rolled back savepoint"))
                raise RuntimeError

        with pytest.raises(RuntimeError):
            await fail_in_a_savepoint()
        assert ran == ["rolled back savepoint"]
        await session.rollback()
        assert ran == ["rolled back savepoint", "outer", "released savepoint"]

        await session.execute(text("SELECT 1"))
        after_rollback(session, lambda: ran.append("closed"))
    assert ran[-1] == "closed"


def test_backoff_doubles_up_to_a_cap() -> None:
    assert [backoff(n).total_seconds() for n in range(3)] == [30, 60, 120]
    assert backoff(20).total_seconds() == 3600


class Queue(Worker):
    """A worker over an in-memory queue, failing on demand."""

    name = "test-queue"
    log_prefix = "test"
    interval = 60.0
    max_error_pause = 0.05
    stop_grace = 0.2

    def __init__(self) -> None:
        super().__init__()
        self.items: list[str] = []
        self.done: list[str] = []
        self.failures = 0
        self.hold: asyncio.Event | None = None
        self.rounds = asyncio.Event()

    async def run_due(self) -> int:
        self.rounds.set()
        if self.failures:
            self.failures -= 1
            raise ConnectionError("database away")
        if self.hold is not None:
            await self.hold.wait()
        if not self.items:
            return 0
        self.done.append(self.items.pop(0))
        return 1


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(2):
        while not condition():  # noqa: ASYNC110 - a plain condition of the test, polled
            await asyncio.sleep(0.005)


async def test_a_woken_worker_drains_its_queue_and_retries_after_errors() -> None:
    worker = Queue()
    worker.start()
    try:
        worker.items += ["a", "b", "c"]
        worker.wake()
        await _until(lambda: worker.done == ["a", "b", "c"])
        worker.failures = 2
        worker.items.append("d")
        worker.wake()
        await _until(lambda: worker.done == ["a", "b", "c", "d"])
    finally:
        await worker.stop()


async def test_stop_lets_the_round_in_hand_finish() -> None:
    worker = Queue()
    worker.hold = asyncio.Event()
    worker.items.append("in hand")
    worker.start()
    worker.wake()
    await _until(worker.rounds.is_set)
    stopping = asyncio.create_task(worker.stop())
    await asyncio.sleep(0.01)
    worker.hold.set()
    await stopping
    assert worker.done == ["in hand"]


async def test_stop_cancels_a_round_that_outlasts_the_grace() -> None:
    worker = Queue()
    worker.hold = asyncio.Event()  # never set: the round hangs
    worker.items.append("stuck")
    worker.start()
    worker.wake()
    await _until(worker.rounds.is_set)
    async with asyncio.timeout(2):
        await worker.stop()
    assert worker.done == []


async def test_a_request_that_queues_mail_wakes_the_sender_once_committed(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    wakes: list[str] = []
    monkeypatch.setattr(app.state.mail, "wake", lambda: wakes.append("woken"))
    response = await client.post("/api/auth/password-reset/request", json={"email": "nobody@example.org"})
    assert response.status_code == 202, response.text
    assert wakes == ["woken"]

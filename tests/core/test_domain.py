"""The manifest's background pieces: a periodic loop keeps going after a failed round and can run a last one."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import FastAPI

from nubes.core.domain import Domain, every


async def test_a_periodic_loop_survives_a_failed_round_and_runs_a_last_one_at_shutdown() -> None:
    rounds: list[int] = []
    three_rounds = asyncio.Event()

    async def round_() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 3:
            three_rounds.set()
        if len(rounds) == 1:
            raise RuntimeError("the database is away for a moment")

    loop = every("test-loop", 0.01, round_, last_round=True)
    task = asyncio.create_task(loop.run(), name=loop.name)
    await asyncio.wait_for(three_rounds.wait(), 10)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    ran = len(rounds)
    assert ran >= 4  # a failed first round, more rounds, and the last one at shutdown
    await asyncio.sleep(0.05)
    assert len(rounds) == ran  # and nothing after


def test_a_domain_without_api_or_tasks_brings_nothing_to_run() -> None:
    planned = Domain(name="widgets", title="Widgets")
    assert planned.routers() == []
    background = planned.install(FastAPI())
    assert background.workers == []
    assert background.loops == []

"""The console's limits: input per user and container (with a clock the test moves), output held for a slow browser."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from nubes.agent.runner import batched
from nubes.compute.agents.console import InputLimiter
from nubes.compute.agents.gateway import FRAME_LINES, ConsoleFeed
from nubes.compute.agents.protocol import ConsoleStats


def test_lines_beyond_the_burst_are_dropped_until_the_budget_refills() -> None:
    limiter = InputLimiter(lines_per_second=10, lines_burst=20, bytes_per_second=8192, bytes_burst=16384)
    user, container, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    allowed = [limiter.allow(user, container, 10, now=100.0) for _ in range(25)]
    assert allowed.count(True) == 20
    assert allowed[20:] == [False] * 5
    assert limiter.allow(user, other, 10, now=100.0), "another container has its own budget"
    assert limiter.allow(uuid.uuid4(), container, 10, now=100.0), "another user too"
    assert not limiter.allow(user, container, 10, now=100.05)
    assert limiter.allow(user, container, 10, now=100.2), "a fifth of a second gives lines back"
    assert [limiter.allow(user, container, 10, now=105.0) for _ in range(21)].count(True) == 20


def test_bytes_are_limited_too_and_notices_come_once_a_second() -> None:
    limiter = InputLimiter(lines_per_second=1000, lines_burst=1000, bytes_per_second=1000, bytes_burst=4000)
    user, container = uuid.uuid4(), uuid.uuid4()
    assert limiter.allow(user, container, 3999, now=0.0)
    assert not limiter.allow(user, container, 100, now=0.0)
    assert limiter.allow(user, container, 98, now=0.1), "0.1 s refills about 100 bytes: a 98-byte line and its newline"
    assert limiter.should_notice(user, container, now=5.0)
    assert not limiter.should_notice(user, container, now=5.5)
    assert limiter.should_notice(user, container, now=6.1)


async def _chunks(count: int, fail: bool = False) -> AsyncIterator[list[str]]:
    for number in range(count):
        yield [f"line {number}"]
    if fail:
        raise OSError("docker went away")


async def test_console_lines_are_batched_in_order_and_errors_come_after_them() -> None:
    batches = [batch async for batch in batched(_chunks(5000))]
    assert [line for batch in batches for line in batch] == [f"line {number}" for number in range(5000)]
    assert len(batches) < 100, "many small chunks travel as few messages"
    assert max(len(batch) for batch in batches) <= 2000 + 1
    seen: list[str] = []

    async def drain() -> None:
        async for batch in batched(_chunks(10, fail=True)):
            seen.extend(batch)

    with pytest.raises(OSError, match="docker went away"):
        await drain()
    assert seen == [f"line {number}" for number in range(10)]


async def test_a_slow_browser_loses_the_oldest_output_and_is_told_how_many_lines() -> None:
    """GIVEN a console feed bounded at 100 characters WHEN 300 characters of output come before the browser reads
    THEN the newest lines stay, in order, and the first read says how many lines went."""
    feed = ConsoleFeed(limit=100)
    stats = ConsoleStats(
        stream_id=uuid.uuid4(),
        cpu_percent=1.0,
        memory_bytes=1,
        memory_limit_bytes=2,
        network_rx_bytes=0,
        network_tx_bytes=0,
        disk_bytes=0,
    )
    for number in range(30):
        feed.offer([f"line {number:04}"])  # 9 characters each: 270 in all
    assert feed.chars <= 100
    feed.offer(stats)
    feed.offer(["after the figures"])
    feed.offer(None)
    dropped, lines = await feed.next()
    assert isinstance(lines, list)
    assert dropped > 0
    assert dropped + len(lines) == 30
    assert lines == [f"line {number:04}" for number in range(dropped, 30)], "the rest, joined into one frame, in order"
    assert await feed.next() == (0, stats)
    assert await feed.next() == (0, ["after the figures"])
    assert await feed.next() == (0, None)
    assert (feed.chars, feed.lines) == (0, 0)
    by_lines = ConsoleFeed(line_limit=10)  # many short lines cost memory beyond their characters
    for number in range(25):
        by_lines.offer([f"{number}"])
    assert await by_lines.next() == (15, [f"{number}" for number in range(15, 25)])


async def test_output_is_joined_into_frames_of_bounded_size() -> None:
    feed = ConsoleFeed()
    for number in range(FRAME_LINES + 10):
        feed.offer([f"{number}"])
    first = await feed.next()
    second = await feed.next()
    assert (first[0], second[0]) == (0, 0)
    assert first[1] == [f"{number}" for number in range(FRAME_LINES)]
    assert second[1] == [f"{number}" for number in range(FRAME_LINES, FRAME_LINES + 10)]
    waiting = asyncio.create_task(feed.next())
    await asyncio.sleep(0.01)
    assert not waiting.done(), "nothing queued: the browser's pump waits"
    feed.offer(["wake"])
    assert await asyncio.wait_for(waiting, 5) == (0, ["wake"])

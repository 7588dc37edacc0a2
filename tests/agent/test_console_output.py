"""A container's output on the agent: Docker's log stream cut into lines, batched, and queued for the server in bounds."""

from __future__ import annotations

import asyncio
import struct
import uuid
from collections.abc import AsyncIterator

import pytest

from nubes.agent.docker import MAX_OUTPUT_LINE, OutputLines
from nubes.agent.runner import BATCH_BACKLOG, BATCH_BACKLOG_LINES, BATCH_CHARS, BATCH_LINES, LineBuffer, Outbox, batched
from nubes.compute.agents import protocol
from nubes.compute.agents.gateway import MAX_FRAME_BYTES


def _frame(payload: bytes, stream: int = 1) -> bytes:
    return struct.pack(">BxxxL", stream, len(payload)) + payload


def _fed(lines: OutputLines, data: bytes, piece: int) -> list[str]:
    out: list[str] = []
    for start in range(0, len(data), piece):
        out += lines.feed(data[start : start + piece])
    return out + lines.end()


@pytest.mark.parametrize("piece", [1, 3, 7, 64, 100_000])
def test_frames_characters_and_lines_may_straddle_the_pieces_a_socket_gives(piece: int) -> None:
    # Docker's frames (stdout 1, stderr 2), each a line or part of one; "é" and "✓" are several bytes in UTF-8.
    stream = (
        _frame(b"first line\n")
        + _frame(b"an error: caf\xc3\xa9\n", stream=2)
        + _frame(b"a line in ")
        + _frame(b"two frames \xe2\x9c")
        + _frame(b"\x93\nthree\nlines\nat once\n")
        + _frame(b"")
        + _frame(b"no newline at the end")
    )
    assert _fed(OutputLines(multiplexed=True), stream, piece) == [
        "first line",
        "an error: café",
        "a line in two frames ✓",
        "three",
        "lines",
        "at once",
        "no newline at the end",
    ]


def test_a_tty_stream_has_no_frames_and_bad_bytes_become_replacement_characters() -> None:
    assert _fed(OutputLines(multiplexed=False), b"plain \xff bytes\r\nand more\n", 5) == ["plain \ufffd bytes\r", "and more"]
    assert _fed(OutputLines(multiplexed=True), _frame(b"cut \xe2\x9c"), 2) == ["cut \ufffd"]


def test_lines_longer_than_the_limit_are_cut_and_nothing_grows_without_a_newline() -> None:
    lines = OutputLines(multiplexed=True, max_line=10)
    assert lines.feed(_frame(b"0123456789abcdefghij0123")) == ["0123456789", "abcdefghij"]
    assert lines.pending == "0123", "what is held is less than a line's limit"
    assert lines.feed(_frame(b"45\nshort\n" + b"x" * 25 + b"\n")) == ["012345", "short", "x" * 10, "x" * 10, "x" * 5]
    assert MAX_OUTPUT_LINE < BATCH_CHARS, "a batch always has room for one line"


async def _chunks(*chunks: list[str]) -> AsyncIterator[list[str]]:
    for chunk in chunks:
        yield chunk
        await asyncio.sleep(0)


async def test_batches_stay_within_their_line_and_character_bounds_in_order() -> None:
    wide = ["y" * 1000 for _ in range(400)]  # 400,000 characters in one read
    many = [f"line {number}" for number in range(5000)]
    batches = [batch async for batch in batched(_chunks(["a"], wide, many, ["z"]))]
    assert [line for batch in batches for line in batch] == ["a", *wide, *many, "z"]
    assert all(len(batch) <= BATCH_LINES and sum(map(len, batch)) <= BATCH_CHARS for batch in batches)
    assert len(batches) <= 8, "full batches, not one per read"


def test_a_line_longer_than_a_batch_still_goes_alone() -> None:
    buffer = LineBuffer()
    buffer.add(["x" * (BATCH_CHARS + 1), "after"])
    assert buffer.take() == ["x" * (BATCH_CHARS + 1)]
    assert buffer.take() == ["after"]
    assert buffer.take() == []
    assert (buffer.chars, buffer.lines) == (0, 0)


async def test_reading_pauses_when_the_consumer_does_not_take_batches() -> None:
    """GIVEN an endless source WHEN nobody takes the batches THEN it is read only BATCH_BACKLOG ahead, then waits."""
    read = [0]

    async def endless() -> AsyncIterator[list[str]]:
        while True:
            read[0] += 1000
            yield ["x" * 99] * 1000
            await asyncio.sleep(0)

    stream = batched(endless())
    first = await anext(stream)
    for _ in range(200):
        await asyncio.sleep(0)
    assert first
    assert read[0] * 99 <= BATCH_BACKLOG + BATCH_CHARS + 99_000, "the reading stopped near the backlog's bound"
    await stream.aclose()
    read[0] = 0
    short = batched(_endless_short(read))
    await anext(short)
    for _ in range(200):
        await asyncio.sleep(0)
    assert read[0] <= BATCH_BACKLOG_LINES + BATCH_LINES + 1000, "short lines: the bound in lines holds"
    await short.aclose()


async def _endless_short(read: list[int]) -> AsyncIterator[list[str]]:
    while True:
        read[0] += 1000
        yield ["x"] * 1000
        await asyncio.sleep(0)


async def test_console_output_waits_for_room_in_the_outbox_and_other_messages_do_not() -> None:
    outbox = Outbox(console_limit=500)  # one message over it may be queued, then output waits
    output = protocol.ConsoleOutput(stream_id=uuid.uuid4(), lines=["x" * 600])
    await outbox.put_console(output)
    waiting = asyncio.create_task(outbox.put_console(output))
    await asyncio.sleep(0.01)
    assert not waiting.done(), "over the limit: console output waits"
    await outbox.put(protocol.Heartbeat())  # results, events and heartbeats never wait
    text, console_chars = await outbox.get()
    assert console_chars == len(text) > 600
    outbox.sent(console_chars)
    await asyncio.wait_for(waiting, 5)
    assert (await outbox.get())[1] == 0, "the heartbeat, in its place"
    text, console_chars = await outbox.get()
    outbox.keep(text, console_chars)  # a failed send: console output is given up (its stream died with the socket)
    assert outbox.console_chars == 0
    outbox.keep('{"type": "heartbeat"}', 0)
    assert await outbox.get() == ('{"type": "heartbeat"}', 0), "anything else is kept for the next connection"


def test_batches_fit_the_servers_frame_limit_whatever_the_characters() -> None:
    """A batch of control characters (6 bytes each in JSON) stays under the frame limit the server enforces."""
    worst = ["\x1b" * (BATCH_CHARS // BATCH_LINES)] * BATCH_LINES
    text = protocol.ConsoleOutput(stream_id=uuid.uuid4(), lines=worst).model_dump_json()
    assert len(text.encode()) < MAX_FRAME_BYTES

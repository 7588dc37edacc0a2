"""The changes feed's listeners in one process: every long-poll and event stream of a collection shares one read.

A write announces its collection on the event bus once it commits (`FeedHub.announce`; with Redis every replica
hears it). The hub keeps, per collection that has listeners here, the listeners and what each has seen; on an
announcement it reads the changes after the smallest `since` among them ONCE and hands each listener what is new
to it. 500 listeners on one feed cost one query per write, not 500. The database stays the record: the read is of
committed rows in `seq` order, so a listener gets every change once and in order however announcements bunch up.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass

import structlog

from nubes.core.events import Bus

log = structlog.get_logger("nubes.apps.data.feed")

CHANNEL = "apps.data.changes"
READ_BATCH = 1000  # changes per shared read; a fuller backlog is read again at once


@dataclass(frozen=True, slots=True)
class Change:
    """One committed write of a collection, as the feed delivers it."""

    seq: int
    key: str
    rev: str
    deleted: bool


Reader = Callable[[int, int], Awaitable[Sequence[Change]]]
"""Reads a collection's committed changes after a seq, at most a number of them, in order."""


class Listener:
    """One long-poll or event stream waiting on a collection: the changes handed to it and not yet taken."""

    def __init__(self, since: int) -> None:
        self.since = since
        self.pending: list[Change] = []
        self.arrived = asyncio.Event()

    def offer(self, changes: Sequence[Change]) -> None:
        """Keep what is newer than what this listener has (the shared read starts at the smallest `since`)."""
        fresh = [change for change in changes if change.seq > self.since]
        if fresh:
            self.pending.extend(fresh)
            self.since = fresh[-1].seq
            self.arrived.set()

    def skip_to(self, seq: int) -> None:
        """The caller read up to `seq` itself: drop what is not newer and hear only what comes after."""
        self.pending = [change for change in self.pending if change.seq > seq]
        self.since = max(self.since, seq)
        if not self.pending:
            self.arrived.clear()

    async def next(self, within: float) -> list[Change]:
        """The changes handed over since the last call, waiting up to `within` seconds for some (empty: none came)."""
        if not self.pending:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), within)
        taken, self.pending = self.pending, []
        self.arrived.clear()
        return taken


class _Feed:
    """The listeners of one collection in this process and the one read they share."""

    def __init__(self, read: Reader) -> None:
        self.read = read
        self.listeners: set[Listener] = set()
        self.dirty = False
        self.task: asyncio.Task[None] | None = None
        self.reads = 0

    def poke(self) -> None:
        self.dirty = True
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while self.dirty and self.listeners:
            self.dirty = False
            floor = min(listener.since for listener in self.listeners)
            try:
                changes = await self.read(floor, READ_BATCH)
            except Exception as exc:  # the listeners time out and read again themselves
                log.warning("apps.data.feed_read_failed", error=type(exc).__name__)
                return
            self.reads += 1
            for listener in list(self.listeners):
                listener.offer(changes)
            if len(changes) == READ_BATCH:
                self.dirty = True


class FeedHub:
    """This process's changes-feed listeners by collection, woken by the event bus after each write's commit."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self.feeds: dict[uuid.UUID, _Feed] = {}
        self._announcing: set[asyncio.Task[None]] = set()
        bus.subscribe(CHANNEL, self._heard)

    def announce(self, collection_id: uuid.UUID) -> None:
        """Tell every process that `collection_id` has new committed changes (call it through `after_commit`)."""
        task = asyncio.get_running_loop().create_task(self._publish(str(collection_id)))
        self._announcing.add(task)
        task.add_done_callback(self._announcing.discard)

    async def _publish(self, message: str) -> None:
        try:
            await self.bus.publish(CHANNEL, message)
        except Exception as exc:  # a hint only: listeners still end at their timeout and read again
            log.warning("apps.data.announce_failed", error=type(exc).__name__)

    def _heard(self, message: str) -> None:
        try:
            collection_id = uuid.UUID(message)
        except ValueError:
            return
        feed = self.feeds.get(collection_id)
        if feed is not None:
            feed.poke()

    @contextlib.asynccontextmanager
    async def listen(self, collection_id: uuid.UUID, since: int, read: Reader) -> AsyncIterator[Listener]:
        """A listener on `collection_id` from `since` for the block's duration (join before reading, so nothing is missed)."""
        feed = self.feeds.get(collection_id)
        if feed is None:
            feed = self.feeds[collection_id] = _Feed(read)
        listener = Listener(since)
        feed.listeners.add(listener)
        try:
            yield listener
        finally:
            feed.listeners.discard(listener)
            if not feed.listeners and self.feeds.get(collection_id) is feed:
                del self.feeds[collection_id]

    def reads(self, collection_id: uuid.UUID) -> int:
        """How many shared reads the feed of `collection_id` made here while it had listeners (tests, benchmarks)."""
        feed = self.feeds.get(collection_id)
        return feed.reads if feed is not None else 0

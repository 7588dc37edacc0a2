"""Work that runs outside a request: callbacks once a transaction commits, and durable background workers.

`after_commit(session, fn)` is the one way to act on what a transaction wrote (wake a worker, delete a
blob it replaced): `fn` runs once the session's outermost transaction commits, and never when it (or the
savepoint `fn` was registered in) rolls back. `after_rollback` is its counterpart (delete a blob written
for a transaction that did not commit).

`Worker` is the loop every durable queue uses: its work lives in database rows (so it survives a
restart and is shared by replicas), a round claims due rows with a lease and settles them, `wake()`
asks for a round at once (call it through `after_commit`), a round also runs every `interval` seconds
for retries, failed rounds back off, and `stop()` lets the round in hand finish before it cancels.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import weakref
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar

import structlog
from sqlalchemy import Executable, event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, SessionTransaction

from nubes.core.events import Bus

log = structlog.get_logger("nubes.jobs")

_PENDING = "nubes.after_transaction"
_BEFORE_ANSWER = "nubes.before_answer"
_running: set[asyncio.Task[Any]] = set()

Callback = Callable[[], object]


@dataclass(frozen=True, slots=True)
class _Pending:
    transaction: SessionTransaction | None  # the innermost transaction when registered (None: not begun yet)
    fn: Callback
    on_commit: bool
    before_answer: bool = False


def after_commit(session: AsyncSession | Session, fn: Callback, *, before_answer: bool = False) -> None:
    """Run `fn` once the session's transaction commits; never if it rolls back.

    Works on request sessions and writer sessions alike. `fn` may be a plain function or a coroutine
    function (then it runs as a task: `wait_for_after_commit()` awaits those). It runs after the data
    is durable, so its failure cannot undo the commit: an error is logged, not raised. Registered inside
    a savepoint, it is dropped when that savepoint rolls back. With `before_answer`, a request's answer
    waits for the coroutine (`settle_before_answer`): what the client does next must see its effect
    (another replica dropping a revoked session from its cache).
    """
    _register(session, _Pending(_innermost(session), fn, on_commit=True, before_answer=before_answer))


def after_rollback(session: AsyncSession | Session, fn: Callback) -> None:
    """Run `fn` once the session's transaction rolls back (or the savepoint `fn` was registered in); never on commit.

    The counterpart of `after_commit`, for undoing what a transaction did outside the database (a blob
    it wrote). Errors are logged, not raised.
    """
    _register(session, _Pending(_innermost(session), fn, on_commit=False))


async def settle_before_answer(session: AsyncSession | Session) -> None:
    """Await the `before_answer` callbacks the session's last commit started (their errors are logged)."""
    tasks: list[asyncio.Task[Any]] = _sync(session).info.pop(_BEFORE_ANSWER, [])
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)


async def wait_for_after_commit() -> None:
    """Let the coroutine callbacks started by commits and rollbacks finish (tests and shutdown)."""
    while _running:
        await asyncio.gather(*list(_running), return_exceptions=True)


def _sync(session: AsyncSession | Session) -> Session:
    return session.sync_session if isinstance(session, AsyncSession) else session


def _innermost(session: AsyncSession | Session) -> SessionTransaction | None:
    sync_session = _sync(session)
    return sync_session.get_nested_transaction() or sync_session.get_transaction()


def _register(session: AsyncSession | Session, pending: _Pending) -> None:
    _sync(session).info.setdefault(_PENDING, []).append(pending)


def _run(fn: Callback) -> asyncio.Task[Any] | None:
    try:
        result = fn()
        if inspect.isawaitable(result):
            task = asyncio.get_running_loop().create_task(_settle(result))
            _running.add(task)
            task.add_done_callback(_running.discard)
            return task
    except Exception as exc:
        log.warning("jobs.callback_failed", callback=getattr(fn, "__qualname__", repr(fn)), error=type(exc).__name__)
    return None


async def _settle(result: Awaitable[object]) -> None:
    try:
        await result
    except Exception as exc:
        log.warning("jobs.callback_failed", error=type(exc).__name__)


def _settle_all(pending: list[_Pending], *, committed: bool) -> list[asyncio.Task[Any]]:
    awaited: list[asyncio.Task[Any]] = []
    for entry in pending:
        if entry.on_commit == committed:
            task = _run(entry.fn)
            if task is not None and entry.before_answer:
                awaited.append(task)
    return awaited


def _on_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint was released: the outer transaction may still roll back
        return
    awaited = _settle_all(session.info.pop(_PENDING, []), committed=True)
    if awaited:
        session.info.setdefault(_BEFORE_ANSWER, []).extend(awaited)


def _on_soft_rollback(session: Session, previous: SessionTransaction) -> None:
    pending: list[_Pending] = session.info.get(_PENDING, [])
    boundary: SessionTransaction | None = previous  # what was really rolled back: a savepoint or everything
    while boundary is not None and not boundary.nested and boundary.parent is not None:
        boundary = boundary.parent
    if not pending or boundary is None:
        return
    undone: list[_Pending] = []
    kept: list[_Pending] = []
    for entry in pending:
        (undone if boundary.parent is None or _within(entry.transaction, boundary) else kept).append(entry)
    session.info[_PENDING] = kept
    _settle_all(undone, committed=False)


def _on_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # after a commit nothing is left; otherwise it ended without one
        _settle_all(session.info.pop(_PENDING, []), committed=False)


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


event.listen(Session, "after_commit", _on_commit)
event.listen(Session, "after_soft_rollback", _on_soft_rollback)
event.listen(Session, "after_transaction_end", _on_transaction_end)


def backoff(attempts: int, *, base: float = 30, cap: float = 3600) -> timedelta:
    """How long to wait before retrying a job that failed `attempts` times: doubling from `base`, at most `cap`."""
    return timedelta(seconds=min(cap, base * 2**attempts))


# The started workers of this process by name, and the bus that carries wakes to the other processes (if shared).
_started: dict[str, weakref.WeakSet[Worker]] = {}
_bus: Bus | None = None
_announcing: set[asyncio.Task[None]] = set()


def wake(name: str) -> None:
    """Wake the workers called `name`: this process's at once, every other process's through the event bus."""
    _wake_here(name)
    _announce(name)


def share_wakes(bus: Bus) -> None:
    """Carry wakes over `bus` while the server runs: publish ours, and wake our workers on everyone else's."""
    global _bus  # noqa: PLW0603 - one bus per process, set by the server's lifespan
    _bus = bus
    bus.subscribe(WAKE_CHANNEL, _woken_elsewhere)


def stop_sharing_wakes() -> None:
    """Stop publishing wakes (the server is stopping)."""
    global _bus  # noqa: PLW0603
    _bus = None


WAKE_CHANNEL = "wake"


def _wake_here(name: str) -> None:
    for worker in list(_started.get(name, ())):
        worker.wake_here()


def _woken_elsewhere(name: str) -> None:
    log.debug("jobs.wake_received", worker=name)
    _wake_here(name)


def _announce(name: str) -> None:
    if _bus is None or not _bus.shared:
        return
    try:
        task = asyncio.get_running_loop().create_task(_bus.publish(WAKE_CHANNEL, name))
    except RuntimeError:  # no event loop (a synchronous caller): the other processes' polls find the work
        return
    _announcing.add(task)
    task.add_done_callback(_published)


def _published(task: asyncio.Task[None]) -> None:
    _announcing.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.warning("jobs.wake_not_published", error=type(task.exception()).__name__)


async def claim(sessions: async_sessionmaker[AsyncSession], statement: Executable) -> bool:
    """Run a conditional UPDATE that leases one job in its own transaction; whether this caller got it.

    The statement matches the row only as it was when read (for instance `next_attempt_at == due_at`)
    and moves its due time past a lease, so one replica wins and another retries once the lease ends.
    """
    async with sessions() as session:
        result = await session.execute(statement)
        await session.commit()
        return bool(getattr(result, "rowcount", 0))


class Worker(ABC):
    """A loop that settles due jobs stored in the database: woken on demand, every `interval` otherwise."""

    name: ClassVar[str]
    """The asyncio task's name."""

    log_prefix: ClassVar[str]
    """The prefix of the worker's log events (`<prefix>.round_failed`)."""

    interval: ClassVar[float] = 60.0
    """Seconds between rounds when nobody wakes the worker (retries, work left by a restart)."""

    max_error_pause: ClassVar[float] = 60.0
    """The longest pause after a failed round before the next one (1 s, doubling, up to this); wakes wait too."""

    stop_grace: ClassVar[float] = 5.0
    """Seconds `stop()` lets the round in hand finish before cancelling it."""

    def __init__(self) -> None:
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @abstractmethod
    async def run_due(self) -> int:
        """One round: claim the due jobs and settle them; return how many were settled (0 ends the round)."""

    def wake(self) -> None:
        """Ask for a round now (call it through `after_commit` once the work is committed), here and on every replica."""
        self._wake.set()
        _announce(self.name)

    def wake_here(self) -> None:
        """Ask this worker for a round now, without telling the other processes."""
        self._wake.set()

    def start(self) -> None:
        """Start the loop in the running event loop; `wake(name)` and the event bus reach it from now on."""
        self._stop.clear()
        self._task = asyncio.create_task(self._loop(), name=self.name)
        _started.setdefault(self.name, weakref.WeakSet()).add(self)

    async def stop(self) -> None:
        """Stop the loop: the round in hand may finish within `stop_grace`, then it is cancelled."""
        _started.get(self.name, weakref.WeakSet()).discard(self)
        if self._task is None:
            return
        self._stop.set()
        self._wake.set()
        task, self._task = self._task, None
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(task), self.stop_grace)
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self) -> None:
        failures = 0
        while not self._stop.is_set():
            if not failures:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                while await self.run_due() and not self._stop.is_set():
                    pass
                failures = 0
            except Exception as exc:  # the database may be away for a moment: retry after a growing pause
                failures += 1
                log.warning(f"{self.log_prefix}.round_failed", error=type(exc).__name__, failures=failures)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), timeout=min(self.max_error_pause, 2 ** (failures - 1)))

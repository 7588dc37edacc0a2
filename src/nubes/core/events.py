"""The event bus: short messages from one process to every process of the install (wake a worker, drop a socket).

Without Redis the bus is this process: a message reaches its own subscribers at once. With `NUBES_REDIS_URL` it is
Redis pub/sub: `publish` sends the message to every replica and `nubes worker` (this process included, through
Redis), and `run()` is the loop that receives them, reconnecting with a growing pause when Redis goes away.
Messages are hints, never the record: whatever they announce is already committed in the database, and the
receivers also poll it, so a message lost while Redis restarts only delays the work.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import structlog
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

log = structlog.get_logger("nubes.events")

Handler = Callable[[str], None]


class Bus:
    """Messages within this process: the bus of one server without Redis."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}

    @property
    def shared(self) -> bool:
        """Whether messages reach other processes."""
        return False

    def subscribe(self, channel: str, handler: Handler) -> None:
        """Call `handler(message)` for each message on `channel` (subscribe before `run()` starts)."""
        self._handlers.setdefault(channel, []).append(handler)

    async def publish(self, channel: str, message: str) -> None:
        """Send `message` to every subscriber of `channel`."""
        self.deliver(channel, message)

    def deliver(self, channel: str, message: str) -> None:
        """Hand a received message to this process's subscribers (a failing one is logged, the others still run)."""
        for handler in self._handlers.get(channel, ()):
            try:
                handler(message)
            except Exception:
                log.exception("events.handler_failed", channel=channel)

    async def run(self) -> None:
        """Receive messages from other processes until cancelled (nothing to receive here)."""
        await asyncio.Event().wait()

    async def ping(self, within: float = 2.0) -> float | None:
        """Round-trip the shared store in milliseconds (None: there is none, this process is the bus); raise if away."""
        return None

    async def close(self) -> None:
        """Release the connections."""


class RedisBus(Bus):
    """Messages through Redis pub/sub: every process of the install receives them."""

    PREFIX = "nubes:events:"
    MAX_PAUSE = 30.0

    def __init__(self, url: str) -> None:
        super().__init__()
        self._client: Redis = redis_client(url)

    @property
    def shared(self) -> bool:
        """Messages reach every process."""
        return True

    async def publish(self, channel: str, message: str) -> None:
        """PUBLISH the message (this process receives it back through `run()` too)."""
        await self._client.publish(self.PREFIX + channel, message)

    async def run(self) -> None:
        """Listen to every subscribed channel; reconnect with a doubling pause (up to 30 s) when Redis is away."""
        failures = 0
        while True:
            try:
                async with self._client.pubsub() as pubsub:
                    await pubsub.subscribe(*(self.PREFIX + channel for channel in self._handlers))
                    failures = 0
                    async for item in pubsub.listen():
                        if item.get("type") == "message":
                            channel = item["channel"].decode().removeprefix(self.PREFIX)
                            self.deliver(channel, item["data"].decode())
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                log.warning("events.disconnected", error=type(exc).__name__, failures=failures)
                await asyncio.sleep(min(self.MAX_PAUSE, 0.5 * 2 ** (failures - 1)))

    async def ping(self, within: float = 2.0) -> float | None:
        """PING Redis; its round trip in milliseconds."""
        started = time.perf_counter()
        async with asyncio.timeout(within):
            await self._client.ping()
        return (time.perf_counter() - started) * 1000

    async def close(self) -> None:
        """Close the Redis connections."""
        await self._client.aclose()


def redis_client(url: str) -> Redis:
    """A Redis client that sends a command again, once, on a connection found closed.

    After Redis restarts, every pooled connection is dead: without the retry each one failed its next command once
    (a readiness check answered 503 while Redis was back, tests/test_deployment.py), with it only a Redis that is
    really away fails.
    """
    return Redis.from_url(url, retry=Retry(NoBackoff(), 1), retry_on_error=[RedisConnectionError])


def open_bus(redis_url: str) -> Bus:
    """The install's bus: Redis pub/sub when configured, else this process."""
    return RedisBus(redis_url) if redis_url else Bus()

"""Rate limits (moving windows, from the `limits` library) on the actions attackers repeat: login, refresh, reset."""

from __future__ import annotations

import math
import time

import structlog
from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError

from nubes.config import Settings
from nubes.core.errors import TooManyRequests

log = structlog.get_logger("nubes.ratelimit")

SHARED_STORE_TIMEOUT_S = 2.0
WARN_EVERY_S = 60.0
STORE_ERRORS = (RedisError, OSError, TimeoutError)


class RateLimiter:
    """Counts hits per (action, key) against a list of limits such as `10/minute;100/hour`.

    In-process memory by default: one server counts for itself. With NUBES_REDIS_URL the counts live
    in Redis, so every replica counts the same attempts (an attacker gains nothing by spreading them).
    While Redis is away, each replica counts in its own memory instead: the limits still hold (per
    replica) and sign-ins are still served, rather than every login failing.
    """

    def __init__(self, storage: Storage | None = None) -> None:
        self.storage = storage or MemoryStorage()
        self._limiter = MovingWindowRateLimiter(self.storage)
        shared = not isinstance(self.storage, MemoryStorage)
        self._local = MovingWindowRateLimiter(MemoryStorage()) if shared else self._limiter
        self._warned_at = 0.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimiter:
        if not settings.redis_url:
            return cls()
        # `limits` names its async Redis backends `async+redis://`; redis-py is the client.
        url = settings.redis_url
        uri = "async+redis+unix://" + url.removeprefix("unix://") if url.startswith("unix://") else "async+" + url
        # A Redis that does not answer costs a sign-in at most these seconds before the local count takes over.
        storage = RedisStorage(
            uri,
            implementation="redispy",
            key_prefix="nubes-limits",
            socket_connect_timeout=SHARED_STORE_TIMEOUT_S,
            socket_timeout=SHARED_STORE_TIMEOUT_S,
        )
        return cls(storage)

    def _fallback(self, exc: Exception) -> MovingWindowRateLimiter:
        """The local limiter, after the shared store failed (logged at most once a minute)."""
        now = time.monotonic()
        if now - self._warned_at > WARN_EVERY_S:
            self._warned_at = now
            log.warning("ratelimit.shared_store_away", error=type(exc).__name__, counting="in this process")
        return self._local

    async def hit(self, action: str, key: str, limits: str) -> None:
        """Count one attempt; raise 429 with Retry-After when any limit is exceeded."""
        await self._count(action, key, limits, count=True)

    async def check(self, action: str, key: str, limits: str) -> None:
        """Raise 429 with Retry-After when `key` has no attempt left, counting nothing (for limits on failures only:
        the caller `hit`s after a failure)."""
        await self._count(action, key, limits, count=False)

    async def _count(self, action: str, key: str, limits: str, *, count: bool) -> None:
        items: list[RateLimitItem] = parse_many(limits)
        for item in items:
            limiter = self._limiter
            try:
                allowed = await (limiter.hit if count else limiter.test)(item, action, key)
            except STORE_ERRORS as exc:
                limiter = self._fallback(exc)
                allowed = await (limiter.hit if count else limiter.test)(item, action, key)
            if not allowed:
                stats = await limiter.get_window_stats(item, action, key)
                retry_after = max(1, math.ceil(stats.reset_time - time.time()))
                raise TooManyRequests(
                    f"Too many attempts; try again in {retry_after} seconds.",
                    headers={"Retry-After": str(retry_after)},
                    keep_changes=True,
                )

    async def clear(self, action: str, key: str, limits: str) -> None:
        """Forget the attempts of `key` (after a successful login, the account's failures no longer count)."""
        for item in parse_many(limits):
            try:
                await self._limiter.clear(item, action, key)
            except STORE_ERRORS as exc:
                await self._fallback(exc).clear(item, action, key)

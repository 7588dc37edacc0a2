"""Rate limits (moving windows, from the `limits` library) on the actions attackers repeat: login, refresh, reset."""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from nubes.config import Settings
from nubes.core.errors import TooManyRequests


class RateLimiter:
    """Counts hits per (action, key) against a list of limits such as `10/minute;100/hour`.

    In-process memory by default: one server counts for itself. With NUBES_REDIS_URL the counts live
    in Redis, so every replica counts the same attempts (an attacker gains nothing by spreading them).
    """

    def __init__(self, storage: Storage | None = None) -> None:
        self.storage = storage or MemoryStorage()
        self._limiter = MovingWindowRateLimiter(self.storage)

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimiter:
        if not settings.redis_url:
            return cls()
        # `limits` names its async Redis backends `async+redis://`; redis-py is the client.
        url = settings.redis_url
        uri = "async+redis+unix://" + url.removeprefix("unix://") if url.startswith("unix://") else "async+" + url
        return cls(RedisStorage(uri, implementation="redispy", key_prefix="nubes-limits"))

    async def hit(self, action: str, key: str, limits: str) -> None:
        """Count one attempt; raise 429 with Retry-After when any limit is exceeded."""
        items: list[RateLimitItem] = parse_many(limits)
        for item in items:
            if not await self._limiter.hit(item, action, key):
                stats = await self._limiter.get_window_stats(item, action, key)
                retry_after = max(1, math.ceil(stats.reset_time - time.time()))
                raise TooManyRequests(
                    f"Too many attempts; try again in {retry_after} seconds.",
                    headers={"Retry-After": str(retry_after)},
                    keep_changes=True,
                )

    async def clear(self, action: str, key: str, limits: str) -> None:
        """Forget the attempts of `key` (after a successful login, the account's failures no longer count)."""
        for item in parse_many(limits):
            await self._limiter.clear(item, action, key)

"""Rate limits: in-process by default, shared through a real Redis server when NUBES_REDIS_URL is set."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from nubes.core.errors import TooManyRequests
from nubes.core.ratelimit import RateLimiter
from tests.conftest import make_settings
from tests.serving import redis_server


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A throwaway redis-server on a loopback port."""
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


async def _hits(limiter: RateLimiter, key: str, times: int) -> list[bool]:
    """Which of `times` attempts pass a 3-per-minute limit; a refusal must say when to retry."""
    results = []
    for _ in range(times):
        refusal: TooManyRequests | None = None
        try:
            await limiter.hit("login-ip", key, "3/minute")
        except TooManyRequests as exc:
            refusal = exc
        results.append(refusal is None)
        if refusal is not None:
            retry_after = (refusal.headers or {}).get("Retry-After", "0")
            assert int(retry_after) >= 1
    return results


async def test_in_process_limits_count_per_key(tmp_path: Path) -> None:
    limiter = RateLimiter.from_settings(make_settings(tmp_path))
    assert await _hits(limiter, "198.51.100.1", 4) == [True, True, True, False]
    assert await _hits(limiter, "198.51.100.2", 1) == [True]
    # Another process (replica) counts for itself: this is what Redis fixes.
    other = RateLimiter.from_settings(make_settings(tmp_path))
    assert await _hits(other, "198.51.100.1", 1) == [True]


async def test_replicas_share_their_counts_through_redis(tmp_path: Path, redis_url: str) -> None:
    settings = make_settings(tmp_path, redis_url=redis_url)
    first, second = RateLimiter.from_settings(settings), RateLimiter.from_settings(settings)
    key = f"203.0.113.{time.monotonic_ns() % 250}"
    assert await _hits(first, key, 2) == [True, True]
    assert await _hits(second, key, 2) == [True, False]  # the third attempt overall passes, the fourth is refused
    assert await _hits(first, key, 1) == [False]
    await first.clear("login-ip", key, "3/minute")
    assert await _hits(second, key, 1) == [True]


async def test_with_redis_away_each_process_counts_for_itself(tmp_path: Path, unused_tcp_port: int) -> None:
    """Redis down: sign-ins are still served and still limited (in this process), not refused with a 500."""
    limiter = RateLimiter.from_settings(make_settings(tmp_path, redis_url=f"redis://127.0.0.1:{unused_tcp_port}/0"))
    assert await _hits(limiter, "203.0.113.5", 5) == [True, True, True, False, False]
    assert await _hits(limiter, "203.0.113.6", 1) == [True]
    await limiter.clear("login-ip", "203.0.113.5", "3/minute")
    assert await _hits(limiter, "203.0.113.5", 1) == [True]

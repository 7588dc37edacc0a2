"""The Redis client every shared store uses: a Redis that restarted is used at once, one that is away is an error."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from nubes.core.events import RedisBus, redis_client
from tests.serving import redis_process


async def test_pooled_connections_dead_after_a_restart_are_replaced_without_an_error(tmp_path: Path) -> None:
    """Every pooled connection dies with a restart; each failed its next command once (a replica's readiness check
    answered 503 with Redis back). Now each command is sent again once on a closed connection."""
    with redis_process(tmp_path) as redis:
        client = redis_client(redis.url)
        bus = RedisBus(redis.url)
        try:
            assert await asyncio.gather(*(client.ping() for _ in range(5))) == [True] * 5
            await asyncio.gather(*(bus.ping() for _ in range(5)))
            redis.stop()
            redis.start()
            assert await asyncio.gather(*(client.ping() for _ in range(5))) == [True] * 5
            latencies = await asyncio.gather(*(bus.ping() for _ in range(5)))
            assert all(latency is not None and latency >= 0 for latency in latencies)
            redis.stop()
            with pytest.raises(RedisConnectionError):
                await client.ping()
            with pytest.raises(RedisConnectionError):
                await bus.ping()
        finally:
            await client.aclose()
            await bus.close()

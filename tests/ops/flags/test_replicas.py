"""Two `nubes serve` processes on one database and one Redis: a flag changed through one replica reaches the code that
reads it on the other, although each keeps the values it read in its own cache (the change is announced on the event
bus before the answer; the other replica drops its values when the message arrives)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.conftest import empty_database
from tests.serving import Server, redis_server, serve

DELIVERY_WITHIN = 10.0
"""Seconds a pub/sub message may take to reach the other replica on a busy machine (it usually takes a millisecond)."""


@pytest.fixture(scope="module")
async def shared_database_url(engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """An empty database both replicas use."""
    async with empty_database(engine_name, tmp_path_factory.mktemp("flags-db") / "nubes.db") as url:
        yield url


@pytest.fixture(scope="module")
def replicas(shared_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server]]:
    """Replicas A and B (same database, secret and Redis; their own data dirs and ports)."""
    with contextlib.ExitStack() as stack:
        redis_url = stack.enter_context(redis_server(tmp_path_factory.mktemp("flags-redis")))
        shared = {"NUBES_REDIS_URL": redis_url, "NUBES_SECRET_KEY": "one-secret-for-every-replica-of-this-install"}
        first = stack.enter_context(serve(shared_database_url, tmp_path_factory.mktemp("flags-a"), **shared))
        second = stack.enter_context(serve(shared_database_url, tmp_path_factory.mktemp("flags-b"), **shared))
        yield first, second


def infinite_propfind(server: Server, token: str) -> int:
    answer = httpx.request(
        "PROPFIND",
        f"{server.url}/dav/files/{server.admin_username}/",
        headers={"Depth": "infinity", "Authorization": f"Bearer {token}"},
    )
    return answer.status_code


def status_within(server: Server, token: str, wanted: int) -> int:
    """PROPFIND until it answers `wanted` or the delivery time is up; the last status."""
    deadline = time.monotonic() + DELIVERY_WITHIN
    status = infinite_propfind(server, token)
    while status != wanted and time.monotonic() < deadline:
        time.sleep(0.05)
        status = infinite_propfind(server, token)
    return status


@pytest.mark.timeout(300)  # two servers start (migrations included) on a machine the other workers keep busy
def test_a_flag_changed_on_one_replica_reaches_the_other(replicas: tuple[Server, Server]) -> None:
    a, b = replicas
    token = a.admin_token()
    flag = f"{a.url}/api/ops/flags/files.dav_infinity/install"
    assert [infinite_propfind(b, token), infinite_propfind(b, token)] == [403, 403]  # kept by B: off

    assert httpx.put(flag, json={"enabled": True}, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert status_within(b, token, 207) == 207
    assert infinite_propfind(a, token) == 207

    assert httpx.delete(flag, headers={"Authorization": f"Bearer {token}"}).status_code == 204
    assert status_within(b, token, 403) == 403

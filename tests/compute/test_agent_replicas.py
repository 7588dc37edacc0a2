"""Agents across replicas: two `nubes serve` on one database and one Redis, a real `nubes agent` connected to replica A,
and everything done through replica B: the container's job, its logs, its volume files and a browser console whose
output and input travel between the replicas (compute/agents/relay.py), closed when its session ends on A."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.compute.across import drive_a_container
from tests.compute.test_docker import docker_engine
from tests.conftest import empty_database
from tests.serving import Server, redis_server, serve

pytestmark = [pytest.mark.docker, pytest.mark.timeout(300)]
__all__ = ["docker_engine"]  # the fixture, imported for this module


@pytest.fixture(scope="module")
async def shared_database_url(engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """An empty database both replicas use."""
    async with empty_database(engine_name, tmp_path_factory.mktemp("agent-replicas-db") / "nubes.db") as url:
        yield url


@pytest.fixture(scope="module")
def replicas(
    docker_engine: None, shared_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Server]]:
    """Replicas A and B: same database, secret and Redis; their own data dirs, ports and no embedded node."""
    with contextlib.ExitStack() as stack:
        redis_url = stack.enter_context(redis_server(tmp_path_factory.mktemp("agent-replicas-redis")))
        shared = {"NUBES_REDIS_URL": redis_url, "NUBES_SECRET_KEY": "one-secret-for-both-replicas-of-this-install"}
        first = stack.enter_context(serve(shared_database_url, tmp_path_factory.mktemp("agent-replica-a"), **shared))
        second = stack.enter_context(serve(shared_database_url, tmp_path_factory.mktemp("agent-replica-b"), **shared))
        yield first, second


def test_a_node_on_one_replica_is_driven_through_the_other(replicas: tuple[Server, Server], tmp_path: Path) -> None:
    a, b = replicas
    # The agent's socket is on A; the console on B; the sign-out that must close it on A.
    drive_a_container(api_url=b.url, agent_url=a.url, sign_out_url=a.url, admin=b, workdir=tmp_path)

"""Parallel uploads against a real `nubes serve`: together they never pass the quota, and none is a 500."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import empty_database
from tests.serving import Server, serve

QUOTA = 1_000_000
SIZE = 300_000  # three fit, the fourth does not


@pytest.fixture(scope="module")
async def parallel_database_url(engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    async with empty_database(engine_name, tmp_path_factory.mktemp("parallel-db") / "nubes.db") as url:
        yield url


@pytest.fixture(scope="module")
def quota_server(parallel_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve(parallel_database_url, tmp_path_factory.mktemp("parallel"), NUBES_USER_QUOTA_BYTES=str(QUOTA)) as running:
        yield running


async def test_parallel_uploads_cannot_pass_the_quota_together(quota_server: Server) -> None:
    """GIVEN a 1 MB quota WHEN 8 uploads of 300 kB run at once THEN exactly 3 succeed, the rest are 413, usage is 900 kB."""
    headers = {"Authorization": f"Bearer {quota_server.admin_token()}"}
    data = Path(quota_server.log).parent
    async with httpx.AsyncClient(base_url=quota_server.url, headers=headers, timeout=60) as http:

        async def one(number: int) -> int:
            async def body() -> AsyncIterator[bytes]:
                for _ in range(SIZE // 10_000):
                    yield bytes([number]) * 10_000
                    await asyncio.sleep(0)

            # No Content-Length: the server cannot refuse early and must settle it at commit.
            response = await http.post("/api/files/upload/raw", params={"name": f"part-{number}.bin"}, content=body())
            return response.status_code

        statuses = await asyncio.gather(*(one(number) for number in range(8)))
        assert sorted(statuses) == [201] * 3 + [413] * 5, statuses
        quota = (await http.get("/api/users/me/quota")).json()
        assert quota["used_bytes"] == 3 * SIZE
        listing = (await http.get("/api/files")).json()
        assert listing["total"] == 3
    # The refused uploads' blobs are deleted in the background after their responses: wait for it (bounded).
    for _ in range(100):
        blobs = list((data / "blobs").glob("??/??/*"))
        if len(blobs) <= 3:
            break
        await asyncio.sleep(0.1)
    assert len(blobs) == 3
    assert list((data / "blobs" / "tmp").iterdir()) == []

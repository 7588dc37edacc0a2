"""A 2 GiB file up and down through a real `nubes serve` while its RSS is sampled: memory stays flat.

This asserts memory growth, not speed. It runs once (SQLite, the disk backend): what it checks is the
streaming of bodies and blobs, which is the same code on either database.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.serving import serve

SIZE = 2 * 2**30
BLOCK = 2**20
RSS_GROWTH_LIMIT = 150 * 2**20


def rss(pid: int) -> int:
    """A process's resident set size in bytes, from /proc (Linux)."""
    resident_pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


class RssSampler:
    """Samples a process's resident set size until stopped; keeps the peak."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self.samples = 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            self.peak = max(self.peak, rss(self.pid))
            self.samples += 1
            await asyncio.sleep(0.1)

    def __enter__(self) -> RssSampler:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()


def _block() -> bytes:
    return hashlib.sha256(b"nubes").digest() * (BLOCK // 32)


async def _body() -> AsyncIterator[bytes]:
    block = _block()
    for _ in range(SIZE // BLOCK):
        yield block


@pytest.mark.timeout(600)
async def test_2gib_up_and_down_keeps_rss_flat(tmp_path: Path) -> None:
    """GIVEN a running server WHEN a 2 GiB body is uploaded (raw POST) and downloaded, both streamed
    THEN the server's RSS never grows more than 150 MB above its level after a warm-up."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    expected = hashlib.sha256()
    block = _block()
    for _ in range(SIZE // BLOCK):
        expected.update(block)
    with serve(f"sqlite+aiosqlite:///{data_dir / 'nubes.db'}", data_dir) as server:
        headers = {"Authorization": f"Bearer {server.admin_token()}"}
        async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=120) as http:
            # Warm-up: every code path once, so imports and pools are not counted as growth.
            warm = await http.post("/api/files/upload/raw", params={"name": "warm.bin"}, content=b"w" * 4 * BLOCK)
            assert warm.status_code == 201
            assert len((await http.get(f"/api/files/{warm.json()['id']}/content")).content) == 4 * BLOCK
            baseline = rss(server.pid)
            with RssSampler(server.pid) as upload_rss:
                made = await http.post(
                    "/api/files/upload/raw",
                    params={"name": "big.bin"},
                    content=_body(),
                    headers={"Content-Length": str(SIZE)},
                )
            assert made.status_code == 201, made.text
            assert made.json()["size"] == SIZE
            assert made.json()["sha256"] == expected.hexdigest()
            received = hashlib.sha256()
            count = 0
            with RssSampler(server.pid) as download_rss:
                async with http.stream("GET", f"/api/files/{made.json()['id']}/content") as response:
                    assert response.status_code == 200
                    async for chunk in response.aiter_raw():
                        received.update(chunk)
                        count += len(chunk)
            assert count == SIZE
            assert received.hexdigest() == expected.hexdigest()
    with contextlib.suppress(FileNotFoundError):
        for path in (data_dir / "blobs").glob("??/??/*"):
            path.unlink()  # 2 GiB less on the shared disk right away
    assert upload_rss.samples > 5
    assert download_rss.samples > 5
    assert upload_rss.peak - baseline < RSS_GROWTH_LIMIT, f"upload: RSS grew {(upload_rss.peak - baseline) / 2**20:.0f} MiB"
    assert download_rss.peak - baseline < RSS_GROWTH_LIMIT, f"download: RSS grew {(download_rss.peak - baseline) / 2**20:.0f} MiB"

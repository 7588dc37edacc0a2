"""The server killed with SIGKILL in the middle of an upload, then restarted: nothing partial is visible, nothing is lost."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from tests.conftest import empty_database
from tests.serving import serve


@pytest.fixture(scope="module")
async def crash_database_url(engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    async with empty_database(engine_name, tmp_path_factory.mktemp("crash-db") / "nubes.db") as url:
        yield url


async def _wait_for(check: Callable[[], bool], what: str) -> None:
    """Poll `check` (bounded: at most 15 s) until it holds."""
    for _ in range(300):
        if check():
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


async def test_sigkill_mid_upload_leaves_no_partial_file(crash_database_url: str, tmp_path: Path) -> None:
    """GIVEN an acknowledged upload and a second one half sent WHEN the server is SIGKILLed and restarted
    THEN the first is intact, the second left no row, no visible blob and no quota use."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    tmp_blobs = data_dir / "blobs" / "tmp"
    with serve(crash_database_url, data_dir) as server:
        headers = {"Authorization": f"Bearer {server.admin_token()}"}
        async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as http:
            kept = await http.post("/api/files/upload/raw", params={"name": "kept.bin"}, content=b"k" * 100_000)
            assert kept.status_code == 201
            hold = asyncio.Event()

            async def half() -> AsyncIterator[bytes]:
                yield b"h" * 3 * 2**20
                await hold.wait()  # set once the server is dead: the next writes find the connection gone
                for _ in range(5):
                    yield b"h" * 2**20

            upload = asyncio.create_task(
                http.post(
                    "/api/files/upload/raw", params={"name": "half.bin"}, content=half(), headers={"Content-Length": str(2**23)}
                )
            )
            # Wait until the server is writing the body into a temporary file, then kill it without warning.
            await _wait_for(lambda: any(path.stat().st_size > 0 for path in tmp_blobs.iterdir()), "the upload to reach the disk")
            os.kill(server.pid, signal.SIGKILL)
            hold.set()
            with pytest.raises(httpx.TransportError):
                async with asyncio.timeout(30):
                    await upload
    visible = sorted(path.name for path in (data_dir / "blobs").glob("??/??/*"))
    assert len(visible) == 1  # only the acknowledged file's blob; the half one never left tmp/
    (leftover,) = list(tmp_blobs.iterdir())
    stale = time.time() - 2 * 3600
    os.utime(leftover, (stale, stale))  # as if the restart came two hours later
    with serve(crash_database_url, data_dir) as server:
        headers = {"Authorization": f"Bearer {server.admin_token()}"}
        async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as http:
            listing = (await http.get("/api/files")).json()
            assert [item["name"] for item in listing["items"]] == ["kept.bin"]
            download = await http.get(f"/api/files/{listing['items'][0]['id']}/content")
            assert download.content == b"k" * 100_000
            assert (await http.get("/api/users/me/quota")).json()["used_bytes"] == 100_000
            # The name of the lost upload is free: nothing half-made holds it.
            again = await http.post("/api/files/upload/raw", params={"name": "half.bin"}, content=b"complete")
            assert again.status_code == 201
    assert list(tmp_blobs.iterdir()) == []  # the dead write's leftover was swept at start

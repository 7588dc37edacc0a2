"""The storage backends on their own: local disk and S3 (moto's server) must behave the same."""

from __future__ import annotations

import gc
import hashlib
import os
import time
import tracemalloc
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import cast

import httpx
import pytest

from nubes.config import Settings
from nubes.core.storage import CHUNK_SIZE, BlobNotFound, LocalStorage, S3Storage, SizeMismatch, Storage, TooLarge, open_storage
from tests.files.conftest import blob_keys

KEY = "0123456789abcdef0123456789abcdef"


async def stream(total: int, chunk: int = 64 * 1024, fail_after: int | None = None) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        if fail_after is not None and sent >= fail_after:
            raise ConnectionResetError("client went away")
        piece = bytes([sent // chunk % 251]) * min(chunk, total - sent)
        sent += len(piece)
        yield piece


async def read(storage: Storage, key: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join([chunk async for chunk in storage.get(key, start, end)])


async def test_put_get_stat_copy_delete(storage: Storage) -> None:
    info = await storage.put(KEY, stream(6 * 2**20 + 7))  # more than one S3 part
    expected = b"".join([piece async for piece in stream(6 * 2**20 + 7)])
    assert info.size == len(expected)
    assert info.sha256 == hashlib.sha256(expected).hexdigest()
    assert await storage.stat(KEY) == len(expected)
    assert await read(storage, KEY) == expected
    assert await read(storage, KEY, 5, 70_000) == expected[5:70_000]
    other = "f" * 32
    await storage.copy(KEY, other)
    assert await read(storage, other, len(expected) - 3) == expected[-3:]
    await storage.delete(KEY)
    await storage.delete(KEY)  # a missing blob is fine
    with pytest.raises(BlobNotFound):
        await storage.stat(KEY)
    with pytest.raises(BlobNotFound):
        await read(storage, KEY)
    assert await blob_keys(storage) == {other}


@pytest.mark.parametrize(
    ("total", "max_size", "expected_size", "error"),
    [
        (6 * 2**20, 2**20, None, TooLarge),
        (1000, None, 2000, SizeMismatch),  # shorter than promised
        (3000, None, 2000, SizeMismatch),  # longer than promised
        (3000, 2000, 2500, TooLarge),  # promised more than allowed
    ],
)
async def test_a_refused_stream_leaves_nothing(
    storage: Storage, total: int, max_size: int | None, expected_size: int | None, error: type[Exception]
) -> None:
    with pytest.raises(error):
        await storage.put(KEY, stream(total, chunk=1000), max_size=max_size, expected_size=expected_size)
    assert await blob_keys(storage) == set()
    if isinstance(storage, LocalStorage):
        assert storage.leftovers() == []


async def test_a_stream_that_breaks_leaves_nothing(storage: Storage) -> None:
    with pytest.raises(ConnectionResetError):
        await storage.put(KEY, stream(12 * 2**20, fail_after=7 * 2**20))
    assert await blob_keys(storage) == set()
    if isinstance(storage, LocalStorage):
        assert storage.leftovers() == []


async def test_an_overwrite_that_fails_keeps_the_old_blob(storage: Storage) -> None:
    await storage.put(KEY, stream(100))
    with pytest.raises(TooLarge):
        await storage.put(KEY, stream(1000), max_size=500)
    if isinstance(storage, LocalStorage):
        assert await read(storage, KEY) == b"\x00" * 100


async def test_memory_stays_flat_while_streaming(storage: Storage) -> None:
    """GIVEN a 48 MiB stream WHEN stored and read back THEN the Python heap never holds more than a few MiB of it."""
    total = 48 * 2**20
    tracemalloc.start()
    try:
        await storage.put(KEY, stream(total))
        _, peak_write = tracemalloc.get_traced_memory()
        # What the read adds, not what the write left for the collector (under load, some of it is still there).
        gc.collect()
        tracemalloc.reset_peak()
        before_read, _ = tracemalloc.get_traced_memory()
        size = 0
        async for chunk in storage.get(KEY):
            size += len(chunk)
        _, peak_read = tracemalloc.get_traced_memory()
        peak_read -= before_read
    finally:
        tracemalloc.stop()
    assert size == total
    # On S3, obstore keeps the parts in flight (part size x concurrency); still a fixed bound far below the file.
    bound = S3Storage.part_size * (S3Storage.concurrency + 1) if isinstance(storage, S3Storage) else 0
    assert peak_write < bound + 4 * 2**20 < total / 2, peak_write
    # About three chunks in flight (core/storage.py's CHUNK_SIZE); under load a fourth finished read may still sit in
    # its future when the peak is taken (seen once at 4.01 MiB), so the bound leaves room for that: still an eighth
    # of the file, which a read that held the blob would pass many times over.
    assert peak_read < 6 * CHUNK_SIZE, peak_read


async def test_a_download_stopped_early_ends_cleanly(storage: Storage) -> None:
    """GIVEN a client that goes away after the first chunk (the next one may be being read) THEN the read ends cleanly."""
    await storage.put(KEY, stream(5 * 2**20))
    chunks = cast("AsyncGenerator[bytes]", storage.get(KEY))
    first = await anext(chunks)
    assert first[:1] == b"\x00"
    await chunks.aclose()
    assert await read(storage, KEY, 2**20 - 1, 2**20 + 1) == bytes([15, 16])  # 64 KiB of each byte value


async def test_a_small_blob_is_written_whole_or_not_at_all(storage: Storage) -> None:
    """GIVEN small streams (one write) WHEN one matches its promised size and others do not THEN only that one is kept."""
    info = await storage.put(KEY, stream(3000, chunk=1000), expected_size=3000)
    data = b"\x00" * 1000 + b"\x01" * 1000 + b"\x02" * 1000
    assert (info.size, info.sha256) == (3000, hashlib.sha256(data).hexdigest())
    for total, expected in ((2000, 3000), (4000, 3000)):
        with pytest.raises(SizeMismatch):
            await storage.put("abcdef0123456789abcdef0123456789", stream(total, chunk=1000), expected_size=expected)
    assert await blob_keys(storage) == {KEY}
    assert await read(storage, KEY) == data
    if isinstance(storage, LocalStorage):
        assert storage.leftovers() == []


async def test_local_presigned_urls_refuse_tampering_and_expiry(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path, secret="s3cret")
    url = await storage.presign(KEY, "GET", timedelta(minutes=5))
    query = dict(part.split("=", 1) for part in url.split("?", 1)[1].split("&"))
    expires, signature = int(query["expires"]), query["signature"]
    assert storage.verify_presigned(KEY, "GET", expires, signature)
    assert not storage.verify_presigned(KEY, "PUT", expires, signature)
    assert not storage.verify_presigned("f" * 32, "GET", expires, signature)
    assert not storage.verify_presigned(KEY, "GET", expires + 1, signature)
    assert not storage.verify_presigned(KEY, "GET", expires, signature, now=time.time() + 301)
    assert not LocalStorage(tmp_path, secret="other").verify_presigned(KEY, "GET", expires, signature)


async def test_s3_presigned_get_serves_the_blob(moto_url: str) -> None:
    from tests.files.conftest import s3_storage  # noqa: PLC0415

    storage = s3_storage(moto_url)
    await storage.put(KEY, stream(1000))
    url = await storage.presign(KEY, "GET", timedelta(minutes=5))
    assert "X-Amz-Signature=" in url
    async with httpx.AsyncClient() as http:
        response = await http.get(url)
    assert response.status_code == 200
    assert response.content == b"\x00" * 1000


def test_storage_url_picks_the_backend(settings: Settings, tmp_path: Path) -> None:
    local = open_storage(settings.model_copy(update={"storage_url": f"file://{tmp_path}/blobs"}))
    assert isinstance(local, LocalStorage)
    assert local.root == tmp_path / "blobs"
    default = open_storage(settings.model_copy(update={"storage_url": ""}))
    assert isinstance(default, LocalStorage)
    assert default.root == settings.data_dir / "blobs"
    s3 = open_storage(settings.model_copy(update={"storage_url": "s3://bucket?endpoint=http://127.0.0.1:9&region=eu-west-1"}))
    assert isinstance(s3, S3Storage)


async def test_local_keys_are_only_server_drawn_ids(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path, secret="x")
    for key in ("../../etc/passwd", "ABCDEF0123", "", "abc"):
        with pytest.raises(BlobNotFound):
            storage.path_of(key)


async def test_sweep_removes_only_idle_leftovers(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path, secret="x")
    idle, busy = tmp_path / "tmp" / "idle", tmp_path / "tmp" / "busy"
    idle.write_bytes(b"dead write")
    busy.write_bytes(b"live write")
    stale = time.time() - 7200
    os.utime(idle, (stale, stale))
    assert storage.sweep() == 1
    assert storage.leftovers() == [busy]


# --- the staging contract: the same behaviour on every backend -------------------------------------

STAGED = "89abcdef0123456789abcdef01234567"


async def read_staged(storage: Storage, length: int) -> bytes:
    return b"".join([chunk async for chunk in storage.stage_read(STAGED, length)])


async def test_staged_appends_read_back_in_order_and_seal_into_a_blob(storage: Storage) -> None:
    """GIVEN two appends WHEN the staged bytes are read and sealed THEN they come back whole, as one new blob."""
    first = b"".join([piece async for piece in stream(70_000, chunk=1000)])
    assert await storage.stage_size(STAGED) is None
    assert await storage.stage_append(STAGED, 0, stream(70_000, chunk=1000)) == 70_000
    assert await storage.stage_append(STAGED, 70_000, stream(5, chunk=5)) == 5
    whole = first + b"\x00" * 5
    assert await storage.stage_size(STAGED) == len(whole)
    assert await read_staged(storage, len(whole)) == whole
    assert await read_staged(storage, 1000) == whole[:1000]
    info = await storage.stage_seal(STAGED, len(whole), KEY)
    assert (info.key, info.size, info.sha256) == (KEY, len(whole), hashlib.sha256(whole).hexdigest())
    assert await read(storage, KEY) == whole
    await storage.stage_discard(STAGED)
    await storage.stage_discard(STAGED)  # nothing staged is fine
    assert await storage.stage_size(STAGED) is None
    assert await blob_keys(storage) == {KEY}


async def test_a_failed_append_adds_nothing(storage: Storage) -> None:
    await storage.stage_append(STAGED, 0, stream(1000))
    with pytest.raises(ConnectionResetError):
        await storage.stage_append(STAGED, 1000, stream(3000, chunk=500, fail_after=1500))
    assert await storage.stage_size(STAGED) == 1000
    assert await storage.stage_append(STAGED, 1000, stream(10)) == 10
    assert await read_staged(storage, 1010) == b"\x00" * 1010


async def test_sealing_the_wrong_length_keeps_no_blob(storage: Storage) -> None:
    await storage.stage_append(STAGED, 0, stream(100))
    with pytest.raises((BlobNotFound, SizeMismatch)):
        await storage.stage_seal(STAGED, 200, KEY)
    assert KEY not in await blob_keys(storage)


async def test_nothing_staged_reads_as_not_found(storage: Storage) -> None:
    with pytest.raises(BlobNotFound):
        await read_staged(storage, 10)
    assert await read_staged(storage, 0) == b""
    info = await storage.stage_seal(STAGED, 0, KEY)  # an empty upload needs no staged bytes
    assert (info.size, info.sha256) == (0, hashlib.sha256(b"").hexdigest())


async def test_presigned_put_lands_in_the_staging_area_or_is_none(storage: Storage) -> None:
    """GIVEN a backend WHEN asked for direct URLs THEN S3 gives working ones and the local disk none (Nubes carries the bytes)."""
    url = await storage.presign_put(STAGED, timedelta(minutes=5))
    if isinstance(storage, LocalStorage):
        assert url is None
        assert await storage.presign_get(KEY, timedelta(minutes=5)) is None
        return
    assert url is not None
    async with httpx.AsyncClient() as http:
        assert (await http.put(url, content=b"direct bytes")).status_code == 200
    assert await storage.stage_size(STAGED) == len(b"direct bytes")
    info = await storage.stage_seal(STAGED, len(b"direct bytes"), KEY)
    assert info.sha256 == hashlib.sha256(b"direct bytes").hexdigest()
    await storage.stage_discard(STAGED)
    assert await storage.stage_size(STAGED) is None
    download = await storage.presign_get(KEY, timedelta(minutes=5))
    assert download is not None
    async with httpx.AsyncClient() as http:
        assert (await http.get(download)).content == b"direct bytes"

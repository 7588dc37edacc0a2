"""Blob storage: one async interface over the local disk and S3, streaming in constant memory both ways.

Blobs are keyed by an id the files domain draws (a random hex string), never by a user-chosen
name, so no path a client sends ever reaches the filesystem or the bucket. A key is referenced by
exactly one row (a file's current content or one of its versions), so deleting a row's blob never
touches another row's bytes; a copy is a real copy (a server-side copy on S3).

A write is visible under its key only once it is complete, its size matches what was promised and
its SHA-256 is known: on disk it is written to `tmp/`, fsynced and renamed into place; on S3 the
object appears only when its (multipart) upload completes, and a failed stream aborts the upload.

An upload in progress is staged under a staging key (`stage_*` methods), apart from the blobs:

- on disk, one file `<root>/staging/<key>` the bytes are appended to (fsynced before an append
  returns); sealed, it is renamed into place as the blob: no assembly step;
- on S3, one object per append under `staging/<key>/<offset>` (S3 has no append), or one object
  `staging/<key>` a client PUT directly through `presign_put`; sealed, the parts are streamed, in
  order, into the blob by one multipart upload (or the one object is copied server-side).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import shutil
import time
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol
from urllib.parse import parse_qs, quote, urlsplit

import obstore
from obstore.exceptions import NotFoundError as ObjectNotFound
from obstore.store import S3Store

from nubes.config import Settings
from nubes.core import crypto

if TYPE_CHECKING:
    from obstore import GetOptions

CHUNK_SIZE = 1024 * 1024
"""Bytes per chunk read from a blob; a download holds about three chunks in memory at once (tests/files/test_storage.py).

Each chunk costs a thread hop and a trip through the ASGI server, so small chunks cap a download's speed (the
local disk reads the next chunk while the server sends one):
on the local disk under uvicorn, 1 GiB downloads ran about 1.7x faster with 1 MiB chunks than with 64 KiB,
and 4 MiB was faster again but held over 12 MiB per download (bench/bench_files_transfer.py measures
downloads against nginx).
"""

STALE_AFTER = 3600.0
"""Seconds without a write after which a temporary file is a dead write's leftover."""

_WRITE_BATCH = 512 * 1024  # local writes go in batches: each thread hop moves a useful amount, two batches in memory at most
_WRITEV_MAX = 512  # parts per writev (the kernel takes at most IOV_MAX, 1024 on Linux); more are joined first


class StorageError(Exception):
    """Base of the errors a storage backend raises on purpose."""


class BlobNotFound(StorageError):
    """No blob under this key."""


class TooLarge(StorageError):
    """The stream went past the most bytes the caller allowed; nothing was kept."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} bytes")
        self.limit = limit


class SizeMismatch(StorageError):
    """The stream ended with another byte count than the one promised; nothing was kept."""

    def __init__(self, expected: int, received: int) -> None:
        super().__init__(f"expected {expected} bytes, received {received}")
        self.expected = expected
        self.received = received


@dataclass(frozen=True, slots=True)
class BlobInfo:
    """What a completed write stored."""

    key: str
    size: int
    sha256: str


class Storage(Protocol):
    """Where file bytes live. Every method is safe to retry; `delete` of a missing key is a no-op."""

    name: str

    async def put(
        self, key: str, chunks: AsyncIterable[bytes], *, max_size: int | None = None, expected_size: int | None = None
    ) -> BlobInfo:
        """Store a stream under `key`; visible only when complete. Raises TooLarge or SizeMismatch, keeping nothing."""
        ...

    def get(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Stream bytes `start` (inclusive) to `end` (exclusive; the end of the blob when None)."""
        ...

    async def stat(self, key: str) -> int:
        """The blob's size in bytes, or BlobNotFound."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the blob (a missing blob is fine)."""
        ...

    async def copy(self, source: str, target: str) -> None:
        """Copy a blob to a new key (visible only when complete)."""
        ...

    async def presign_put(self, staging_key: str, expires_in: timedelta) -> str | None:
        """A URL a client PUTs an upload's bytes to, straight into the staging area; None when the bytes go through Nubes."""
        ...

    async def presign_get(self, key: str, expires_in: timedelta) -> str | None:
        """A URL that downloads this blob straight from the backend; None when the bytes go through Nubes."""
        ...

    async def stage_append(self, staging_key: str, offset: int, chunks: AsyncIterable[bytes], *, digest: Any = None) -> int:
        """Append a stream at `offset` of the staged bytes; returns how many bytes it added, once durable.

        A stream that fails (an error raised by `chunks` included) adds nothing: the staged bytes end at `offset`.
        `digest` (a hashlib object), if given, is updated with the bytes as they are written.
        """
        ...

    def stage_read(self, staging_key: str, length: int) -> AsyncIterator[bytes]:
        """Bytes 0 to `length` of the staged bytes, in order; BlobNotFound when they are not all there."""
        ...

    async def stage_size(self, staging_key: str) -> int | None:
        """How many bytes are staged under the key (None: nothing is)."""
        ...

    async def stage_seal(self, staging_key: str, length: int, key: str, *, sha256: str | None = None) -> BlobInfo:
        """Make the `length` staged bytes the blob `key` (visible only when whole); `sha256` if the caller knows it.

        BlobNotFound or SizeMismatch (keeping no blob) when the staged bytes are not `length` bytes; the
        staging area is left for `stage_discard`.
        """
        ...

    async def stage_discard(self, staging_key: str) -> None:
        """Delete the staged bytes (nothing staged is fine)."""
        ...

    def local_path(self, key: str) -> Path | None:
        """The blob's file on the local disk, for a zero-copy send; None when the backend keeps no local files."""
        ...


class _Meter:
    """Counts and hashes a stream as it passes, refusing to go past a size limit."""

    def __init__(self, *, max_size: int | None, expected_size: int | None) -> None:
        self.limit = expected_size if expected_size is not None else max_size
        if max_size is not None and expected_size is not None and expected_size > max_size:
            raise TooLarge(max_size)
        self.max_size = max_size
        self.expected_size = expected_size
        self.size = 0
        self.digest = hashlib.sha256()

    def count(self, chunk: bytes) -> None:
        """Count a chunk (the limits); the caller hashes it into `digest` itself (in a worker thread, say)."""
        self.size += len(chunk)
        if self.limit is not None and self.size > self.limit:
            if self.expected_size is not None and (self.max_size is None or self.size <= self.max_size):
                raise SizeMismatch(self.expected_size, self.size)
            raise TooLarge(self.limit if self.max_size is None else self.max_size)

    def feed(self, chunk: bytes) -> None:
        """Count a chunk and hash it."""
        self.count(chunk)
        self.digest.update(chunk)

    def finish(self) -> str:
        if self.expected_size is not None and self.size != self.expected_size:
            raise SizeMismatch(self.expected_size, self.size)
        return self.digest.hexdigest()


def sign_token(secret: str, key: str, method: str, expires: int) -> str:
    """The HMAC that a local presigned URL carries (method, key and expiry are all covered)."""
    return crypto.sign(secret.encode(), method.upper(), key, str(expires))


async def _write_batched(
    handle: Any, chunks: AsyncIterable[bytes], see: Callable[[bytes], object] | None = None, digest: Any = None
) -> int:
    """Write `chunks` to an unbuffered file in batches of about `_WRITE_BATCH` bytes; returns the bytes written.

    `see` looks at each chunk first (size limits) and may raise to stop the write. Each batch goes to a worker
    thread, which hashes it into `digest` (if given: hashlib lets go of the GIL for large buffers) and writes it
    with one `writev` (no joined copy); meanwhile the event loop receives the next batch. The thread is done
    with the file when this returns or raises, so the caller may close it.
    """
    written = 0
    pending: list[bytes] = []
    pending_size = 0
    writing: asyncio.Future[None] | None = None
    loop = asyncio.get_running_loop()
    fd = handle.fileno()
    try:
        async for chunk in chunks:
            if see is not None:
                see(chunk)
            pending.append(chunk)
            pending_size += len(chunk)
            if pending_size >= _WRITE_BATCH:
                if writing is not None:
                    await writing
                writing = loop.run_in_executor(None, _write_parts, fd, pending, pending_size, digest)
                written += pending_size
                pending, pending_size = [], 0
        if writing is not None:
            await writing
            writing = None
        if pending:
            await asyncio.to_thread(_write_parts, fd, pending, pending_size, digest)
            written += pending_size
    except BaseException:
        if writing is not None and not writing.done():
            await asyncio.wait({writing})  # let the thread finish with the file before the caller closes it
        if writing is not None and not writing.cancelled():
            writing.exception()  # retrieved: the error that matters is the one raised here
        raise
    return written


def _write_parts(fd: int, parts: list[bytes], size: int, digest: Any) -> None:
    """Hash `parts` into `digest` (if any) and write them at the file's position (a worker thread's job)."""
    if digest is not None:
        for part in parts:
            digest.update(part)
    if len(parts) > _WRITEV_MAX:
        parts = [b"".join(parts)]
    done = os.writev(fd, parts)
    if done < size:  # a short write (rare on a file): write the rest
        rest = memoryview(b"".join(parts))[done:]
        while rest:
            rest = rest[os.write(fd, rest) :]


class LocalStorage:
    """Blobs as files under a directory: `<root>/<k[:2]>/<k[2:4]>/<k>`, written through `<root>/tmp/`."""

    name = "local"

    def __init__(self, root: Path, *, secret: str) -> None:
        self.root = root
        self.secret = secret
        root.mkdir(parents=True, exist_ok=True, mode=0o700)  # blobs are the users' files: this user's only
        (root / "tmp").mkdir(exist_ok=True, mode=0o700)

    def path_of(self, key: str) -> Path:
        """Where a key's bytes live; keys are ids the server drew, checked here all the same."""
        if not key or not all(ch in "0123456789abcdef" for ch in key) or len(key) < 8:
            raise BlobNotFound(key)
        return self.root / key[:2] / key[2:4] / key

    async def put(
        self, key: str, chunks: AsyncIterable[bytes], *, max_size: int | None = None, expected_size: int | None = None
    ) -> BlobInfo:
        meter = _Meter(max_size=max_size, expected_size=expected_size)
        final = self.path_of(key)
        temporary = self.root / "tmp" / uuid.uuid4().hex
        if expected_size is not None and expected_size <= _WRITE_BATCH:  # small: gathered, then one thread hop
            parts = [chunk async for chunk in _counted(chunks, meter)]
            if meter.size != expected_size:
                raise SizeMismatch(expected_size, meter.size)
            await asyncio.to_thread(_write_new, temporary, final, parts, meter.size, meter.digest)
            return BlobInfo(key=key, size=meter.size, sha256=meter.finish())
        handle = await asyncio.to_thread(_open_new, temporary)
        try:
            await _write_batched(handle, chunks, meter.count, meter.digest)
            sha256 = meter.finish()
            await asyncio.to_thread(_seal, handle, temporary, final)
        except BaseException:
            handle.close()
            temporary.unlink(missing_ok=True)
            raise
        return BlobInfo(key=key, size=meter.size, sha256=sha256)

    async def get(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        path = self.path_of(key)
        try:
            handle = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError:
            raise BlobNotFound(key) from None
        # The next chunk is read (in a worker thread) while the caller sends this one: two chunks in memory at most.
        loop = asyncio.get_running_loop()
        reading: asyncio.Future[bytes] | None = None
        try:
            await asyncio.to_thread(handle.seek, start)
            remaining = None if end is None else max(end - start, 0)
            if remaining is None or remaining > 0:
                reading = loop.run_in_executor(None, handle.read, _want(remaining))
            while reading is not None:
                chunk = await reading
                reading = None
                if not chunk:
                    return
                if remaining is not None:
                    remaining -= len(chunk)
                if remaining is None or remaining > 0:
                    reading = loop.run_in_executor(None, handle.read, _want(remaining))
                yield chunk
        finally:
            if reading is not None:
                if not reading.done():
                    await asyncio.wait({reading})  # the thread must be done with the file before it is closed
                if not reading.cancelled():
                    reading.exception()
            handle.close()

    async def stat(self, key: str) -> int:
        try:
            return (await asyncio.to_thread(self.path_of(key).stat)).st_size
        except FileNotFoundError:
            raise BlobNotFound(key) from None

    async def delete(self, key: str) -> None:
        with contextlib.suppress(BlobNotFound):
            await asyncio.to_thread(self.path_of(key).unlink, missing_ok=True)

    async def copy(self, source: str, target: str) -> None:
        source_path, target_path = self.path_of(source), self.path_of(target)
        temporary = self.root / "tmp" / uuid.uuid4().hex

        def run() -> None:
            try:
                shutil.copyfile(source_path, temporary)
                with temporary.open("rb+") as handle:
                    _seal(handle, temporary, target_path)
            except FileNotFoundError:
                raise BlobNotFound(source) from None
            finally:
                temporary.unlink(missing_ok=True)

        await asyncio.to_thread(run)

    async def presign(self, key: str, method: str, expires_in: timedelta) -> str:
        expires = int(time.time() + expires_in.total_seconds())
        token = sign_token(self.secret, key, method, expires)
        return f"/api/blobs/{quote(key)}?method={method.upper()}&expires={expires}&signature={token}"

    def local_path(self, key: str) -> Path | None:
        """The blob's file (BlobNotFound for a key that is not a blob key)."""
        return self.path_of(key)

    def verify_presigned(self, key: str, method: str, expires: int, signature: str, *, now: float | None = None) -> bool:
        """Whether a local presigned URL is genuine and unexpired (constant-time comparison)."""
        if expires < (time.time() if now is None else now):
            return False
        return crypto.equal(sign_token(self.secret, key, method, expires), signature)

    async def presign_put(self, staging_key: str, expires_in: timedelta) -> str | None:
        """None: a client sends an upload's bytes to Nubes, which appends them here."""
        del staging_key, expires_in
        return None

    async def presign_get(self, key: str, expires_in: timedelta) -> str | None:
        """None: downloads go through Nubes, which reads the file here."""
        del key, expires_in
        return None

    def staging_path(self, staging_key: str) -> Path:
        """Where a staging key's bytes live (BlobNotFound for a key that is not a staging key)."""
        if not staging_key or not all(ch in "0123456789abcdef" for ch in staging_key):
            raise BlobNotFound(staging_key)
        return self.root / "staging" / staging_key

    async def stage_append(self, staging_key: str, offset: int, chunks: AsyncIterable[bytes], *, digest: Any = None) -> int:
        handle = await asyncio.to_thread(_open_staging, self.staging_path(staging_key), offset)
        try:
            added = await _write_batched(handle, chunks, None, digest)  # hashed by the writing thread
            await asyncio.to_thread(_sync_close, handle)
        except BaseException:
            await asyncio.shield(asyncio.to_thread(_truncate_close, handle, offset))
            raise
        return added

    async def stage_read(self, staging_key: str, length: int) -> AsyncIterator[bytes]:
        if length <= 0:
            return
        try:
            handle = await asyncio.to_thread(self.staging_path(staging_key).open, "rb")
        except FileNotFoundError:
            raise BlobNotFound(staging_key) from None
        try:
            remaining = length
            while remaining > 0:
                chunk = await asyncio.to_thread(handle.read, min(CHUNK_SIZE, remaining))
                if not chunk:
                    raise BlobNotFound(staging_key)
                remaining -= len(chunk)
                yield chunk
        finally:
            handle.close()

    async def stage_size(self, staging_key: str) -> int | None:
        try:
            return (await asyncio.to_thread(self.staging_path(staging_key).stat)).st_size
        except (FileNotFoundError, BlobNotFound):
            return None

    async def stage_seal(self, staging_key: str, length: int, key: str, *, sha256: str | None = None) -> BlobInfo:
        if length == 0 and await self.stage_size(staging_key) is None:  # an empty upload stages nothing
            return await self.put(key, _nothing(), expected_size=0)
        if sha256 is None:
            digest = hashlib.sha256()
            async for chunk in self.stage_read(staging_key, length):
                digest.update(chunk)
            sha256 = digest.hexdigest()
        source, target = self.staging_path(staging_key), self.path_of(key)

        def run() -> int:
            try:
                size = source.stat().st_size
            except FileNotFoundError:
                raise BlobNotFound(staging_key) from None
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            source.rename(target)
            directory = os.open(target.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
            return size

        size = await asyncio.to_thread(run)
        if size != length:
            await self.delete(key)
            raise SizeMismatch(length, size)
        return BlobInfo(key=key, size=size, sha256=sha256)

    async def stage_discard(self, staging_key: str) -> None:
        with contextlib.suppress(BlobNotFound):
            await asyncio.to_thread(self.staging_path(staging_key).unlink, missing_ok=True)

    def leftovers(self) -> list[Path]:
        """Temporary files of writes that never finished (a crash); safe to delete when no write runs."""
        return sorted((self.root / "tmp").iterdir())

    def sweep(self, *, idle_for: float = STALE_AFTER) -> int:
        """Delete temporary files nothing has written to for `idle_for` seconds (writes of a killed server).

        A live write touches its file at least every few seconds, so an hour of silence means its writer
        is gone; returns how many were deleted.
        """
        cutoff = time.time() - idle_for
        removed = 0
        for path in self.leftovers():
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
        return removed


async def _hashed(chunks: AsyncIterable[bytes], digest: Any) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        digest.update(chunk)
        yield chunk


async def _counted(chunks: AsyncIterable[bytes], meter: _Meter) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        meter.count(chunk)
        yield chunk


def _write_new(temporary: Path, final: Path, parts: list[bytes], size: int, digest: Any) -> None:
    """A whole small blob in one go: hashed, written, fsynced and renamed into place (a worker thread's job)."""
    handle = _open_new(temporary)
    try:
        _write_parts(handle.fileno(), parts, size, digest)
        _seal(handle, temporary, final)
    except BaseException:
        handle.close()
        temporary.unlink(missing_ok=True)
        raise


def _open_new(path: Path) -> Any:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return os.fdopen(fd, "wb", buffering=0)  # `_write_batched` writes to the descriptor itself


def _want(remaining: int | None) -> int:
    """How many bytes the next read of a blob asks for."""
    return CHUNK_SIZE if remaining is None else min(CHUNK_SIZE, remaining)


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield b""  # an async generator that yields nothing


def _open_staging(path: Path, offset: int) -> Any:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    handle = os.fdopen(fd, "r+b", buffering=0)  # `_write_batched` writes to the descriptor itself
    handle.truncate(offset)  # bytes past the acknowledged offset are a killed write's tail
    handle.seek(offset)
    return handle


def _sync_close(handle: Any) -> None:
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()


def _truncate_close(handle: Any, offset: int) -> None:
    with contextlib.suppress(OSError):
        handle.truncate(offset)
    handle.close()


def _seal(handle: Any, temporary: Path, final: Path) -> None:
    """Flush and fsync a finished temporary file, then rename it into place and fsync the directory."""
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()
    final.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary.rename(final)
    directory = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


class S3Storage:
    """Blobs as objects in an S3 bucket (any S3-compatible server), through obstore."""

    name = "s3"
    part_size = 5 * 1024 * 1024  # S3's smallest multipart part; with `concurrency` it bounds memory per upload
    concurrency = 2

    def __init__(self, store: S3Store) -> None:
        self.store = store

    @classmethod
    def from_url(cls, url: str) -> S3Storage:
        """`s3://bucket?endpoint=http://host:9000&region=us-east-1&prefix=nubes` (credentials from AWS_* or the URL)."""
        parts = urlsplit(url)
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        config: dict[str, Any] = {"region": query.get("region", os.environ.get("AWS_REGION", "us-east-1"))}
        if "endpoint" in query:
            config["endpoint"] = query["endpoint"]
        for name in ("access_key_id", "secret_access_key", "session_token"):
            if name in query:
                config[name] = query[name]
        store = S3Store(
            parts.netloc,
            prefix=query.get("prefix") or None,
            client_options={"allow_http": query.get("endpoint", "").startswith("http://")},
            virtual_hosted_style_request=False,
            **config,
        )
        return cls(store)

    async def put(
        self, key: str, chunks: AsyncIterable[bytes], *, max_size: int | None = None, expected_size: int | None = None
    ) -> BlobInfo:
        meter = _Meter(max_size=max_size, expected_size=expected_size)
        stream_error: BaseException | None = None

        async def metered() -> AsyncIterator[bytes]:
            nonlocal stream_error
            try:
                async for chunk in chunks:
                    meter.feed(chunk)
                    yield chunk
                meter.finish()  # raising here, before the last part is sent, aborts the upload
            except BaseException as exc:
                stream_error = exc
                raise

        try:
            await obstore.put_async(
                self.store, key, metered(), chunk_size=self.part_size, max_concurrency=self.concurrency, use_multipart=True
            )
        except BaseException as exc:
            await asyncio.shield(self.delete(key))
            # obstore wraps an error raised by the stream in its own; hand back the original.
            if stream_error is not None and stream_error is not exc:
                raise stream_error from None
            raise
        return BlobInfo(key=key, size=meter.size, sha256=meter.finish())

    async def get(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        if end is not None and end <= start:
            return
        options: GetOptions = {"range": (start, end) if end is not None else {"offset": start}} if (start or end) else {}
        try:
            result = await obstore.get_async(self.store, key, options=options)
        except (ObjectNotFound, FileNotFoundError):
            raise BlobNotFound(key) from None
        async for chunk in result.stream(min_chunk_size=CHUNK_SIZE):
            # A fast network hands over bursts of several MiB at once: copy them out a chunk at a time, so a reader
            # holds at most a chunk or two in Python whatever the network did (tests/files/test_storage.py).
            view = memoryview(chunk)
            for offset in range(0, len(view), CHUNK_SIZE):
                yield bytes(view[offset : offset + CHUNK_SIZE])

    async def stat(self, key: str) -> int:
        try:
            meta = await obstore.head_async(self.store, key)
        except (ObjectNotFound, FileNotFoundError):
            raise BlobNotFound(key) from None
        return int(meta["size"])

    async def delete(self, key: str) -> None:
        with contextlib.suppress(ObjectNotFound, FileNotFoundError):
            await obstore.delete_async(self.store, key)

    async def copy(self, source: str, target: str) -> None:
        try:
            await obstore.copy_async(self.store, source, target)
        except (ObjectNotFound, FileNotFoundError):
            raise BlobNotFound(source) from None

    def local_path(self, key: str) -> Path | None:
        """None: S3 objects are not files on this host."""
        del key
        return None

    async def presign(self, key: str, method: str, expires_in: timedelta) -> str:
        verb: Literal["GET", "PUT"] = "PUT" if method.upper() == "PUT" else "GET"
        return await obstore.sign_async(self.store, verb, key, expires_in)

    async def presign_put(self, staging_key: str, expires_in: timedelta) -> str | None:
        return await self.presign(_s3_staged(staging_key), "PUT", expires_in)

    async def presign_get(self, key: str, expires_in: timedelta) -> str | None:
        return await self.presign(key, "GET", expires_in)

    async def _parts(self, staging_key: str) -> list[tuple[int, str]]:
        found: list[tuple[int, str]] = []
        async for batch in obstore.list(self.store, prefix=f"staging/{staging_key}/"):
            for entry in batch:
                path = str(entry["path"])
                with contextlib.suppress(ValueError):
                    found.append((int(path.rsplit("/", 1)[1]), path))
        return sorted(found)

    async def stage_append(self, staging_key: str, offset: int, chunks: AsyncIterable[bytes], *, digest: Any = None) -> int:
        part = _s3_part(staging_key, offset)
        try:
            blob = await self.put(part, chunks if digest is None else _hashed(chunks, digest))
            if blob.size == 0:
                await self.delete(part)
        except BaseException:
            await asyncio.shield(self.delete(part))
            raise
        return blob.size

    async def stage_read(self, staging_key: str, length: int) -> AsyncIterator[bytes]:
        sent = 0
        async for chunk in self._stage_read_all(staging_key, length):
            if sent + len(chunk) >= length:
                yield chunk[: length - sent]
                return
            sent += len(chunk)
            yield chunk

    async def _stage_read_all(self, staging_key: str, length: int) -> AsyncIterator[bytes]:
        """The staged parts from offset 0, whole, until they hold `length` bytes."""
        if length <= 0:
            return
        parts = dict(await self._parts(staging_key))
        if not parts:  # the bytes a client PUT through `presign_put`, if any
            async for chunk in self.get(_s3_staged(staging_key), 0, length):
                yield chunk
            return
        position = 0
        while position < length:
            part = parts.get(position)
            if part is None:
                raise BlobNotFound(staging_key)
            async for chunk in self.get(part):
                position += len(chunk)
                yield chunk

    async def stage_size(self, staging_key: str) -> int | None:
        with contextlib.suppress(BlobNotFound):
            return await self.stat(_s3_staged(staging_key))
        parts = await self._parts(staging_key)
        if not parts:
            return None
        return sum([await self.stat(path) for _offset, path in parts])

    async def stage_seal(self, staging_key: str, length: int, key: str, *, sha256: str | None = None) -> BlobInfo:
        del sha256  # the bytes are read anyway: S3 computes nothing for us
        if not await self._parts(staging_key):
            with contextlib.suppress(BlobNotFound):
                return await self._seal_object(_s3_staged(staging_key), length, key)
        return await self.put(key, self.stage_read(staging_key, length), expected_size=length)

    async def _seal_object(self, source: str, length: int, key: str) -> BlobInfo:
        """A whole staged object as the blob: hashed as it is read, then copied server-side."""
        digest = hashlib.sha256()
        size = 0
        async for chunk in self.get(source):
            digest.update(chunk)
            size += len(chunk)
        if size != length:
            raise SizeMismatch(length, size)
        await self.copy(source, key)
        return BlobInfo(key=key, size=size, sha256=digest.hexdigest())

    async def stage_discard(self, staging_key: str) -> None:
        for _offset, path in await self._parts(staging_key):
            await self.delete(path)
        await self.delete(_s3_staged(staging_key))


def _s3_part(staging_key: str, offset: int) -> str:
    return f"staging/{staging_key}/{offset:016d}"


def _s3_staged(staging_key: str) -> str:
    return f"staging/{staging_key}"


def open_storage(settings: Settings) -> Storage:
    """The backend `NUBES_STORAGE_URL` names: S3 for `s3://...`, the local disk otherwise.

    On disk, the leftovers of writes a killed server never finished are swept; on S3 an unfinished
    multipart upload is invisible and is removed by the bucket's lifecycle rule for incomplete uploads.
    """
    url = settings.storage_url
    if url.startswith("s3://"):
        return S3Storage.from_url(url)
    root = Path(urlsplit(url).path) if url else settings.data_dir / "blobs"
    storage = LocalStorage(root, secret=settings.secret_key)
    storage.sweep()
    return storage

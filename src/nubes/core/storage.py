"""Blob storage: one async interface over the local disk and S3, streaming in constant memory both ways.

Blobs are keyed by an id the files domain draws (a random hex string), never by a user-chosen
name, so no path a client sends ever reaches the filesystem or the bucket. A key is referenced by
exactly one row (a file's current content or one of its versions), so deleting a row's blob never
touches another row's bytes; a copy is a real copy (a server-side copy on S3).

A write is visible under its key only once it is complete, its size matches what was promised and
its SHA-256 is known: on disk it is written to `tmp/`, fsynced and renamed into place; on S3 the
object appears only when its (multipart) upload completes, and a failed stream aborts the upload.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import os
import shutil
import time
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol
from urllib.parse import parse_qs, quote, urlsplit

import obstore
from obstore.exceptions import NotFoundError as ObjectNotFound
from obstore.store import S3Store

from nubes.config import Settings

if TYPE_CHECKING:
    from obstore import GetOptions

CHUNK_SIZE = 1024 * 1024
"""Bytes per chunk read from a blob; a download holds about three chunks in memory at once (tests/files/test_storage.py).

Each chunk costs a thread hop and a trip through the ASGI server, so small chunks cap a download's speed:
on the local disk under uvicorn, 1 GiB downloads ran about 1.7x faster with 1 MiB chunks than with 64 KiB,
and 4 MiB was faster again but held over 12 MiB per download (bench/bench_files_transfer.py measures
downloads against nginx).
"""

STALE_AFTER = 3600.0
"""Seconds without a write after which a temporary file is a dead write's leftover."""

_WRITE_BATCH = 1024 * 1024  # local writes are batched so each thread hop moves a useful amount


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

    async def presign(self, key: str, method: str, expires_in: timedelta) -> str:
        """A URL that lets its holder GET or PUT this one blob until it expires."""
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

    def feed(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.limit is not None and self.size > self.limit:
            if self.expected_size is not None and (self.max_size is None or self.size <= self.max_size):
                raise SizeMismatch(self.expected_size, self.size)
            raise TooLarge(self.limit if self.max_size is None else self.max_size)
        self.digest.update(chunk)

    def finish(self) -> str:
        if self.expected_size is not None and self.size != self.expected_size:
            raise SizeMismatch(self.expected_size, self.size)
        return self.digest.hexdigest()


def sign_token(secret: str, key: str, method: str, expires: int) -> str:
    """The HMAC that a local presigned URL carries (method, key and expiry are all covered)."""
    message = f"{method.upper()}\n{key}\n{expires}".encode()
    mac = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


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
        handle = await asyncio.to_thread(_open_new, temporary)
        try:
            pending: list[bytes] = []
            pending_size = 0
            async for chunk in chunks:
                meter.feed(chunk)
                pending.append(chunk)
                pending_size += len(chunk)
                if pending_size >= _WRITE_BATCH:
                    await asyncio.to_thread(handle.write, b"".join(pending))
                    pending, pending_size = [], 0
            if pending:
                await asyncio.to_thread(handle.write, b"".join(pending))
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
        try:
            await asyncio.to_thread(handle.seek, start)
            remaining = None if end is None else max(end - start, 0)
            while remaining is None or remaining > 0:
                want = CHUNK_SIZE if remaining is None else min(CHUNK_SIZE, remaining)
                chunk = await asyncio.to_thread(handle.read, want)
                if not chunk:
                    return
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk
        finally:
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
        # As bytes: compare_digest refuses str with non-ASCII characters, which a URL can carry.
        return hmac.compare_digest(sign_token(self.secret, key, method, expires).encode(), signature.encode())

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


def _open_new(path: Path) -> Any:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return os.fdopen(fd, "wb")


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
            yield bytes(chunk)

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

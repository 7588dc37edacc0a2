"""Background jobs of the files domain: thumbnails of images and of PDFs' first pages, made by a durable queue
and a worker loop.

Writing an image's content (upload, new version, restore, copy) puts a `pending` row in
`file_thumbnails` in the same transaction, so the job exists exactly when the content does and
survives a restart; no image is decoded during a request. The worker claims due rows with a lease
(another replica retries after it), decodes in a thread with Pillow's decompression-bomb limit, and
stores a WebP under a key derived from the file, its content and the size. A PDF's first page is
rendered by PDFium in a child process that renders one PDF after the other (`first_page.py`: PDFium is not
thread-safe, and a hostile PDF must not crash, hang or bloat the server), with memory and CPU limits and a
timeout, at a scale chosen from the page's size. A broken, encrypted or oversized image or PDF is marked `failed` at once with the
reason (no retry can fix it); a storage or database error is retried with backoff, at most
MAX_ATTEMPTS times.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO, Any, cast

import structlog
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nubes.core.db import utcnow
from nubes.core.jobs import Worker, after_commit, backoff, claim, wake
from nubes.core.storage import Storage, StorageError
from nubes.files.thumbnails import first_page
from nubes.files.thumbnails.models import FileThumbnail
from nubes.files.tree.models import FileNode

log = structlog.get_logger("nubes.files.thumbnails")

THUMBNAIL_SIZE = 256
"""The longest side of a thumbnail, in pixels."""

MAX_PIXELS = 40_000_000
"""Images with more pixels are not decoded (a decompression bomb fits a huge image in a few bytes)."""

MAX_SOURCE_BYTES = 64 * 1024 * 1024
"""Larger files get no thumbnail: they would be read whole into memory."""

PDF_SECONDS = 30
"""Seconds the child process may take to render a PDF's first page (it also has a CPU limit of its own)."""

MAX_ATTEMPTS = 5
LEASE = timedelta(minutes=5)
"""How long a worker holds a thumbnail it claimed, by default (`NUBES_JOB_LEASE`): then another may retry it."""
_FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF")
_IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/tiff"}
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tif", ".tiff")
_PDF_RENDERER = Path(first_page.__file__)

# Pillow itself refuses images past twice this limit; the worker checks the size before decoding too.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


class BadImage(Exception):
    """The content is not an image Pillow can read safely; retrying cannot help."""


def is_pdf(node: FileNode) -> bool:
    """Whether a file is a PDF (by its declared type or its name): its thumbnail is its first page."""
    return node.kind == "file" and (node.content_type == "application/pdf" or node.name.lower().endswith(".pdf"))


def wants_thumbnail(node: FileNode) -> bool:
    """Whether a file's content is a kind that gets a thumbnail: an image, or a PDF (its first page)."""
    is_image = node.content_type in _IMAGE_TYPES or node.name.lower().endswith(_IMAGE_SUFFIXES)
    return node.kind == "file" and (is_image or is_pdf(node))


def thumbnail_key(file_id: uuid.UUID, sha256: str, size: int) -> str:
    """The blob key of a thumbnail, derived from the file, its content and the size (hex, as storage keys are)."""
    return hashlib.sha256(f"thumbnail:{file_id}:{sha256}:{size}".encode()).hexdigest()


async def schedule(*, session: AsyncSession, node: FileNode, new: bool = False) -> list[str]:
    """Queue a thumbnail of the node's current content (in the caller's transaction).

    Returns the blob keys the earlier thumbnail leaves behind, to delete once the transaction commits.
    `new`: the node was made in this transaction, so it has no thumbnail row to look up yet.
    """
    row = None if new else await session.get(FileThumbnail, node.id)
    if not wants_thumbnail(node) or node.sha256 is None:
        if row is None:
            return []
        await session.delete(row)
        return [row.blob_key] if row.blob_key else []
    if row is not None and row.source_sha256 == node.sha256 and row.state != "failed":
        return []
    old = [row.blob_key] if row is not None and row.blob_key else []
    if row is None:
        row = FileThumbnail(file_id=node.id, tenant_id=node.tenant_id, source_sha256=node.sha256)
        session.add(row)
    row.source_sha256, row.state, row.attempts, row.error = node.sha256, "pending", 0, None
    row.blob_key, row.size, row.width, row.height = None, 0, 0, 0
    row.next_attempt_at = row.updated_at = utcnow()
    await session.flush()
    after_commit(session, ThumbnailWorker.wake_running)  # the job is in its table once the caller commits
    return old


async def keys_of(*, session: AsyncSession, file_ids: list[uuid.UUID]) -> list[str]:
    """The thumbnail blobs of these files (to free when they are purged)."""
    if not file_ids:
        return []
    rows = await session.scalars(
        select(FileThumbnail.blob_key).where(FileThumbnail.file_id.in_(file_ids), FileThumbnail.blob_key.is_not(None))
    )
    return [key for key in rows if key]


@dataclass(frozen=True, slots=True)
class Rendered:
    """A thumbnail made from an image."""

    data: bytes
    width: int
    height: int


def render(data: bytes, size: int = THUMBNAIL_SIZE) -> Rendered:
    """A WebP of at most `size` pixels a side; BadImage when the content is no safe, readable image."""
    try:
        with Image.open(io.BytesIO(data), formats=_FORMATS) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise BadImage(f"{width}x{height} pixels is more than the {MAX_PIXELS} a thumbnail is made from")
            image.draft("RGB", (size, size))  # JPEG decodes at a reduced scale: far less memory and time
            picture = ImageOps.exif_transpose(image)
            picture.thumbnail((size, size))
            if picture.mode not in {"RGB", "RGBA"}:
                picture = picture.convert("RGBA" if "A" in picture.getbands() or "transparency" in picture.info else "RGB")
            out = io.BytesIO()
            picture.save(out, format="WEBP", quality=80)
            return Rendered(out.getvalue(), picture.width, picture.height)
    except BadImage:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        ValueError,
        SyntaxError,
        EOFError,
    ) as exc:
        raise BadImage(f"{type(exc).__name__}: {exc}") from None


class PdfRenderer:
    """One child process that renders PDFs one after the other (`first_page.py --serve`), one at a time (PDFium is not
    thread-safe): started on first use, and replaced after RECYCLE_AFTER PDFs (a long life would keep the memory a
    big page took) and after a crash, a limit hit or a timeout. Blocking: call it from a thread."""

    RECYCLE_AFTER = 500

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._errors: IO[bytes] | None = None
        self._rendered = 0

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs."""
        return self._process.pid if self._process is not None and self._process.poll() is None else None

    def render(self, data: bytes, size: int, timeout: float) -> tuple[int, bytes]:
        """The child's answer for one PDF: (0, WebP) or (BAD_PDF, reason); BadImage when the child stopped."""
        with self._lock:
            process = self._running()
            stdin, stdout = cast("IO[bytes]", process.stdin), cast("IO[bytes]", process.stdout)
            killed = threading.Event()

            def kill() -> None:
                killed.set()
                process.kill()

            timer = threading.Timer(timeout, kill)
            timer.start()
            try:
                stdin.write(first_page.REQUEST.pack(len(data), size) + data)
                stdin.flush()
                status, length = first_page.ANSWER.unpack(_exactly(stdout, first_page.ANSWER.size))
                body = _exactly(stdout, length)
            except (OSError, EOFError) as exc:
                raise self._stopped(process, killed.is_set(), timeout) from exc
            finally:
                timer.cancel()
            self._rendered += 1
            if self._rendered >= self.RECYCLE_AFTER:
                self._discard()
            return status, body

    def close(self) -> None:
        """End the child (it finishes the PDF in hand first); the next render starts another."""
        with self._lock:
            self._discard()

    def _running(self) -> subprocess.Popen[bytes]:
        if self._process is None or self._process.poll() is not None:
            self._discard()
            self._errors = tempfile.TemporaryFile()  # noqa: SIM115 - kept open for the child's life, closed in _discard
            self._process = subprocess.Popen(  # noqa: S603 - this interpreter and our own script; PDFs come on stdin
                [sys.executable, "-I", str(_PDF_RENDERER), first_page.SERVE],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._errors,
            )
            self._rendered = 0
        return self._process

    def _stopped(self, process: subprocess.Popen[bytes], killed: bool, timeout: float) -> BadImage:
        """Why the child ended while rendering (it is discarded: the next PDF starts another)."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
        last = ""
        if self._errors is not None:
            self._errors.seek(0)
            lines = self._errors.read().decode("utf-8", errors="replace").strip().splitlines()
            last = lines[-1] if lines else ""
        self._discard()
        if killed:
            return BadImage(f"rendering the first page took longer than {timeout:g} s")
        code = process.returncode
        how = f"signal {-code}" if code is not None and code < 0 else f"status {code}"
        # A crash or a limit hit: PDFium choked on this file, and would again.
        return BadImage(f"the PDF renderer stopped ({how}{': ' + last if last else ''})")

    def _discard(self) -> None:
        process, errors = self._process, self._errors
        self._process = self._errors = None
        if process is not None:
            with contextlib.suppress(OSError):
                cast("IO[bytes]", process.stdin).close()  # its loop ends at the end of its input
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            cast("IO[bytes]", process.stdout).close()
        if errors is not None:
            errors.close()


def _exactly(stream: IO[bytes], count: int) -> bytes:
    data = stream.read(count)
    if len(data) != count:
        raise EOFError(f"{len(data)} of {count} bytes")
    return data


_PDFS = PdfRenderer()


def render_pdf(data: bytes, size: int = THUMBNAIL_SIZE) -> Rendered:
    """A WebP of a PDF's first page, at most `size` pixels a side; BadImage when it cannot be rendered.

    Blocking (run it in a thread): the page is rendered by the renderer's child process, within PDF_SECONDS.
    """
    status, body = _PDFS.render(data, size, PDF_SECONDS)
    if status == first_page.BAD_PDF:
        raise BadImage(body.decode("utf-8", errors="replace").strip() or "the PDF cannot be rendered")
    try:
        with Image.open(io.BytesIO(body), formats=["WEBP"]) as made:
            width, height = made.size
    except (UnidentifiedImageError, OSError) as exc:
        raise BadImage(f"the PDF renderer gave no image ({type(exc).__name__})") from None
    return Rendered(body, width, height)


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


class ThumbnailWorker(Worker):
    """Makes due thumbnails: woken after a request queued some, and every half minute for retries and restarts."""

    name = "nubes-thumbnails"
    log_prefix = "thumbnails"
    interval = 30.0

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], storage_of: Callable[[], Storage], *, lease: timedelta = LEASE
    ) -> None:
        super().__init__()
        self._sessions = sessions
        self._lease = lease
        self._storage_of = storage_of  # a callable: tests swap the app's storage after the worker is built

    @classmethod
    def wake_running(cls) -> None:
        """Wake the started workers, here and in every other process (a transaction that queued thumbnails committed)."""
        wake(cls.name)

    async def run_due(self, limit: int = 20) -> int:
        """Make the thumbnails that are due (at most `limit`); return how many rows were settled."""
        async with self._sessions() as session:
            due = list(
                await session.execute(
                    select(FileThumbnail.file_id, FileThumbnail.source_sha256, FileThumbnail.next_attempt_at)
                    .where(
                        FileThumbnail.state == "pending",
                        FileThumbnail.next_attempt_at <= utcnow(),
                        FileThumbnail.attempts < MAX_ATTEMPTS,
                    )
                    .order_by(FileThumbnail.next_attempt_at)
                    .limit(limit)
                )
            )
            await session.commit()
        settled = 0
        for file_id, sha256, due_at in due:
            if await self._claim(file_id, sha256, due_at):
                await self._make(file_id, sha256)
                settled += 1
        return settled

    async def _claim(self, file_id: uuid.UUID, sha256: str, due_at: Any) -> bool:
        return await claim(
            self._sessions,
            update(FileThumbnail)
            .where(
                FileThumbnail.file_id == file_id,
                FileThumbnail.source_sha256 == sha256,
                FileThumbnail.state == "pending",
                FileThumbnail.next_attempt_at == due_at,
            )
            .values(next_attempt_at=utcnow() + self._lease, attempts=FileThumbnail.attempts + 1),
        )

    async def _make(self, file_id: uuid.UUID, sha256: str) -> None:
        storage: Storage = self._storage_of()
        async with self._sessions() as session:
            node = await session.get(FileNode, file_id)
            await session.commit()
        if node is None or node.blob_key is None or node.sha256 != sha256:
            return  # purged or rewritten meanwhile: the row is gone or was reset for the new content
        values: dict[str, Any]
        key: str | None = None
        try:
            if node.size > MAX_SOURCE_BYTES:
                raise BadImage(f"{node.size} bytes is more than the {MAX_SOURCE_BYTES} a thumbnail is made from")
            data = b"".join([chunk async for chunk in storage.get(node.blob_key)])
            rendered = await asyncio.to_thread(render_pdf if is_pdf(node) else render, data)
            key = thumbnail_key(file_id, sha256, THUMBNAIL_SIZE)
            await storage.put(key, _one(rendered.data), expected_size=len(rendered.data))
            values = {
                "state": "ready",
                "blob_key": key,
                "size": len(rendered.data),
                "width": rendered.width,
                "height": rendered.height,
                "error": None,
            }
        except BadImage as exc:
            log.info("thumbnails.bad_image", file_id=str(file_id), error=str(exc)[:200])
            values = {"state": "failed", "error": str(exc)[:300]}
        except StorageError as exc:
            log.warning("thumbnails.storage_failed", file_id=str(file_id), error=type(exc).__name__)
            async with self._sessions() as session:
                row = await session.get(FileThumbnail, file_id)
                attempts = row.attempts if row is not None else MAX_ATTEMPTS
                await session.commit()
            values = {"next_attempt_at": utcnow() + backoff(attempts), "error": f"storage: {type(exc).__name__}"}
            if attempts >= MAX_ATTEMPTS:
                values["state"] = "failed"
        values["updated_at"] = utcnow()
        async with self._sessions() as session:
            result = await session.execute(
                update(FileThumbnail)
                .where(FileThumbnail.file_id == file_id, FileThumbnail.source_sha256 == sha256)
                .values(**values)
            )
            await session.commit()
        if key is not None and not getattr(result, "rowcount", 0):
            # The file was purged or rewritten while we worked: this thumbnail belongs to nothing.
            with contextlib.suppress(StorageError):
                await storage.delete(key)


async def forget(*, session: AsyncSession, file_ids: list[uuid.UUID]) -> None:
    """Remove the thumbnail rows of these files (their blobs are deleted by the caller after commit)."""
    if file_ids:
        await session.execute(delete(FileThumbnail).where(FileThumbnail.file_id.in_(file_ids)))

"""Rules of uploads: tus resumable uploads, presigned uploads and downloads, and the periodic sweep.

An upload in progress is a `FileUpload` row plus its bytes staged in the storage backend under the
row's staging key (`Storage.stage_*`: appended chunk by chunk, durable before the offset is
acknowledged, sealed into the file's blob when complete).

The quota is charged for the whole declared length when the upload is created (a reservation);
an upload that ends without a file (terminated, expired, refused) gives it back.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from datetime import datetime, timedelta
from typing import Any, cast

import structlog
from sqlalchemy import CursorResult, delete, select
from sqlalchemy import update as update_rows
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nubes.config import Settings
from nubes.core import crypto
from nubes.core.db import utcnow
from nubes.core.errors import BadRequest, Conflict, NotFound, NubesError, PayloadTooLarge, UnprocessableEntity
from nubes.core.principal import Principal
from nubes.core.storage import BlobInfo, BlobNotFound, SizeMismatch, Storage
from nubes.files.quota import service as quota
from nubes.files.tree import service as tree
from nubes.files.tree.models import FileNode
from nubes.files.uploads.models import FileUpload
from nubes.files.versions import service as versions

log = structlog.get_logger("nubes.files.uploads")

TUS_VERSION = "1.0.0"
TUS_MAX_SIZE = 1 << 40
TUS_EXPIRES_IN = timedelta(hours=24)
PRESIGN_EXPIRES_IN = timedelta(minutes=15)
DOWNLOAD_EXPIRES_IN = timedelta(minutes=5)
CHECKSUM_ALGORITHMS = ("sha1", "sha256")


class ChecksumMismatch(NubesError):
    """tus checksum extension: the chunk did not match its Upload-Checksum; it was discarded."""

    status, code, title = 460, "checksum-mismatch", "Checksum mismatch"


class OffsetMismatch(Conflict):
    """tus core: the PATCH started elsewhere than the upload's offset."""

    code, title = "offset-mismatch", "Upload-Offset mismatch"


class Gone(NubesError):
    """The upload or URL expired or was already used."""

    status, code, title = 410, "gone", "Gone"


class PresignedUrlRefused(NubesError):
    """A presigned Nubes URL that is tampered with, expired or used already."""

    status, code, title = 403, "invalid-signature", "URL refused"


# --- staging: where the bytes of an upload in progress live ----------------------------------------

_locks: dict[uuid.UUID, asyncio.Lock] = {}
_hashes: dict[uuid.UUID, tuple[int, Any]] = {}  # upload id -> (offset, sha256 of bytes 0..offset), this process only


def lock_of(upload_id: uuid.UUID) -> asyncio.Lock:
    """The lock one process holds while it writes an upload's bytes."""
    lock = _locks.get(upload_id)
    if lock is None:
        lock = _locks[upload_id] = asyncio.Lock()
    return lock


class _ChunkMeter:
    """Counts a chunk against the room left and checks its tus checksum."""

    def __init__(self, room: int, checksum: tuple[str, bytes] | None) -> None:
        self.room = room
        self.size = 0
        self.checksum = checksum
        self.digest = hashlib.new(checksum[0]) if checksum else None

    def feed(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.room:
            raise PayloadTooLarge(f"This chunk goes past the upload's declared length ({self.room} bytes were left).")
        if self.digest is not None:
            self.digest.update(chunk)

    def check(self) -> None:
        if self.checksum is not None and self.digest is not None and not crypto.equal(self.digest.digest(), self.checksum[1]):
            raise ChecksumMismatch(
                f"The chunk's {self.checksum[0]} does not match Upload-Checksum; it was discarded, send it again."
            )

    async def metered(self, chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
        """The chunks, counted; the checksum is checked at the end, before the storage keeps anything."""
        async for chunk in chunks:
            self.feed(chunk)
            yield chunk
        self.check()


async def _staged(storage: Storage, upload: FileUpload) -> AsyncIterator[bytes]:
    """The upload's acknowledged bytes (0 to offset), in order."""
    try:
        async for chunk in storage.stage_read(upload.staging_key, upload.offset):
            yield chunk
    except BlobNotFound:
        raise NotFound("The upload's bytes are gone; start it again.") from None


async def _running_hash(storage: Storage, upload: FileUpload) -> Any:
    """The sha256 of the upload's acknowledged bytes: kept in memory, recomputed after a restart."""
    cached = _hashes.get(upload.id)
    if cached is not None and cached[0] == upload.offset:
        return cached[1].copy()
    digest = hashlib.sha256()
    async for chunk in _staged(storage, upload):
        digest.update(chunk)
    return digest


async def append(storage: Storage, upload: FileUpload, chunks: AsyncIterable[bytes], checksum: tuple[str, bytes] | None) -> int:
    """Append a chunk at the upload's offset; returns the new offset once the bytes are durable.

    A chunk that fails (checksum, too long, the client went away) is discarded whole: the offset
    does not move. The caller holds the upload's lock.
    """
    running = await _running_hash(storage, upload)
    meter = _ChunkMeter(upload.length - upload.offset, checksum)
    # The storage hashes what it writes into `running` (on the local disk, in the writing thread); a chunk
    # that fails leaves this copy unused.
    await storage.stage_append(upload.staging_key, upload.offset, meter.metered(chunks), digest=running)
    new_offset = upload.offset + meter.size
    _hashes[upload.id] = (new_offset, running)
    return new_offset


async def discard_staging(storage: Storage, upload: FileUpload) -> None:
    """Delete an upload's staging bytes (a missing object is fine)."""
    _hashes.pop(upload.id, None)
    _locks.pop(upload.id, None)
    await storage.stage_discard(upload.staging_key)


async def seal(storage: Storage, upload: FileUpload) -> BlobInfo:
    """Turn a complete upload's staging bytes into a new blob (visible only once whole); returns what was stored."""
    cached = _hashes.get(upload.id)
    known = cached[1].hexdigest() if cached is not None and cached[0] == upload.offset == upload.length else None
    try:
        info = await storage.stage_seal(upload.staging_key, upload.length, uuid.uuid4().hex, sha256=known)
    except (BlobNotFound, SizeMismatch):
        raise NotFound("The upload's bytes are gone; start it again.") from None
    _hashes.pop(upload.id, None)
    return info


# --- a streamed upload: check, stream, write ------------------------------------------------------


async def receive(
    *,
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    storage: Storage,
    chunks: AsyncIterable[bytes],
    expected_size: int | None,
    content_type: str,
    parent_id: uuid.UUID | None = None,
    name: str = "",
    target_id: uuid.UUID | None = None,
) -> FileNode:
    """A file's bytes from one request body: a new file `name` in `parent_id` (None: the root), or new content of `target_id`.

    Two phases: check first (permission, name, the declared size against the quota) and end that read
    transaction, so the stream holds no snapshot, lock or pooled connection; then stream the bytes into a
    new blob and write the node, checking again (the folder may have gone meanwhile). A new file of a few
    bytes (declared, at most `tree.SMALL_UPLOAD`) takes one transaction instead (`tree.upload_small`). The caller commits.
    """
    if target_id is not None:
        room = await tree.check_replace(
            session=session, settings=settings, principal=principal, node_id=target_id, expected_size=expected_size
        )
        await session.commit()
        return await versions.replace_content(
            session=session,
            settings=settings,
            principal=principal,
            storage=storage,
            node_id=target_id,
            content_type=content_type,
            chunks=chunks,
            expected_size=expected_size,
            room=room,
        )
    if expected_size is not None and expected_size <= tree.SMALL_UPLOAD:
        # One transaction: end the one authentication may have begun, so that no lock is held while the bytes
        # are written, then check and write together.
        if session.in_transaction():
            await session.commit()
        return await tree.upload_small(
            session=session,
            settings=settings,
            principal=principal,
            storage=storage,
            parent_id=parent_id,
            name=name,
            content_type=content_type,
            chunks=chunks,
            expected_size=expected_size,
        )
    room = await tree.check_upload(
        session=session, settings=settings, principal=principal, parent_id=parent_id, name=name, expected_size=expected_size
    )
    await session.commit()
    return await tree.upload(
        session=session,
        settings=settings,
        principal=principal,
        storage=storage,
        parent_id=parent_id,
        name=name,
        content_type=content_type,
        chunks=chunks,
        expected_size=expected_size,
        room=room,
    )


# --- uploads in the database -----------------------------------------------------------------------


async def create_upload(
    *,
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    kind: str,
    length: int,
    name: str | None,
    parent_id: uuid.UUID | None,
    target_id: uuid.UUID | None,
    content_type: str,
    sha256: str | None = None,
    expires_in: timedelta,
) -> FileUpload:
    """Check where the file will go, reserve `length` bytes of quota, and record the upload."""
    if length < 0:
        raise UnprocessableEntity("The length must be zero or more bytes.")
    if target_id is not None:
        await tree.check_replace(session=session, settings=settings, principal=principal, node_id=target_id, expected_size=length)
        clean = ""
    else:
        folder, clean = await tree.claim_name(session=session, principal=principal, folder_id=parent_id, name=name or "")
        parent_id = folder.id
    await quota.charge(session=session, settings=settings, principal=principal, size=length)
    upload = FileUpload(
        tenant_id=principal.tenant_id,
        owner_id=principal.user_id,
        kind=kind,
        length=length,
        offset=0,
        parent_id=parent_id,
        target_id=target_id,
        name=clean,
        content_type=content_type[:255],
        sha256=sha256,
        staging_key=uuid.uuid4().hex,
        reserved=length,
        expires_at=utcnow() + expires_in,
    )
    session.add(upload)
    await session.flush()
    return upload


async def get_upload(*, session: AsyncSession, principal: Principal, upload_id: uuid.UUID, kind: str) -> FileUpload:
    """One open upload of the principal (another user's or tenant's is a 404); an expired one is 410."""
    upload = await session.scalar(
        select(FileUpload).where(
            FileUpload.id == upload_id,
            FileUpload.tenant_id == principal.tenant_id,
            FileUpload.owner_id == principal.user_id,
            FileUpload.kind == kind,
        )
    )
    if upload is None:
        raise NotFound(f"No upload {upload_id} of yours.")
    if upload.state != "open":
        raise Gone("This upload is finished already.")
    if upload.expires_at <= utcnow():
        raise Gone("This upload expired; start it again.")
    return upload


async def advance(*, session: AsyncSession, upload_id: uuid.UUID, old: int, new: int) -> None:
    """Record a new offset, only if nobody moved it meanwhile."""
    result = cast(
        "CursorResult[Any]",
        await session.execute(
            update_rows(FileUpload)
            .where(FileUpload.id == upload_id, FileUpload.offset == old, FileUpload.state == "open")
            .values(offset=new)
            .execution_options(synchronize_session=False)
        ),
    )
    if result.rowcount != 1:
        raise OffsetMismatch("Another request moved this upload meanwhile; ask for its offset (HEAD) and resume from there.")


async def complete(
    *, session: AsyncSession, settings: Settings, storage: Storage, principal: Principal, upload: FileUpload, info: BlobInfo
) -> FileNode:
    """Make the file (or the new version) from a sealed blob; the quota was reserved at creation.

    The blob is owned by the transaction from here: a rollback deletes it.
    """
    tree.own_blob(session=session, storage=storage, key=info.key)
    extra = info.size - upload.reserved
    if extra > 0:  # never for tus (the length is fixed); a defensive charge otherwise
        await quota.charge(session=session, settings=settings, principal=principal, size=extra)
    elif extra < 0:
        await quota.release(session=session, tenant_id=upload.tenant_id, user_id=upload.owner_id, size=-extra)
    if upload.target_id is not None:
        node = await versions.replace_with_blob(
            session=session,
            principal=principal,
            storage=storage,
            node_id=upload.target_id,
            info=info,
            content_type=upload.content_type,
        )
    else:
        node = await tree.create_file_from_blob(
            session=session,
            principal=principal,
            storage=storage,
            folder_id=upload.parent_id,
            name=upload.name,
            info=info,
            content_type=upload.content_type,
        )
    await session.execute(
        update_rows(FileUpload)
        .where(FileUpload.id == upload.id)
        .values(state="done", offset=upload.length, reserved=0, node_id=node.id)
        .execution_options(synchronize_session=False)
    )
    if upload.kind == "tus":
        await session.execute(delete(FileUpload).where(FileUpload.id == upload.id))
    await session.flush()
    return node


async def append_chunk(
    *,
    session: AsyncSession,
    settings: Settings,
    storage: Storage,
    principal: Principal,
    upload: FileUpload,
    chunks: AsyncIterable[bytes],
    checksum: tuple[str, bytes] | None,
) -> FileNode | None:
    """Take a tus chunk at the upload's offset (checked by the caller, who holds the upload's lock) and record it.

    No transaction is held while the bytes stream; `upload.offset` moves once they are durable. The last
    chunk finishes the upload: the file it made is returned (None before).
    """
    await session.commit()
    new_offset = await append(storage, upload, chunks, checksum)
    await advance(session=session, upload_id=upload.id, old=upload.offset, new=new_offset)
    await session.commit()
    upload.offset = new_offset
    if new_offset != upload.length:
        return None
    return await finish(session=session, settings=settings, storage=storage, principal=principal, upload=upload)


async def finish(
    *, session: AsyncSession, settings: Settings, storage: Storage, principal: Principal, upload: FileUpload
) -> FileNode:
    """End a complete upload: seal its staged bytes into a blob, make the file, commit, then drop the staging.

    When the folder or file went away meanwhile, the sealed blob goes with the rollback and the upload ends
    here (its reservation given back) rather than pointing at bytes that no longer exist.
    """
    info = await seal(storage, upload)
    try:
        node = await complete(session=session, settings=settings, storage=storage, principal=principal, upload=upload, info=info)
    except NubesError:
        upload_id = upload.id
        await session.rollback()
        current = await session.get(FileUpload, upload_id)
        if current is not None:
            await abandon(session=session, storage=storage, upload=current)
        raise
    await session.commit()
    await discard_staging(storage, upload)
    return node


async def finalize_presigned(
    *, session: AsyncSession, settings: Settings, storage: Storage, principal: Principal, upload_id: uuid.UUID
) -> FileNode:
    """Make the file from a presigned upload's bytes once they all arrived (their size and sha256 are checked)."""
    upload = await get_upload(session=session, principal=principal, upload_id=upload_id, kind="presign")
    arrived = await presigned_size(storage, upload)
    if arrived is None or upload.offset < 0:
        raise tree.UploadIncomplete("No bytes arrived at the presigned URL yet; PUT them there first.")
    if arrived != upload.length:
        await abandon(session=session, storage=storage, upload=upload)
        raise tree.UploadIncomplete(f"{arrived} bytes arrived but {upload.length} were declared; nothing was kept.")
    upload.offset = arrived
    await session.commit()
    info = await seal(storage, upload)
    if upload.sha256 is not None and info.sha256 != upload.sha256:
        await storage.delete(info.key)
        await abandon(session=session, storage=storage, upload=upload)
        raise UnprocessableEntity("The bytes that arrived do not match the declared sha256; nothing was kept.")
    node = await complete(session=session, settings=settings, storage=storage, principal=principal, upload=upload, info=info)
    await session.commit()
    await discard_staging(storage, upload)  # a later PUT to a backend's own URL is swept at expiry
    return node


async def abandon(*, session: AsyncSession, storage: Storage, upload: FileUpload) -> None:
    """End an upload without a file: give the reservation back, delete the row, then its staging bytes."""
    await quota.release(session=session, tenant_id=upload.tenant_id, user_id=upload.owner_id, size=upload.reserved)
    await session.execute(delete(FileUpload).where(FileUpload.id == upload.id))
    await session.flush()
    await session.commit()
    await discard_staging(storage, upload)


async def sweep_expired(*, session: AsyncSession, storage: Storage, limit: int = 100) -> int:
    """Abandon uploads past their expiry (and drop finished presigned ones); returns how many went."""
    rows = list(
        await session.scalars(
            select(FileUpload).where(FileUpload.expires_at <= utcnow()).order_by(FileUpload.expires_at).limit(limit)
        )
    )
    for upload in rows:
        await abandon(session=session, storage=storage, upload=upload)
    return len(rows)


# --- presigned Nubes URLs (the local disk) --------------------------------------------------------


def sign(secret: str, *parts: str) -> str:
    """An HMAC over the parts, with a key derived from the server secret (never the secret itself)."""
    return crypto.sign(crypto.subkey(secret, "nubes/presigned-url/v1"), *parts)


def make_token(secret: str, purpose: str, subject: str, expires: datetime) -> str:
    """`<subject>.<expiry>.<mac>`: the subject (an upload or file id) and expiry are covered by the MAC."""
    stamp = str(int(expires.timestamp()))
    return f"{subject}.{stamp}.{sign(secret, purpose, subject, stamp)}"


def read_token(secret: str, purpose: str, token: str) -> str:
    """The subject of a genuine, unexpired token; PresignedUrlRefused otherwise (constant-time check)."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[1].isdigit():
        raise PresignedUrlRefused("This link is not valid.")
    subject, stamp, mac = parts
    if not crypto.equal(sign(secret, purpose, subject, stamp), mac):
        raise PresignedUrlRefused("This link is not valid.")
    if int(stamp) < time.time():
        raise PresignedUrlRefused("This link expired; ask for a new one.")
    return subject


async def upload_url(*, settings: Settings, storage: Storage, upload: FileUpload, base_url: str) -> tuple[str, dict[str, str]]:
    """Where a presigned upload's bytes go, and the headers to send: the backend's own URL, or Nubes' signed one."""
    url = await storage.presign_put(upload.staging_key, PRESIGN_EXPIRES_IN)
    if url is not None:
        return url, {}
    token = make_token(settings.secret_key, "upload", str(upload.id), upload.expires_at)
    return f"{base_url}/api/blobs/upload/{token}", {"Content-Type": "application/octet-stream"}


async def download_url(*, settings: Settings, storage: Storage, node: FileNode, base_url: str) -> tuple[str, datetime]:
    """A short-lived URL that downloads a file's current content, and when it expires."""
    key = node.blob_key or ""
    expires_at = utcnow() + DOWNLOAD_EXPIRES_IN
    url = await storage.presign_get(key, DOWNLOAD_EXPIRES_IN)
    if url is None:
        token = make_token(settings.secret_key, "download", f"{node.id}:{key}", expires_at)
        url = f"{base_url}/api/blobs/download/{token}"
    return url, expires_at


async def presigned_download(*, session: AsyncSession, settings: Settings, token: str) -> FileNode:
    """The file a Nubes download URL serves: refused when tampered with or expired, 410 once its content changed."""
    subject = read_token(settings.secret_key, "download", token)
    node_text, _, key = subject.partition(":")
    try:
        node_id = uuid.UUID(node_text)
    except ValueError:
        raise PresignedUrlRefused("This link is not valid.") from None
    node = await session.scalar(
        select(FileNode).where(FileNode.id == node_id, FileNode.blob_key == key, FileNode.in_trash.is_(False))
    )
    if node is None:
        raise Gone("The file changed or was deleted since this link was made; ask for a new one.")
    return node


async def claim_presigned(*, session: AsyncSession, storage: Storage, upload_id: uuid.UUID) -> FileUpload:
    """Take a presigned upload for its one PUT to Nubes (offset 0 -> -1), or refuse a used one."""
    upload = await session.get(FileUpload, upload_id)
    if upload is not None and await storage.presign_put(upload.staging_key, PRESIGN_EXPIRES_IN) is not None:
        raise NotFound("This server stores files on S3; PUT to the URL presign-upload returned.")
    if upload is None or upload.kind != "presign":
        raise PresignedUrlRefused("This link is not valid.")
    if upload.state != "open" or upload.offset != 0:
        raise PresignedUrlRefused("This link was used already; ask for a new one.")
    if upload.expires_at <= utcnow():
        raise PresignedUrlRefused("This link expired; ask for a new one.")
    result = cast(
        "CursorResult[Any]",
        await session.execute(
            update_rows(FileUpload)
            .where(FileUpload.id == upload_id, FileUpload.offset == 0, FileUpload.state == "open")
            .values(offset=-1)
            .execution_options(synchronize_session=False)
        ),
    )
    if result.rowcount != 1:
        raise PresignedUrlRefused("This link was used already; ask for a new one.")
    return upload


async def receive_presigned(
    *, session: AsyncSession, storage: Storage, upload_id: uuid.UUID, chunks: AsyncIterable[bytes]
) -> None:
    """Take the one PUT of a presigned upload's bytes through Nubes; on failure nothing is kept and the URL works again."""
    upload = await claim_presigned(session=session, storage=storage, upload_id=upload_id)
    await session.commit()
    upload.offset = 0
    try:
        received = await append(storage, upload, chunks, None)
        if received != upload.length:
            raise tree.UploadIncomplete(f"The upload was declared as {upload.length} bytes; {received} arrived.")
    except Exception:
        await discard_staging(storage, upload)
        await session.execute(update_rows(FileUpload).where(FileUpload.id == upload.id, FileUpload.offset == -1).values(offset=0))
        await session.commit()
        raise
    await advance(session=session, upload_id=upload.id, old=-1, new=received)


async def presigned_size(storage: Storage, upload: FileUpload) -> int | None:
    """How many bytes arrived for a presigned upload (None: nothing yet)."""
    return await storage.stage_size(upload.staging_key)


# --- the periodic sweep ----------------------------------------------------------------------------


async def sweep(sessions: async_sessionmaker[AsyncSession], storage: Storage) -> None:
    """One sweep: expired uploads and version retention, in one writing transaction."""
    async with sessions() as session:
        await sweep_expired(session=session, storage=storage)
        await versions.sweep_versions(session=session, storage=storage)
        await session.commit()


def check_checksum_header(value: str | None) -> tuple[str, bytes] | None:
    """Parse `Upload-Checksum: <algorithm> <base64>`; 400 for an unknown algorithm or bad base64."""
    if value is None:
        return None
    algorithm, _, encoded = value.strip().partition(" ")
    if algorithm.lower() not in CHECKSUM_ALGORITHMS:
        raise BadRequest(
            f"Upload-Checksum algorithm {algorithm!r} is not supported; use one of {', '.join(CHECKSUM_ALGORITHMS)}."
        )
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except ValueError:
        raise BadRequest("Upload-Checksum must be `<algorithm> <base64 digest>`.") from None
    return algorithm.lower(), digest

"""Nextcloud's chunked upload (`/remote.php/dav/uploads/<user>/<transfer>/<n>`, v1 "NG" and v2) over Nubes' uploads.

A transfer is a `FileUpload` (kind `nextcloud`) whose staging object receives the chunks: a chunk whose number is
above every number seen so far is appended to it as it streams in (what every real client does), so the final MOVE
of `.file` only seals the staged bytes into a blob, a rename on the local disk, and makes the file through the
uploads service (quota, versions, thumbnails, search: the same rules as every upload). A chunk that arrives out of
order is staged on its own and the MOVE then assembles the bytes once. The quota is charged as bytes are announced
(`OC-Total-Length` at MKCOL, else each chunk's length), so a transfer past the quota fails before its bytes arrive.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy import update as update_rows
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core.db import utcnow
from nubes.core.errors import BadRequest, Conflict, NotFound, NubesError, PayloadTooLarge
from nubes.core.principal import Principal
from nubes.core.storage import Storage
from nubes.files.nextcloud.models import ChunkedTransfer, TransferChunk
from nubes.files.quota import service as quota
from nubes.files.tree.models import FileNode
from nubes.files.uploads import service as uploads
from nubes.files.uploads.models import FileUpload

KIND = "nextcloud"
EXPIRES_AFTER = timedelta(hours=24)
"""A transfer nobody touched for this long is swept (Nextcloud's own rule)."""
MAX_CHUNK_BYTES = 5 * 1024**3
MAX_V2_CHUNKS = 10_000
MAX_TRANSFER_NAME = 255
OPEN_LENGTH = uploads.TUS_MAX_SIZE
"""The upload's length while chunks arrive (the real one is known at the MOVE)."""


class ChunkRefused(BadRequest):
    """A chunk name or size that Nextcloud's chunking does not allow."""

    code, title = "bad-chunk", "Chunk refused"


@dataclass(frozen=True, slots=True)
class Transfer:
    """A transfer and the upload that stages its bytes."""

    transfer: ChunkedTransfer
    upload: FileUpload


def check_transfer_name(name: str) -> str:
    """A transfer folder's name: 1 to 255 characters, not `.`/`..`."""
    if not name or len(name) > MAX_TRANSFER_NAME or name in {".", ".."}:
        raise BadRequest("A transfer folder needs a name of 1 to 255 characters.")
    return name


def chunk_number(name: str, *, v2: bool) -> int:
    """The number a chunk's name gives (v2: 1 to 10000; v1 clients name chunks by their byte offset)."""
    if not name.isdigit() or not name.isascii() or len(name) > 20:
        raise ChunkRefused(f"A chunk's name is its number (digits only), not {name[:40]!r}.")
    number = int(name)
    if v2 and not 1 <= number <= MAX_V2_CHUNKS:
        raise ChunkRefused(f"Chunks are numbered 1 to {MAX_V2_CHUNKS} (chunking v2); {number} is out of range.")
    return number


async def create(
    *,
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    name: str,
    destination: str,
    total_length: int | None,
) -> Transfer:
    """MKCOL of a transfer folder: its upload row (charged for `total_length` when given) and the transfer."""
    name = check_transfer_name(name)
    if await _find(session, principal, name) is not None:
        raise MethodNotAllowed(f"The transfer {name!r} exists already; PUT its chunks or DELETE it.")
    if total_length is not None:
        if total_length < 0:
            raise BadRequest("OC-Total-Length must be a byte count.")
        await quota.charge(session=session, settings=settings, principal=principal, size=total_length)
    upload = FileUpload(
        tenant_id=principal.tenant_id,
        owner_id=principal.user_id,
        kind=KIND,
        length=OPEN_LENGTH,
        offset=0,
        staging_key=uuid.uuid4().hex,
        reserved=total_length or 0,
        expires_at=utcnow() + EXPIRES_AFTER,
    )
    session.add(upload)
    await session.flush()
    transfer = ChunkedTransfer(
        tenant_id=principal.tenant_id,
        owner_id=principal.user_id,
        name=name,
        upload_id=upload.id,
        destination=destination,
        total_length=total_length,
    )
    session.add(transfer)
    await session.flush()
    return Transfer(transfer=transfer, upload=upload)


class MethodNotAllowed(NubesError):
    """MKCOL where the transfer exists already."""

    status, code, title = 405, "method-not-allowed", "Method not allowed"


async def _find(session: AsyncSession, principal: Principal, name: str) -> Transfer | None:
    row = (
        await session.execute(
            select(ChunkedTransfer, FileUpload)
            .join(FileUpload, FileUpload.id == ChunkedTransfer.upload_id)
            .where(
                ChunkedTransfer.tenant_id == principal.tenant_id,
                ChunkedTransfer.owner_id == principal.user_id,
                ChunkedTransfer.name == name,
            )
            .execution_options(populate_existing=True)  # read again under the upload's lock (another request moved it)
        )
    ).first()
    return None if row is None else Transfer(transfer=row[0], upload=row[1])


async def get_or_raise(*, session: AsyncSession, principal: Principal, name: str) -> Transfer:
    """One of the caller's open transfers (another user's is a 404 like a missing one)."""
    found = await _find(session, principal, name)
    if found is None or found.upload.state != "open" or found.upload.expires_at <= utcnow():
        raise NotFound(f"No transfer {name[:80]!r} of yours; MKCOL it first (an unused one expires after 24 hours).")
    return found


async def list_transfers(*, session: AsyncSession, principal: Principal) -> list[ChunkedTransfer]:
    """The caller's transfers (PROPFIND of the uploads folder)."""
    rows = await session.scalars(
        select(ChunkedTransfer)
        .where(ChunkedTransfer.tenant_id == principal.tenant_id, ChunkedTransfer.owner_id == principal.user_id)
        .order_by(ChunkedTransfer.name)
    )
    return list(rows)


async def chunks_of(*, session: AsyncSession, transfer: ChunkedTransfer) -> list[TransferChunk]:
    """A transfer's chunks that arrived whole, by number (PROPFIND of the transfer folder: what a resuming client skips)."""
    rows = await session.scalars(
        select(TransferChunk)
        .where(TransferChunk.transfer_id == transfer.id)
        .order_by(TransferChunk.number)
        .execution_options(populate_existing=True)
    )
    return list(rows)


async def _counted(chunks: AsyncIterable[bytes], length: int) -> AsyncIterator[bytes]:
    """The chunk's bytes, refused (nothing kept) when they are more or fewer than its Content-Length."""
    size = 0
    async for part in chunks:
        size += len(part)
        if size > length:
            raise PayloadTooLarge(f"The chunk is longer than its Content-Length ({length} bytes).")
        yield part
    if size != length:
        raise BadRequest(f"The chunk ended after {size} of its {length} bytes; send it again.")


async def put_chunk(
    *,
    session: AsyncSession,
    settings: Settings,
    storage: Storage,
    principal: Principal,
    found: Transfer,
    name: str,
    length: int | None,
    chunks: AsyncIterable[bytes],
) -> bool:
    """Store one chunk (PUT); True when it is new. The transaction ends before the bytes stream.

    The chunk's Content-Length is charged to the quota (beyond what the transfer holds already) before a byte is
    read; a chunk that fails on its way is discarded whole and may be sent again.
    """
    transfer, upload = found.transfer, found.upload
    number = chunk_number(name, v2=bool(transfer.destination))
    if length is None:
        raise LengthRequired("Send each chunk with its Content-Length.")
    if length > MAX_CHUNK_BYTES:
        raise ChunkRefused(f"A chunk is at most {MAX_CHUNK_BYTES} bytes; this one says {length}.")
    existing = await chunks_of(session=session, transfer=transfer)
    by_number = {chunk.number: chunk for chunk in existing}
    previous = by_number.get(number)
    highest = max(by_number, default=-1)
    appended = [chunk for chunk in existing if chunk.staging_key is None]
    last_appended = max((chunk.number for chunk in appended), default=-1)
    if previous is not None and previous.staging_key is None and number != last_appended:
        raise Conflict(f"Chunk {name} arrived already and later ones follow it; DELETE the transfer to start again.")
    held = sum(chunk.size for chunk in existing) - (previous.size if previous is not None else 0) + length
    if held > upload.reserved:
        await quota.charge(session=session, settings=settings, principal=principal, size=held - upload.reserved)
        upload.reserved = held
    upload.expires_at = utcnow() + EXPIRES_AFTER
    await session.commit()
    body = _counted(chunks, length)
    if (previous is None and number > highest) or (previous is not None and previous.staging_key is None):
        # In order (or the last appended chunk sent again): straight onto the upload's staged bytes.
        start = previous.start if previous is not None else upload.offset
        old_offset = upload.offset
        upload.offset = start
        try:
            end = await uploads.append(storage, upload, body, None)  # the new offset
        except BaseException:
            upload.offset = old_offset
            raise
        await uploads.advance(session=session, upload_id=upload.id, old=old_offset, new=end)
        upload.offset = end
        if previous is None:
            session.add(TransferChunk(transfer_id=transfer.id, number=number, name=name, size=length, start=start))
        else:
            previous.size = length
    else:
        # Out of order: its own staging object, assembled at the MOVE.
        key = uuid.uuid4().hex
        await storage.stage_append(key, 0, body)
        if previous is not None and previous.staging_key is not None:
            await storage.stage_discard(previous.staging_key)
            previous.staging_key, previous.size = key, length
        else:
            session.add(TransferChunk(transfer_id=transfer.id, number=number, name=name, size=length, staging_key=key))
        await session.execute(update_rows(ChunkedTransfer).where(ChunkedTransfer.id == transfer.id).values(in_order=False))
    await session.flush()
    return previous is None


class LengthRequired(NubesError):
    """A chunk sent without Content-Length (its size is charged to the quota before its bytes are read)."""

    status, code, title = 411, "length-required", "Length required"


async def _slices(storage: Storage, upload: FileUpload, sizes: Sequence[int]) -> AsyncIterator[AsyncIterator[bytes]]:
    """The appended chunks' bytes, one iterator per chunk in order, read in one pass over the staged bytes."""
    source = aiter(storage.stage_read(upload.staging_key, upload.offset))
    carry = b""

    async def take(size: int) -> AsyncIterator[bytes]:
        nonlocal carry
        left = size
        while left > 0:
            if not carry:
                carry = await anext(source, b"")
                if not carry:
                    raise NotFound("The transfer's bytes are gone; start the upload again.")
            part, carry = carry[:left], carry[left:]
            left -= len(part)
            yield part

    for size in sizes:
        yield take(size)


async def _assembled(storage: Storage, upload: FileUpload, chunks: Sequence[TransferChunk]) -> AsyncIterator[bytes]:
    """Every chunk's bytes in the order of their numbers (the slow path, for chunks that came out of order)."""
    appended = [chunk for chunk in chunks if chunk.staging_key is None]
    slices = _slices(storage, upload, [chunk.size for chunk in sorted(appended, key=lambda chunk: chunk.start)])
    for chunk in chunks:
        if chunk.staging_key is None:
            part = await anext(slices)
        else:
            part = storage.stage_read(chunk.staging_key, chunk.size)
        async for data in part:
            yield data


async def assemble(
    *,
    session: AsyncSession,
    settings: Settings,
    storage: Storage,
    principal: Principal,
    found: Transfer,
    total_length: int | None,
    parent: FileNode,
    name: str,
    existing: FileNode | None,
    content_type: str,
) -> FileNode:
    """MOVE of `.file`: the chunks become the file `name` in `parent` (or a new version of `existing`).

    The caller checked the destination (its own tree, locks). Appended chunks are sealed as they are (no copy);
    out-of-order ones are assembled once. The transfer is gone afterwards.
    """
    transfer, upload = found.transfer, found.upload
    chunks = await chunks_of(session=session, transfer=transfer)
    total = sum(chunk.size for chunk in chunks)
    expected = total_length if total_length is not None else transfer.total_length
    if expected is not None and expected != total:
        raise BadRequest(f"The chunks hold {total} bytes but OC-Total-Length says {expected}; send the missing chunks.")
    separate = [chunk.staging_key for chunk in chunks if chunk.staging_key is not None]
    if separate:
        key = uuid.uuid4().hex
        await session.commit()
        await storage.stage_append(key, 0, _assembled(storage, upload, chunks))
        old_key = upload.staging_key
        await session.execute(update_rows(FileUpload).where(FileUpload.id == upload.id).values(staging_key=key, offset=total))
        await session.execute(delete(TransferChunk).where(TransferChunk.transfer_id == transfer.id))
        await session.commit()
        for staged in [old_key, *separate]:
            await storage.stage_discard(staged)
        upload.staging_key, upload.offset = key, total
    elif upload.offset != total:
        raise Conflict("The transfer's bytes do not match its chunks; DELETE it and upload again.")
    if existing is not None:
        upload.target_id, upload.parent_id, upload.name = existing.id, None, ""
    else:
        upload.target_id, upload.parent_id, upload.name = None, parent.id, name
    upload.length = total
    upload.content_type = content_type[:255]
    await session.execute(
        update_rows(FileUpload)
        .where(FileUpload.id == upload.id)
        .values(
            length=total,
            target_id=upload.target_id,
            parent_id=upload.parent_id,
            name=upload.name,
            content_type=upload.content_type,
        )
    )
    await session.commit()
    node = await uploads.finish(session=session, settings=settings, storage=storage, principal=principal, upload=upload)
    # The upload row stays `done` after `finish` (only tus rows go at once): end it and the transfer with it.
    await session.execute(delete(FileUpload).where(FileUpload.id == upload.id, FileUpload.state == "done"))
    await session.commit()
    return node


async def abort(*, session: AsyncSession, storage: Storage, found: Transfer) -> None:
    """DELETE of a transfer folder: its chunks, its staged bytes and its quota reservation go."""
    separate = await session.scalars(
        select(TransferChunk.staging_key).where(
            TransferChunk.transfer_id == found.transfer.id, TransferChunk.staging_key.is_not(None)
        )
    )
    keys = [key for key in separate if key is not None]
    await uploads.abandon(session=session, storage=storage, upload=found.upload)  # the transfer goes with the row
    for key in keys:
        await storage.stage_discard(key)


async def sweep(*, session: AsyncSession, storage: Storage, limit: int = 100) -> int:
    """Abort transfers nobody touched for 24 hours (before the uploads' own sweep, which knows no chunk objects)."""
    rows = (
        await session.execute(
            select(ChunkedTransfer, FileUpload)
            .join(FileUpload, FileUpload.id == ChunkedTransfer.upload_id)
            .where(FileUpload.expires_at <= utcnow())
            .order_by(FileUpload.expires_at)
            .limit(limit)
        )
    ).all()
    for transfer, upload in rows:
        await abort(session=session, storage=storage, found=Transfer(transfer=transfer, upload=upload))
    return len(rows)

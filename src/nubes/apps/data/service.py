"""Rules of apps.data: who reaches which collection, documents with revisions, the changes feed, attachments, quota.

Who may reach what:
- the user themselves (a session, or a personal access token with `apps.use`) reaches all their own collections
  (whichever app made them) and reads the tenant's shared ones;
- an app (an OAuth app token: `Principal.client_id` set) reaches a collection only with a grant among
  `Principal.grants`: `data:read:<c>` (documents and changes), `data:write:<c>` (implies read), `blob:read:<c>`,
  `blob:write:<c>` (attachments; write implies read). A collection it holds no grant for does not exist for it (404,
  so names do not leak). The same grant names a user's own `<c>` and the tenant's shared `<c>`;
- writing to a tenant's shared collection also needs `apps.manage` (an admin's session, or an app acting for one).

Every write takes the collection row's lock first (it is the feed's counter), so the writers of one feed commit
in sequence order and a revision check cannot race. Document and attachment bytes count in the quota of the user
who wrote them (`charged_to`); a write past it is refused with the files' 413 (quota-exceeded) and writes nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any, Literal

from sqlalchemy import delete as delete_rows
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from nubes.apps.data.feed import READ_BATCH, Change, FeedHub, Reader
from nubes.apps.data.models import SHARED, DataAttachment, DataChange, DataCollection, DataDocument
from nubes.apps.data.schemas import MAX_BULK, DataBulkItem, Space
from nubes.config import Settings
from nubes.core.db import utcnow
from nubes.core.errors import Conflict, Forbidden, NotFound, NubesError, PayloadTooLarge, UnprocessableEntity
from nubes.core.jobs import after_commit, after_rollback
from nubes.core.principal import Principal
from nubes.core.storage import BlobNotFound, SizeMismatch, Storage, TooLarge
from nubes.files.quota import service as quota

MAX_DOCUMENT_BYTES = 1 << 20
MAX_DEPTH = 32
MAX_ATTACHMENT_BYTES = 1 << 34  # 16 GiB through the API; presigned uploads to object storage the same
MANAGE = "apps.manage"
PRESIGN_EXPIRES_IN = timedelta(minutes=15)
HEARTBEAT_S = 15.0  # an event stream's comment line when nothing changed, so proxies keep it open

Need = Literal["read", "write"]
Kind = Literal["data", "blob"]


class RevisionConflict(Conflict):
    """The revision sent is not the document's current one (or none was sent for an existing document)."""

    code, title = "revision-conflict", "Revision conflict"


class FeedReset(NubesError):
    """The `since` a client sent is past the collection's last change: the collection was deleted and made again under
    the same name (its feed starts over), or the seq belongs to another collection. Waiting would never see a change."""

    status, code, title = 410, "feed-reset", "Start the feed again"


def check_cursor(collection: DataCollection, since: int) -> None:
    """Refuse a `since` past the collection's last change (FeedReset), so a client resyncs instead of waiting forever."""
    if since > collection.last_seq:
        raise FeedReset(
            f"since={since} is past this collection's last change ({collection.last_seq}): it was deleted and made "
            "again, or the seq is another collection's. Read it again from since=0.",
            extensions={"last_seq": collection.last_seq},
        )


class LengthRequired(NubesError):
    """An attachment's upload must say its size (Content-Length)."""

    status, code, title = 411, "length-required", "Length required"


# --- who reaches what -------------------------------------------------------------------------------


def may(principal: Principal, *, name: str, need: Need, kind: Kind = "data") -> bool:
    """Whether an app token's grants reach collection `name` for `need` (the user themselves reach everything)."""
    if principal.client_id is None:
        return True
    grants = principal.grants
    if f"{kind}:write:{name}" in grants:
        return True
    return need == "read" and f"{kind}:read:{name}" in grants


def _visible(principal: Principal, name: str) -> bool:
    """Whether the caller may know collection `name` exists (any grant on it, for an app)."""
    if principal.client_id is None:
        return True
    return any(f"{kind}:{need}:{name}" in principal.grants for kind in ("data", "blob") for need in ("read", "write"))


def _check(principal: Principal, *, space: str, name: str, need: Need, kind: Kind) -> None:
    if not may(principal, name=name, need=need, kind=kind):
        if not _visible(principal, name):
            raise _no_collection(name)
        raise Forbidden(f"This app may not {need} the {kind} of collection {name!r}; it needs the scope {kind}:{need}:{name}.")
    if space == "shared" and need == "write" and not principal.can(MANAGE):
        raise Forbidden(f"Writing to the shared collection {name!r} needs the permission {MANAGE}; ask an admin.")


def _no_collection(name: str) -> NotFound:
    return NotFound(f"No collection {name!r} here; write a document to create it.")


def _space_of(principal: Principal, space: str) -> str:
    """The stored space of a path's: `me` or the caller's own user id, or `shared`; anyone else's is not found."""
    if space == "shared":
        return SHARED
    if space == "me":
        return principal.user_id.hex
    try:
        if uuid.UUID(space) == principal.user_id:
            return principal.user_id.hex
    except ValueError:
        pass
    raise NotFound("No such space: use `me` (or your own user id) or `shared`.")


def _upsert(session: AsyncSession) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


async def _find(session: AsyncSession, principal: Principal, space: str, name: str) -> DataCollection | None:
    return await session.scalar(
        select(DataCollection).where(
            DataCollection.tenant_id == principal.tenant_id,
            DataCollection.space == _space_of(principal, space),
            DataCollection.name == name,
        )
    )


async def get_collection(
    *, session: AsyncSession, principal: Principal, space: str, name: str, need: Need = "read", kind: Kind = "data"
) -> DataCollection:
    """The collection the caller may reach for `need`, or NotFound (also when an app holds no grant on it)."""
    _check(principal, space=space, name=name, need=need, kind=kind)
    collection = await _find(session, principal, space, name)
    if collection is None:
        raise _no_collection(name)
    return collection


async def _lock_collection(
    session: AsyncSession, principal: Principal, space: str, name: str, *, create: bool, kind: Kind = "data"
) -> DataCollection:
    """The collection's row, locked until the transaction ends (made first when `create`): the feed's counter."""
    _check(principal, space=space, name=name, need="write", kind=kind)
    space_value = _space_of(principal, space)
    if create:
        now = utcnow()
        await session.execute(
            _upsert(session)(DataCollection)
            .values(
                id=uuid.uuid4(), tenant_id=principal.tenant_id, owner_id=None if space == "shared" else principal.user_id,
                space=space_value, name=name, client_id=principal.client_id, last_seq=0, documents=0, bytes=0,
                created_at=now, updated_at=now,
            )
            .on_conflict_do_nothing()
        )  # fmt: skip
    collection = await session.scalar(
        select(DataCollection)
        .where(DataCollection.tenant_id == principal.tenant_id, DataCollection.space == space_value, DataCollection.name == name)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if collection is None:
        raise _no_collection(name)
    return collection


async def list_collections(*, session: AsyncSession, principal: Principal, space: Space | None = None) -> list[DataCollection]:
    """The caller's own and the tenant's shared collections (an app: only those it holds a grant on), by name."""
    spaces = [_space_of(principal, each) for each in (("me", "shared") if space is None else (space,))]
    rows = await session.scalars(
        select(DataCollection)
        .where(DataCollection.tenant_id == principal.tenant_id, DataCollection.space.in_(spaces))
        .order_by(DataCollection.name, DataCollection.space)
        .limit(1000)
    )
    return [row for row in rows if _visible(principal, row.name)]


def space_label(collection: DataCollection) -> Space:
    """`shared` for a tenant's shared collection, `me` for a user's own."""
    return "shared" if collection.space == SHARED else "me"


# --- documents --------------------------------------------------------------------------------------


def encode(body: dict[str, Any]) -> str:
    """The document as compact JSON, or 422 (deeper than MAX_DEPTH, NaN) / 413 (past MAX_DOCUMENT_BYTES)."""
    pending: list[tuple[Any, int]] = [(body, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise UnprocessableEntity(f"The document nests objects and arrays more than {MAX_DEPTH} levels deep; flatten it.")
            pending.extend((item, depth + 1) for item in (value.values() if isinstance(value, dict) else value))
    try:
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError:
        raise UnprocessableEntity("The document holds NaN or Infinity, which JSON cannot store; use null or a string.") from None
    if len(text.encode()) > MAX_DOCUMENT_BYTES:
        raise PayloadTooLarge(f"A document may hold at most {MAX_DOCUMENT_BYTES} bytes of JSON; split it or use an attachment.")
    return text


def decode(document: DataDocument) -> dict[str, Any] | None:
    """The document's body as JSON (None once deleted)."""
    if document.body is None:
        return None
    value: dict[str, Any] = json.loads(document.body)
    return value


def _next_rev(previous: str | None, text: str | None) -> str:
    generation = int(previous.split("-", 1)[0]) + 1 if previous else 1
    digest = hashlib.sha256(f"{previous or ''}\n{'' if text is None else text}".encode()).hexdigest()[:32]
    return f"{generation}-{digest}"


def new_key() -> str:
    """A server-made document key: 26 characters, sortable by time of making."""
    return f"{int(utcnow().timestamp() * 1000):012x}{secrets.token_hex(7)}"


async def get_document(*, session: AsyncSession, principal: Principal, space: str, name: str, key: str) -> DataDocument:
    """A document of a collection the caller may read (tombstones included: a deleted document answers its rev)."""
    collection = await get_collection(session=session, principal=principal, space=space, name=name)
    document = await session.scalar(
        select(DataDocument).where(
            DataDocument.tenant_id == principal.tenant_id,
            DataDocument.collection_id == collection.id,
            DataDocument.key == key,
        )
    )
    if document is None:
        raise NotFound(f"No document {key!r} in {name!r}.")
    return document


async def list_documents(
    *, session: AsyncSession, principal: Principal, space: str, name: str, after: str | None, limit: int, deleted: bool
) -> tuple[list[DataDocument], str | None]:
    """A page of a collection's documents by key after `after`, and the key to continue after (None: the end)."""
    collection = await get_collection(session=session, principal=principal, space=space, name=name)
    query = select(DataDocument).where(DataDocument.tenant_id == principal.tenant_id, DataDocument.collection_id == collection.id)
    if not deleted:
        query = query.where(DataDocument.deleted.is_(False))
    if after is not None:
        query = query.where(DataDocument.key > after)
    rows = list(await session.scalars(query.order_by(DataDocument.key).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, rows[-1].key if more and rows else None


@dataclass(frozen=True, slots=True)
class Write:
    """One document write: its new JSON (None: delete it) and the revision it replaces (None: a new document)."""

    key: str
    rev: str | None
    text: str | None


def writes_of(items: Sequence[DataBulkItem]) -> list[Write]:
    """A bulk request's writes, checked (no key twice; a body for every write that is not a delete)."""
    if len(items) > MAX_BULK:
        raise UnprocessableEntity(f"At most {MAX_BULK} documents per bulk write; split the request.")
    seen: set[str] = set()
    writes = []
    for item in items:
        if item.key in seen:
            raise UnprocessableEntity(f"The key {item.key!r} appears twice; write each document once per request.")
        seen.add(item.key)
        if not item.deleted and item.body is None:
            raise UnprocessableEntity(f"The write of {item.key!r} has no body; send one, or deleted: true.")
        writes.append(Write(item.key, item.rev, None if item.deleted else encode(item.body or {})))
    return writes


async def write(
    *,
    session: AsyncSession,
    settings: Settings,
    storage: Storage,
    feeds: FeedHub,
    principal: Principal,
    space: str,
    name: str,
    writes: Sequence[Write],
) -> list[DataDocument]:
    """Apply document writes to one collection together (all or none), each a new change of its feed, in order.

    A write to an existing document must name its current revision (else RevisionConflict, nothing written);
    a delete leaves a tombstone and removes the document's attachments; bytes are charged before anything lands.
    """
    creates = any(each.text is not None for each in writes)
    collection = await _lock_collection(session, principal, space, name, create=creates)
    documents = {
        document.key: document
        for document in await session.scalars(
            select(DataDocument).where(
                DataDocument.tenant_id == principal.tenant_id,
                DataDocument.collection_id == collection.id,
                DataDocument.key.in_([each.key for each in writes]),
            )
        )
    }
    now = utcnow()
    seq = collection.last_seq
    live_delta = bytes_delta = 0
    charge = 0
    releases: dict[uuid.UUID, int] = {}
    written: list[DataDocument] = []
    for each in writes:
        document = documents.get(each.key)
        _check_rev(each, document)
        seq += 1
        size = 0 if each.text is None else len(each.text.encode())
        rev = _next_rev(document.rev if document is not None else None, each.text)
        if document is None:
            document = DataDocument(
                tenant_id=principal.tenant_id, collection_id=collection.id, key=each.key, created_at=now, size=0, deleted=True
            )
            session.add(document)
        was_live = not document.deleted
        if document.charged_to is not None and document.size:
            releases[document.charged_to] = releases.get(document.charged_to, 0) + document.size
        charge += size
        bytes_delta += size - document.size
        live_delta += (each.text is not None) - was_live
        if each.text is None:
            bytes_delta -= await _drop_attachments(session, storage, principal, document, releases)
        document.rev, document.seq, document.body, document.size = rev, seq, each.text, size
        document.deleted = each.text is None
        document.charged_to = principal.user_id if size else None
        document.updated_at = now
        session.add(DataChange(
            collection_id=collection.id, seq=seq, tenant_id=principal.tenant_id, key=each.key, rev=rev,
            deleted=each.text is None, created_at=now,
        ))  # fmt: skip
        written.append(document)
    await _settle_quota(session, settings, principal, charge=charge, releases=releases)
    await _bump(session, collection, seq=seq, documents=live_delta, size=bytes_delta)
    after_commit(session, partial(feeds.announce, collection.id))
    return written


def _check_rev(write: Write, document: DataDocument | None) -> None:
    if document is None or document.deleted:
        if write.text is None:
            raise NotFound(f"No document {write.key!r} to delete.")
        if write.rev is not None and (document is None or write.rev != document.rev):
            raise RevisionConflict(
                f"{write.key!r} does not exist (any more); create it without a revision.",
                extensions={"key": write.key, "current_rev": document.rev if document else None},
            )
        return
    if write.rev is None:
        raise RevisionConflict(
            f"{write.key!r} exists: send its current revision (If-Match or rev) to change it.",
            extensions={"key": write.key, "current_rev": document.rev},
        )
    if write.rev != document.rev:
        raise RevisionConflict(
            f"{write.key!r} changed since you read it (now at {document.rev}); read it again, merge, and retry.",
            extensions={"key": write.key, "current_rev": document.rev},
        )


async def _settle_quota(
    session: AsyncSession, settings: Settings, principal: Principal, *, charge: int, releases: dict[uuid.UUID, int]
) -> None:
    mine = releases.pop(principal.user_id, 0)
    net = charge - mine
    if net > 0:
        # Past the quota: the files' own 413 (quota-exceeded), as an upload of the same bytes gets.
        await quota.charge(session=session, settings=settings, principal=principal, size=net)
    if net < 0:
        await quota.release(session=session, tenant_id=principal.tenant_id, user_id=principal.user_id, size=-net)
    for user_id, size in releases.items():
        await quota.release(session=session, tenant_id=principal.tenant_id, user_id=user_id, size=size)


async def _bump(session: AsyncSession, collection: DataCollection, *, seq: int, documents: int, size: int) -> None:
    """Move the feed's counter to `seq` and the collection's totals, in the row locked at the start of the write."""
    now = utcnow()
    await session.execute(
        update(DataCollection)
        .where(DataCollection.id == collection.id)
        .values(
            last_seq=seq,
            documents=DataCollection.documents + documents,
            bytes=DataCollection.bytes + size,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    set_committed_value(collection, "last_seq", seq)
    set_committed_value(collection, "documents", collection.documents + documents)
    set_committed_value(collection, "bytes", collection.bytes + size)
    set_committed_value(collection, "updated_at", now)


async def _drop_attachments(
    session: AsyncSession, storage: Storage, principal: Principal, document: DataDocument, releases: dict[uuid.UUID, int]
) -> int:
    """Delete a document's attachments (blobs once committed); their bytes go to `releases`; returns how many bytes."""
    attachments = list(
        await session.scalars(
            select(DataAttachment).where(
                DataAttachment.tenant_id == principal.tenant_id, DataAttachment.document_id == document.id
            )
        )
    )
    total = 0
    for attachment in attachments:
        total += _release_attachment(session, storage, attachment, releases)
        await session.delete(attachment)
    return total


def _release_attachment(
    session: AsyncSession, storage: Storage, attachment: DataAttachment, releases: dict[uuid.UUID, int]
) -> int:
    if attachment.charged_to is not None and attachment.size and attachment.blob_key is not None:
        releases[attachment.charged_to] = releases.get(attachment.charged_to, 0) + attachment.size
    if attachment.blob_key is not None:
        after_commit(session, partial(storage.delete, attachment.blob_key))
    if attachment.staging_key is not None:
        after_commit(session, partial(storage.stage_discard, attachment.staging_key))
    return attachment.size if attachment.blob_key is not None else 0


async def delete_collection(
    *, session: AsyncSession, storage: Storage, feeds: FeedHub, principal: Principal, space: str, name: str
) -> None:
    """Delete a collection with its documents, changes and attachments; their bytes go back to the quota."""
    collection = await _lock_collection(session, principal, space, name, create=False)
    releases: dict[uuid.UUID, int] = {}
    charged = await session.execute(
        select(DataDocument.charged_to, func.sum(DataDocument.size))
        .where(DataDocument.tenant_id == principal.tenant_id, DataDocument.collection_id == collection.id)
        .group_by(DataDocument.charged_to)
    )
    for user_id, size in charged:
        if user_id is not None and size:
            releases[user_id] = releases.get(user_id, 0) + int(size)
    attachments = await session.scalars(
        select(DataAttachment)
        .join(DataDocument, DataDocument.id == DataAttachment.document_id)
        .where(DataAttachment.tenant_id == principal.tenant_id, DataDocument.collection_id == collection.id)
    )
    for attachment in attachments:
        _release_attachment(session, storage, attachment, releases)
    for user_id, size in releases.items():
        await quota.release(session=session, tenant_id=principal.tenant_id, user_id=user_id, size=size)
    documents = select(DataDocument.id).where(DataDocument.collection_id == collection.id)
    await session.execute(delete_rows(DataAttachment).where(DataAttachment.document_id.in_(documents)))
    await session.execute(delete_rows(DataChange).where(DataChange.collection_id == collection.id))
    await session.execute(delete_rows(DataDocument).where(DataDocument.collection_id == collection.id))
    await session.delete(collection)
    after_commit(session, partial(feeds.announce, collection.id))


# --- the changes feed -------------------------------------------------------------------------------


async def read_changes(
    *, session: AsyncSession, tenant_id: uuid.UUID, collection_id: uuid.UUID, since: int, limit: int
) -> list[Change]:
    """A collection's committed changes after `since`, in order, at most `limit`."""
    rows = await session.execute(
        select(DataChange.seq, DataChange.key, DataChange.rev, DataChange.deleted)
        .where(DataChange.tenant_id == tenant_id, DataChange.collection_id == collection_id, DataChange.seq > since)
        .order_by(DataChange.seq)
        .limit(limit)
    )
    return [Change(seq, key, rev, deleted) for seq, key, rev, deleted in rows]


async def changes(
    *, session: AsyncSession, feeds: FeedHub, read: Reader, collection: DataCollection, since: int, limit: int, wait: float
) -> tuple[list[Change], int, int]:
    """Changes after `since` (at most `limit`), the seq to continue from, and how many more there are.

    With `wait` seconds, and nothing new yet, wait up to that long for a write: the request's session is closed first
    (no connection is held while waiting) and the wait is this process's shared listener on the feed, joined before
    the first read so a write committed in between is not missed.
    """
    async with feeds.listen(collection.id, since, read) as listener:
        found = await read_changes(
            session=session, tenant_id=collection.tenant_id, collection_id=collection.id, since=since, limit=limit + 1
        )
        if not found and wait > 0:
            await session.close()
            found = await listener.next(wait)
    latest = max(collection.last_seq, found[-1].seq if found else 0)
    found = found[:limit]
    last_seq = found[-1].seq if found else since
    return found, last_seq, max(0, latest - last_seq)


async def follow(
    *, feeds: FeedHub, read: Reader, collection_id: uuid.UUID, since: int, lasting: float
) -> AsyncIterator[list[Change]]:
    """An event stream's batches of changes after `since`, for `lasting` seconds; an empty batch is a heartbeat.

    The listener joins first, then the stream catches up with reads of its own; from then on it takes its share of
    the feed's one read per write.
    """
    deadline = asyncio.get_running_loop().time() + lasting
    async with feeds.listen(collection_id, since, read) as listener:
        sent = since
        while True:
            batch = list(await read(sent, READ_BATCH))
            if batch:
                sent = batch[-1].seq
                yield batch
            if len(batch) < READ_BATCH:
                break
        listener.skip_to(sent)
        while (left := deadline - asyncio.get_running_loop().time()) > 0:
            batch = [change for change in await listener.next(min(HEARTBEAT_S, left)) if change.seq > sent]
            if batch:
                sent = batch[-1].seq
            yield batch


def reader(sessions: async_sessionmaker[AsyncSession], *, tenant_id: uuid.UUID, collection_id: uuid.UUID) -> Reader:
    """The feed's shared read of one collection, each in a short session of its own."""

    async def read(since: int, limit: int) -> Sequence[Change]:
        async with sessions() as session:
            return await read_changes(session=session, tenant_id=tenant_id, collection_id=collection_id, since=since, limit=limit)

    return read


# --- attachments ------------------------------------------------------------------------------------


async def _live_document(session: AsyncSession, principal: Principal, collection: DataCollection, key: str) -> DataDocument:
    document = await session.scalar(
        select(DataDocument).where(
            DataDocument.tenant_id == principal.tenant_id,
            DataDocument.collection_id == collection.id,
            DataDocument.key == key,
            DataDocument.deleted.is_(False),
        )
    )
    if document is None:
        raise NotFound(f"No document {key!r} in {collection.name!r}; write it before attaching to it.")
    return document


async def _attachment(session: AsyncSession, principal: Principal, document: DataDocument, name: str) -> DataAttachment | None:
    return await session.scalar(
        select(DataAttachment).where(
            DataAttachment.tenant_id == principal.tenant_id,
            DataAttachment.document_id == document.id,
            DataAttachment.name == name,
        )
    )


async def list_attachments(
    *, session: AsyncSession, principal: Principal, space: str, name: str, key: str
) -> list[DataAttachment]:
    """A live document's attachments, by name."""
    collection = await get_collection(session=session, principal=principal, space=space, name=name, kind="blob")
    document = await _live_document(session, principal, collection, key)
    rows = await session.scalars(
        select(DataAttachment)
        .where(DataAttachment.tenant_id == principal.tenant_id, DataAttachment.document_id == document.id)
        .order_by(DataAttachment.name)
    )
    return list(rows)


async def get_attachment(
    *, session: AsyncSession, principal: Principal, space: str, name: str, key: str, attachment: str
) -> DataAttachment:
    """An attachment whose bytes are there (not a pending presigned upload), or NotFound."""
    collection = await get_collection(session=session, principal=principal, space=space, name=name, kind="blob")
    document = await _live_document(session, principal, collection, key)
    found = await _attachment(session, principal, document, attachment)
    if found is None or found.blob_key is None:
        raise NotFound(f"{key!r} has no attachment {attachment!r}.")
    return found


async def put_attachment(
    *,
    session: AsyncSession,
    settings: Settings,
    storage: Storage,
    feeds: FeedHub,
    principal: Principal,
    space: str,
    name: str,
    key: str,
    attachment: str,
    content_type: str,
    size: int | None,
    chunks: AsyncIterable[bytes],
) -> tuple[DataAttachment, str]:
    """Store an attachment's bytes from one streamed body, replacing an earlier one of that name; the document's new
    revision with it.

    Two phases, as file uploads: check (grant, document, room in the quota) and end that transaction, so no lock is
    held while the bytes stream into a new blob; then, in a new transaction, charge the quota and point the
    attachment at the blob (its old blob deleted once committed, the new one deleted if this does not commit).
    """
    if size is None:
        raise LengthRequired("Send the attachment's size in Content-Length.")
    if size > MAX_ATTACHMENT_BYTES:
        raise PayloadTooLarge(f"An attachment may hold at most {MAX_ATTACHMENT_BYTES} bytes.")
    collection = await get_collection(session=session, principal=principal, space=space, name=name, need="write", kind="blob")
    await _live_document(session, principal, collection, key)
    room = await quota.available(session=session, settings=settings, principal=principal)
    if room is not None and size > room:
        raise quota.QuotaExceeded(f"This attachment needs {size} bytes; {room} are left in your storage quota.")
    await session.commit()
    blob_key = uuid.uuid4().hex
    try:
        info = await storage.put(blob_key, chunks, max_size=size, expected_size=size)
    except (TooLarge, SizeMismatch):
        raise UnprocessableEntity(f"The body did not hold the {size} bytes Content-Length announced.") from None
    after_rollback(session, partial(storage.delete, blob_key))
    return await _attach(
        session=session, settings=settings, storage=storage, feeds=feeds, principal=principal, space=space, name=name, key=key,
        attachment=attachment, content_type=content_type, size=info.size, sha256=info.sha256, blob_key=blob_key,
    )  # fmt: skip


async def _attach(
    *,
    session: AsyncSession,
    settings: Settings,
    storage: Storage,
    feeds: FeedHub,
    principal: Principal,
    space: str,
    name: str,
    key: str,
    attachment: str,
    content_type: str,
    size: int,
    sha256: str | None,
    blob_key: str,
) -> tuple[DataAttachment, str]:
    """Point attachment `attachment` of a live document at a stored blob, charging its bytes (the lock as every write);
    the document's new revision."""
    collection = await _lock_collection(session, principal, space, name, create=False, kind="blob")
    document = await _live_document(session, principal, collection, key)
    row = await _attachment(session, principal, document, attachment)
    releases: dict[uuid.UUID, int] = {}
    old_size = 0
    if row is None:
        row = DataAttachment(tenant_id=principal.tenant_id, document_id=document.id, name=attachment)
        session.add(row)
    elif row.blob_key is not None:
        old_size = _release_attachment(session, storage, row, releases)
    await _settle_quota(session, settings, principal, charge=size, releases=releases)
    row.content_type, row.size, row.sha256, row.blob_key = content_type, size, sha256, blob_key
    row.staging_key, row.charged_to, row.updated_at = None, principal.user_id, utcnow()
    rev = _revise(session, collection, document, f"attachment {attachment} {sha256 or blob_key}")
    await _bump(session, collection, seq=document.seq, documents=0, size=size - old_size)
    after_commit(session, partial(feeds.announce, collection.id))
    return row, rev


def _revise(session: AsyncSession, collection: DataCollection, document: DataDocument, what: str) -> str:
    """An attachment written or deleted is a change of its document, as in CouchDB: a new revision (an update must name
    it) and the next change in the collection's feed, so a client that syncs by the feed fetches the attachment."""
    now = utcnow()
    rev = _next_rev(document.rev, f"{document.body}\n{what}")
    seq = collection.last_seq + 1
    document.rev, document.seq, document.updated_at = rev, seq, now
    session.add(DataChange(
        collection_id=collection.id, seq=seq, tenant_id=document.tenant_id, key=document.key, rev=rev,
        deleted=False, created_at=now,
    ))  # fmt: skip
    return rev


async def delete_attachment(
    *, session: AsyncSession, storage: Storage, feeds: FeedHub, principal: Principal, space: str, name: str, key: str,
    attachment: str,
) -> str:  # fmt: skip
    """Delete an attachment; its bytes go back to the quota and its blob is deleted once committed. The document's new
    revision."""
    collection = await _lock_collection(session, principal, space, name, create=False, kind="blob")
    document = await _live_document(session, principal, collection, key)
    row = await _attachment(session, principal, document, attachment)
    if row is None:
        raise NotFound(f"{key!r} has no attachment {attachment!r}.")
    releases: dict[uuid.UUID, int] = {}
    freed = _release_attachment(session, storage, row, releases)
    for user_id, size in releases.items():
        await quota.release(session=session, tenant_id=principal.tenant_id, user_id=user_id, size=size)
    await session.delete(row)
    rev = _revise(session, collection, document, f"attachment {attachment} deleted")
    await _bump(session, collection, seq=document.seq, documents=0, size=-freed)
    after_commit(session, partial(feeds.announce, collection.id))
    return rev


async def presign_attachment_upload(
    *, session: AsyncSession, settings: Settings, storage: Storage, principal: Principal, space: str, name: str,
    key: str, attachment: str, size: int, content_type: str,
) -> tuple[str | None, DataAttachment | None]:  # fmt: skip
    """A presigned URL straight into the object store's staging area (None: this storage takes the bytes through the
    API), with the pending attachment it fills once finalized. Checks the grant, the document and the quota's room."""
    collection = await get_collection(session=session, principal=principal, space=space, name=name, need="write", kind="blob")
    document = await _live_document(session, principal, collection, key)
    room = await quota.available(session=session, settings=settings, principal=principal)
    if room is not None and size > room:
        raise quota.QuotaExceeded(f"This attachment needs {size} bytes; {room} are left in your storage quota.")
    staging_key = uuid.uuid4().hex
    url = await storage.presign_put(staging_key, PRESIGN_EXPIRES_IN)
    if url is None:
        return None, None
    row = await _attachment(session, principal, document, attachment)
    if row is None:
        row = DataAttachment(
            tenant_id=principal.tenant_id, document_id=document.id, name=attachment, content_type=content_type, size=size
        )
        session.add(row)
    elif row.staging_key is not None:
        after_commit(session, partial(storage.stage_discard, row.staging_key))
    row.staging_key = staging_key
    if row.blob_key is None:
        row.size, row.content_type = size, content_type
    await session.flush()
    return url, row


async def finalize_attachment(
    *, session: AsyncSession, settings: Settings, storage: Storage, feeds: FeedHub, principal: Principal, space: str,
    name: str, key: str, attachment: str, size: int, content_type: str,
) -> tuple[DataAttachment, str]:  # fmt: skip
    """Make the bytes a presigned upload staged the attachment's content (their size checked), charging the quota."""
    collection = await get_collection(session=session, principal=principal, space=space, name=name, need="write", kind="blob")
    document = await _live_document(session, principal, collection, key)
    row = await _attachment(session, principal, document, attachment)
    if row is None or row.staging_key is None:
        raise NotFound(f"No upload of {attachment!r} is waiting; ask for a presigned upload first.")
    blob_key = uuid.uuid4().hex
    try:
        info = await storage.stage_seal(row.staging_key, size, blob_key)
    except (BlobNotFound, SizeMismatch):
        raise UnprocessableEntity(f"The staged bytes are not the {size} bytes announced; upload them again.") from None
    after_rollback(session, partial(storage.delete, blob_key))
    after_commit(session, partial(storage.stage_discard, row.staging_key))
    return await _attach(
        session=session, settings=settings, storage=storage, feeds=feeds, principal=principal, space=space, name=name, key=key,
        attachment=attachment, content_type=content_type, size=info.size, sha256=info.sha256, blob_key=blob_key,
    )  # fmt: skip

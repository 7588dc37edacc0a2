"""Routes of apps.data under /api/apps/data: collections, documents with revisions, bulk writes, the changes feed
(normal, long-poll, Server-Sent Events) and attachments. Every route needs `apps.use`; an app token reaches only
the collections its grants name (see the service)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import Body, Depends, Header, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import ClientDisconnect

from nubes.apps.data import service
from nubes.apps.data.feed import Change, FeedHub
from nubes.apps.data.models import DataAttachment, DataCollection, DataDocument
from nubes.apps.data.schemas import (
    ATTACHMENT_PATTERN,
    COLLECTION_PATTERN,
    KEY_PATTERN,
    SPACE_PATTERN,
    DataAttachmentDownloadRead,
    DataAttachmentPage,
    DataAttachmentRead,
    DataAttachmentUpload,
    DataAttachmentUploadRead,
    DataBulkResult,
    DataBulkWrite,
    DataChangeRead,
    DataChangesPage,
    DataCollectionPage,
    DataCollectionRead,
    DataDocumentCreate,
    DataDocumentMeta,
    DataDocumentPage,
    DataDocumentRead,
    Space,
)
from nubes.config import Settings
from nubes.core.db import SessionDep, utcnow
from nubes.core.errors import NotFound, UnprocessableEntity
from nubes.core.principal import Principal
from nubes.core.routing import api_router
from nubes.core.storage import Storage
from nubes.identity.deps import SettingsDep, require

router = api_router(prefix="/apps/data", tags=["apps"])

AppUser = Annotated[Principal, Depends(require("apps.use"))]
SpacePath = Annotated[
    str,
    Path(
        pattern=SPACE_PATTERN,
        max_length=36,
        description="`me` (or your own user id): your own collections; `shared`: your organization's.",
    ),
]
CollectionPath = Annotated[str, Path(pattern=COLLECTION_PATTERN, max_length=63, description="The collection's name.")]
KeyPath = Annotated[str, Path(pattern=KEY_PATTERN, max_length=200, description="The document's key.")]
AttachmentPath = Annotated[str, Path(pattern=ATTACHMENT_PATTERN, max_length=200, description="The attachment's name.")]
IfMatch = Annotated[str | None, Header(max_length=70, description="The revision being replaced (quoted or not).")]
RevQuery = Annotated[str | None, Query(max_length=64, description="The revision being replaced (instead of If-Match).")]
RAW_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The attachment's bytes, as is, with Content-Length and Content-Type.",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


async def storage_of(request: Request) -> Storage:
    """The app's blob storage."""
    storage: Storage = request.app.state.storage
    return storage


async def feeds_of(request: Request) -> FeedHub:
    """This process's changes-feed listeners."""
    feeds: FeedHub = request.app.state.data_feeds
    return feeds


async def feed_sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    """Sessions for the feed's reads outside the request's own (long-polls and streams outlive it)."""
    sessions: async_sessionmaker[AsyncSession] = request.app.state.db.reader_sessions
    return sessions


StorageDep = Annotated[Storage, Depends(storage_of)]
FeedsDep = Annotated[FeedHub, Depends(feeds_of)]
FeedSessions = Annotated[async_sessionmaker[AsyncSession], Depends(feed_sessions)]


def _collection(collection: DataCollection) -> DataCollectionRead:
    return DataCollectionRead(
        id=collection.id, space=service.space_label(collection), name=collection.name, client_id=collection.client_id,
        documents=collection.documents, bytes=collection.bytes, last_seq=collection.last_seq,
        created_at=collection.created_at, updated_at=collection.updated_at,
    )  # fmt: skip


def _meta(document: DataDocument) -> DataDocumentMeta:
    return DataDocumentMeta(
        key=document.key, rev=document.rev, seq=document.seq, deleted=document.deleted, size=document.size,
        updated_at=document.updated_at,
    )  # fmt: skip


def _attachment(attachment: DataAttachment, *, document_rev: str | None = None) -> DataAttachmentRead:
    return DataAttachmentRead(
        name=attachment.name, content_type=attachment.content_type, size=attachment.size, sha256=attachment.sha256,
        ready=attachment.blob_key is not None, updated_at=attachment.updated_at, document_rev=document_rev,
    )  # fmt: skip


def _rev(if_match: str | None, rev: str | None) -> str | None:
    given = rev if rev is not None else if_match
    if given is None:
        return None
    return given.strip().removeprefix("W/").strip('"')


@router.get("/collections", operation_id="apps-data-collections-list", response_model=DataCollectionPage, summary="Collections")
async def list_collections(
    session: SessionDep, principal: AppUser, space: Annotated[Space | None, Query(description="Only this space.")] = None
) -> DataCollectionPage:
    rows = await service.list_collections(session=session, principal=principal, space=space)
    return DataCollectionPage(items=[_collection(row) for row in rows])


@router.delete(
    "/{space}/{collection}", operation_id="apps-data-collections-delete", status_code=204, summary="Delete a collection"
)
async def delete_collection(
    session: SessionDep, principal: AppUser, storage: StorageDep, feeds: FeedsDep, space: SpacePath, collection: CollectionPath
) -> None:
    await service.delete_collection(
        session=session, storage=storage, feeds=feeds, principal=principal, space=space, name=collection
    )


@router.get(
    "/{space}/{collection}/docs", operation_id="apps-data-documents-list", response_model=DataDocumentPage, summary="Documents"
)
async def list_documents(
    session: SessionDep,
    principal: AppUser,
    space: SpacePath,
    collection: CollectionPath,
    after: Annotated[str | None, Query(max_length=200, description="The last key of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    deleted: Annotated[bool, Query(description="Include deleted documents (tombstones).")] = False,
) -> DataDocumentPage:
    rows, next_after = await service.list_documents(
        session=session, principal=principal, space=space, name=collection, after=after, limit=limit, deleted=deleted
    )
    return DataDocumentPage(items=[_meta(row) for row in rows], next_after=next_after)


@router.post(
    "/{space}/{collection}/docs",
    operation_id="apps-data-documents-create",
    status_code=201,
    response_model=DataDocumentMeta,
    summary="Add a document under a new key the server makes",
)
async def create_document(
    response: Response, session: SessionDep, settings: SettingsDep, storage: StorageDep, feeds: FeedsDep,
    principal: AppUser, space: SpacePath, collection: CollectionPath, body: DataDocumentCreate,
) -> DataDocumentMeta:  # fmt: skip
    writes = [service.Write(service.new_key(), None, service.encode(body.body))]
    written = await service.write(
        session=session, settings=settings, storage=storage, feeds=feeds, principal=principal, space=space, name=collection,
        writes=writes,
    )  # fmt: skip
    response.headers["ETag"] = f'"{written[0].rev}"'
    return _meta(written[0])


@router.get(
    "/{space}/{collection}/docs/{doc_key}",
    operation_id="apps-data-documents-get",
    response_model=DataDocumentRead,
    summary="A document",
)
async def get_document(
    response: Response, session: SessionDep, principal: AppUser, space: SpacePath, collection: CollectionPath, doc_key: KeyPath
) -> DataDocumentRead:
    document = await service.get_document(session=session, principal=principal, space=space, name=collection, key=doc_key)
    if document.deleted:
        raise NotFound(
            f"{doc_key!r} was deleted; write it again without a revision to bring it back.",
            extensions={"current_rev": document.rev},
        )
    response.headers["ETag"] = f'"{document.rev}"'
    return DataDocumentRead(
        key=document.key, rev=document.rev, seq=document.seq, deleted=document.deleted, body=service.decode(document),
        created_at=document.created_at, updated_at=document.updated_at,
    )  # fmt: skip


@router.put(
    "/{space}/{collection}/docs/{doc_key}",
    operation_id="apps-data-documents-put",
    response_model=DataDocumentMeta,
    summary="Create a document, or update it (its current revision in If-Match or rev)",
)
async def put_document(
    response: Response, session: SessionDep, settings: SettingsDep, storage: StorageDep, feeds: FeedsDep,
    principal: AppUser, space: SpacePath, collection: CollectionPath, doc_key: KeyPath,
    body: Annotated[dict[str, Any], Body(description="The document: a JSON object, at most 1 MiB and 32 levels deep.")],
    if_match: IfMatch = None, rev: RevQuery = None,
) -> DataDocumentMeta:  # fmt: skip
    if doc_key in {".", ".."}:
        raise UnprocessableEntity("`.` and `..` cannot be keys (URLs resolve them away); choose another.")
    writes = [service.Write(doc_key, _rev(if_match, rev), service.encode(body))]
    written = await service.write(
        session=session, settings=settings, storage=storage, feeds=feeds, principal=principal, space=space, name=collection,
        writes=writes,
    )  # fmt: skip
    response.headers["ETag"] = f'"{written[0].rev}"'
    return _meta(written[0])


@router.delete(
    "/{space}/{collection}/docs/{doc_key}",
    operation_id="apps-data-documents-delete",
    response_model=DataDocumentMeta,
    summary="Delete a document (its current revision in If-Match or rev); a tombstone stays in the feed",
)
async def delete_document(
    session: SessionDep, settings: SettingsDep, storage: StorageDep, feeds: FeedsDep, principal: AppUser,
    space: SpacePath, collection: CollectionPath, doc_key: KeyPath, if_match: IfMatch = None, rev: RevQuery = None,
) -> DataDocumentMeta:  # fmt: skip
    written = await service.write(
        session=session, settings=settings, storage=storage, feeds=feeds, principal=principal, space=space, name=collection,
        writes=[service.Write(doc_key, _rev(if_match, rev), None)],
    )  # fmt: skip
    return _meta(written[0])


@router.post(
    "/{space}/{collection}/bulk",
    operation_id="apps-data-documents-bulk",
    response_model=DataBulkResult,
    summary="Write up to 100 documents together: all of them, or none",
)
async def bulk_write(
    session: SessionDep, settings: SettingsDep, storage: StorageDep, feeds: FeedsDep, principal: AppUser,
    space: SpacePath, collection: CollectionPath, body: DataBulkWrite,
) -> DataBulkResult:  # fmt: skip
    written = await service.write(
        session=session, settings=settings, storage=storage, feeds=feeds, principal=principal, space=space, name=collection,
        writes=service.writes_of(body.docs),
    )  # fmt: skip
    return DataBulkResult(items=[_meta(row) for row in written])


def _change(change: Change) -> DataChangeRead:
    return DataChangeRead(seq=change.seq, key=change.key, rev=change.rev, deleted=change.deleted)


@router.get(
    "/{space}/{collection}/changes",
    operation_id="apps-data-changes",
    response_model=DataChangesPage,
    summary="The collection's changes after `since` (CouchDB's _changes): at once, long-polled, or as Server-Sent Events",
    responses={200: {"content": {"application/json": {}, "text/event-stream": {}}}},
)
async def changes(
    session: SessionDep,
    principal: AppUser,
    feeds: FeedsDep,
    sessions: FeedSessions,
    space: SpacePath,
    collection: CollectionPath,
    since: Annotated[int, Query(ge=0, le=2**62, description="The last seq you have; 0 for everything.")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    feed: Annotated[
        Literal["normal", "longpoll", "eventsource"],
        Query(description="`normal` answers at once; `longpoll` waits for a change; `eventsource` streams them (SSE)."),
    ] = "normal",
    wait: Annotated[float, Query(alias="timeout", gt=0, le=60, description="Seconds a long-poll waits, or a stream lasts.")] = 30,
    last_event_id: Annotated[str | None, Header(max_length=20, description="An event stream's resume point.")] = None,
) -> Any:
    if feed == "eventsource" and last_event_id is not None and last_event_id.isdigit():
        since = max(since, int(last_event_id))
    found = await service.get_collection(session=session, principal=principal, space=space, name=collection)
    service.check_cursor(found, since)
    read = service.reader(sessions, tenant_id=principal.tenant_id, collection_id=found.id)
    if feed == "eventsource":
        stream = service.follow(feeds=feeds, read=read, collection_id=found.id, since=since, lasting=wait)
        return StreamingResponse(
            _events(stream), media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        )
    results, last_seq, pending = await service.changes(
        session=session, feeds=feeds, read=read, collection=found, since=since, limit=limit,
        wait=wait if feed == "longpoll" else 0,
    )  # fmt: skip
    return DataChangesPage(results=[_change(change) for change in results], last_seq=last_seq, pending=pending)


async def _events(stream: AsyncIterator[list[Change]]) -> AsyncIterator[bytes]:
    """Server-Sent Events: one `change` event per change (its seq as the event id), a comment as a heartbeat."""
    yield b"retry: 1000\n\n"
    async for batch in stream:
        if not batch:
            yield b": keepalive\n\n"
            continue
        yield b"".join(
            f"id: {change.seq}\nevent: change\ndata: {json.dumps(_change(change).model_dump())}\n\n".encode() for change in batch
        )


# --- attachments ------------------------------------------------------------------------------------


@router.get(
    "/{space}/{collection}/docs/{doc_key}/attachments",
    operation_id="apps-data-attachments-list",
    response_model=DataAttachmentPage,
    summary="A document's attachments",
)
async def list_attachments(
    session: SessionDep, principal: AppUser, space: SpacePath, collection: CollectionPath, doc_key: KeyPath
) -> DataAttachmentPage:
    rows = await service.list_attachments(session=session, principal=principal, space=space, name=collection, key=doc_key)
    return DataAttachmentPage(items=[_attachment(row) for row in rows])


async def _chunks(request: Request) -> AsyncIterator[bytes]:
    try:
        async for chunk in request.stream():
            if chunk:
                yield chunk
    except ClientDisconnect:
        raise UnprocessableEntity("The connection closed before the whole attachment arrived; nothing was kept.") from None


@router.put(
    "/{space}/{collection}/docs/{doc_key}/attachments/{attachment}",
    operation_id="apps-data-attachments-put",
    response_model=DataAttachmentRead,
    summary="Store an attachment's bytes (streamed; replaces one of that name)",
    openapi_extra=RAW_BODY,
    max_body_size=service.MAX_ATTACHMENT_BYTES,
)
async def put_attachment(
    request: Request, session: SessionDep, settings: SettingsDep, storage: StorageDep, feeds: FeedsDep,
    principal: AppUser, space: SpacePath, collection: CollectionPath, doc_key: KeyPath, attachment: AttachmentPath,
) -> DataAttachmentRead:  # fmt: skip
    declared = request.headers.get("content-length")
    row, rev = await service.put_attachment(
        session=session, settings=settings, storage=storage, feeds=feeds, principal=principal, space=space, name=collection,
        key=doc_key, attachment=attachment, content_type=_content_type(request.headers.get("content-type")),
        size=int(declared) if declared is not None and declared.isdigit() else None, chunks=_chunks(request),
    )  # fmt: skip
    return _attachment(row, document_rev=rev)


def _content_type(value: str | None) -> str:
    if not value or len(value) > 200 or not value.isascii() or not value.isprintable():
        return "application/octet-stream"
    return value


@router.get(
    "/{space}/{collection}/docs/{doc_key}/attachments/{attachment}",
    operation_id="apps-data-attachments-get",
    summary="An attachment's bytes",
    responses={200: {"content": {"application/octet-stream": {}}}},
)
async def get_attachment(
    session: SessionDep, principal: AppUser, storage: StorageDep, space: SpacePath, collection: CollectionPath,
    doc_key: KeyPath, attachment: AttachmentPath,
) -> StreamingResponse:  # fmt: skip
    row = await service.get_attachment(
        session=session, principal=principal, space=space, name=collection, key=doc_key, attachment=attachment
    )
    headers = {"Content-Length": str(row.size), "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
    if row.sha256:
        headers["ETag"] = f'"{row.sha256}"'
    return StreamingResponse(
        storage.get(row.blob_key or ""),
        media_type="application/octet-stream" if row.content_type.startswith("text/html") else row.content_type,
        headers={**headers, "Content-Disposition": "attachment"},
    )


@router.delete(
    "/{space}/{collection}/docs/{doc_key}/attachments/{attachment}",
    operation_id="apps-data-attachments-delete",
    status_code=204,
    summary="Delete an attachment",
)
async def delete_attachment(
    response: Response, session: SessionDep, principal: AppUser, storage: StorageDep, feeds: FeedsDep,
    space: SpacePath, collection: CollectionPath, doc_key: KeyPath, attachment: AttachmentPath,
) -> None:  # fmt: skip
    """The document's new revision is in the ETag (a delete is a change of the document, as in CouchDB)."""
    rev = await service.delete_attachment(
        session=session, storage=storage, feeds=feeds, principal=principal, space=space, name=collection, key=doc_key,
        attachment=attachment,
    )  # fmt: skip
    response.headers["ETag"] = f'"{rev}"'


def _api_url(request: Request, settings: Settings, path: str) -> str:
    base = settings.public_url.rstrip("/") or str(request.base_url).rstrip("/")
    return f"{base}{path}"


@router.post(
    "/{space}/{collection}/docs/{doc_key}/attachments/{attachment}/presign-upload",
    operation_id="apps-data-attachments-presign-upload",
    status_code=201,
    response_model=DataAttachmentUploadRead,
    summary="Where to send an attachment's bytes: the object store directly (then finalize), or this API",
)
async def presign_upload(
    request: Request, session: SessionDep, settings: SettingsDep, storage: StorageDep, principal: AppUser,
    space: SpacePath, collection: CollectionPath, doc_key: KeyPath, attachment: AttachmentPath, body: DataAttachmentUpload,
) -> DataAttachmentUploadRead:  # fmt: skip
    url, _ = await service.presign_attachment_upload(
        session=session, settings=settings, storage=storage, principal=principal, space=space, name=collection,
        key=doc_key, attachment=attachment, size=body.size, content_type=body.content_type,
    )  # fmt: skip
    expires_at = utcnow() + service.PRESIGN_EXPIRES_IN
    if url is not None:
        return DataAttachmentUploadRead(url=url, method="PUT", headers={}, finalize=True, expires_at=expires_at)
    return DataAttachmentUploadRead(
        url=_api_url(request, settings, request.url.path.removesuffix("/presign-upload")),
        method="PUT",
        headers={"Content-Type": body.content_type, "Content-Length": str(body.size)},
        finalize=False,
        expires_at=expires_at,
    )


@router.post(
    "/{space}/{collection}/docs/{doc_key}/attachments/{attachment}/finalize",
    operation_id="apps-data-attachments-finalize",
    response_model=DataAttachmentRead,
    summary="Make a presigned upload's staged bytes the attachment (their size is checked)",
)
async def finalize(
    session: SessionDep, settings: SettingsDep, storage: StorageDep, feeds: FeedsDep, principal: AppUser,
    space: SpacePath, collection: CollectionPath, doc_key: KeyPath, attachment: AttachmentPath, body: DataAttachmentUpload,
) -> DataAttachmentRead:  # fmt: skip
    row, rev = await service.finalize_attachment(
        session=session, settings=settings, storage=storage, feeds=feeds, principal=principal, space=space,
        name=collection, key=doc_key, attachment=attachment, size=body.size, content_type=body.content_type,
    )  # fmt: skip
    return _attachment(row, document_rev=rev)


@router.get(
    "/{space}/{collection}/docs/{doc_key}/attachments/{attachment}/download-url",
    operation_id="apps-data-attachments-download-url",
    response_model=DataAttachmentDownloadRead,
    summary="A URL that reads an attachment: the object store's own (short-lived), or this API's",
)
async def download_url(
    request: Request, session: SessionDep, settings: SettingsDep, storage: StorageDep, principal: AppUser,
    space: SpacePath, collection: CollectionPath, doc_key: KeyPath, attachment: AttachmentPath,
) -> DataAttachmentDownloadRead:  # fmt: skip
    row = await service.get_attachment(
        session=session, principal=principal, space=space, name=collection, key=doc_key, attachment=attachment
    )
    url = await storage.presign_get(row.blob_key or "", service.PRESIGN_EXPIRES_IN)
    if url is not None:
        return DataAttachmentDownloadRead(url=url, expires_at=utcnow() + service.PRESIGN_EXPIRES_IN)
    return DataAttachmentDownloadRead(
        url=_api_url(request, settings, request.url.path.removesuffix("/download-url")), expires_at=None
    )

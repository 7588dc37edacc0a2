"""Routes of the files domain: the tree, uploads and downloads, versions, trash, favorites, search, quota."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import BackgroundTasks, Depends, File, Query, Request, Response, UploadFile
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import ClientDisconnect

from nubes.core import names
from nubes.core.db import SessionDep
from nubes.core.errors import UnprocessableEntity
from nubes.core.pagination import Limit, Offset
from nubes.core.principal import Principal
from nubes.core.routing import api_router
from nubes.files import content, service, tasks
from nubes.files.models import FileNode
from nubes.files.schemas import (
    FileCopy,
    FilePage,
    FileRead,
    FolderCreate,
    FolderListing,
    QuotaRead,
    QuotaUpdate,
    TrashRestore,
    VersionRead,
)
from nubes.files.schemas import FileUpdate as FileUpdateIn
from nubes.files.storage import CHUNK_SIZE, BlobNotFound, LocalStorage, Storage
from nubes.identity.deps import OriginDep, SettingsDep, require
from nubes.identity.users import service as identity_service

router = api_router()

# Uploads are bounded by the quota, not by a fixed body limit; this only tells FastAPI the route takes large bodies.
MAX_UPLOAD_BYTES = 1 << 42

Reader = Annotated[Principal, Depends(require("files.read"))]
Writer = Annotated[Principal, Depends(require("files.write"))]
NodeId = Annotated[uuid.UUID, "a file or folder id"]


async def storage_of(request: Request) -> Storage:
    """The app's blob storage."""
    storage: Storage = request.app.state.storage
    return storage


StorageDep = Annotated[Storage, Depends(storage_of)]


async def _thumbnails_of(request: Request) -> tasks.ThumbnailWorker:
    worker: tasks.ThumbnailWorker = request.app.state.thumbnails
    return worker


ThumbnailsDep = Annotated[tasks.ThumbnailWorker, Depends(_thumbnails_of)]


def _wake_after_commit(background: BackgroundTasks, worker: tasks.ThumbnailWorker) -> None:
    # Background tasks run after the response, which is sent once the request's transaction has committed
    # (SessionDep): a thumbnail job queued by the request is in its table by then.
    background.add_task(worker.wake)


_RAW_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The file's bytes, as is. Send Content-Length when you know it: a body that does not match is refused.",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}
_DOWNLOAD: dict[int | str, dict[str, Any]] = {
    200: {"description": "The content (a zip for a folder)", "content": {"application/octet-stream": {}}},
    206: {"description": "The asked byte range", "content": {"application/octet-stream": {}}},
    304: {"description": "Not modified (If-None-Match matched)"},
}


async def _reads(session: AsyncSession, principal: Principal, nodes: list[FileNode]) -> list[FileRead]:
    starred = await service.favorite_ids(session=session, principal=principal, node_ids=[node.id for node in nodes])
    return [FileRead.model_validate(node).model_copy(update={"favorite": node.id in starred}) for node in nodes]


async def _read(session: AsyncSession, principal: Principal, node: FileNode) -> FileRead:
    return (await _reads(session, principal, [node]))[0]


def _declared_length(request: Request) -> int | None:
    declared = request.headers.get("content-length")
    if declared is None:
        return None
    length = content.whole_number(declared)
    if length is None:
        raise UnprocessableEntity("Content-Length must be a number of bytes.")
    return length


async def _cut_off_is_incomplete(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """A client that goes away mid-body is an incomplete upload, not a server error."""
    try:
        async for chunk in chunks:
            if chunk:
                yield chunk
    except ClientDisconnect:
        raise service.UploadIncomplete("The connection closed before the whole file arrived; nothing was kept.") from None


async def _upload_file_chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(CHUNK_SIZE):
        yield chunk


# --- the tree ------------------------------------------------------------------------------------


@router.get("/files", operation_id="files-list", response_model=FolderListing, tags=["files"], summary="List a folder")
async def list_folder(
    session: SessionDep,
    principal: Reader,
    parent_id: Annotated[uuid.UUID | None, Query(description="The folder to list; your root when absent.")] = None,
    limit: Limit = 200,
    offset: Offset = 0,
) -> FolderListing:
    folder, path, items, total = await service.list_children(
        session=session, principal=principal, parent_id=parent_id, limit=limit, offset=offset
    )
    return FolderListing(
        folder=await _read(session, principal, folder),
        path=await _reads(session, principal, path),
        items=await _reads(session, principal, items),
        total=total,
    )


@router.post(
    "/files/folders",
    operation_id="files-create-folder",
    status_code=201,
    response_model=FileRead,
    tags=["files"],
    summary="Create a folder",
)
async def create_folder(session: SessionDep, principal: Writer, folder_in: FolderCreate) -> FileRead:
    node = await service.create_folder(session=session, principal=principal, folder_in=folder_in)
    return await _read(session, principal, node)


@router.post(
    "/files/upload",
    operation_id="files-upload",
    status_code=201,
    response_model=FileRead,
    tags=["files"],
    summary="Upload a file (multipart, field `file`)",
    max_body_size=MAX_UPLOAD_BYTES,
)
async def upload(
    session: SessionDep,
    background: BackgroundTasks,
    thumbnails: ThumbnailsDep,
    principal: Writer,
    settings: SettingsDep,
    storage: StorageDep,
    file: Annotated[UploadFile, File(description="The file; its filename is the new file's name.")],
    parent_id: Annotated[uuid.UUID | None, Query(description="The folder to upload into; your root when absent.")] = None,
) -> FileRead:
    name = file.filename or ""
    room = await service.check_upload(
        session=session, settings=settings, principal=principal, parent_id=parent_id, name=name, expected_size=file.size
    )
    await session.commit()  # end the read transaction: the copy into storage must hold no snapshot or connection
    node = await service.upload(
        session=session,
        settings=settings,
        principal=principal,
        storage=storage,
        parent_id=parent_id,
        name=name,
        content_type=file.content_type or "",
        chunks=_upload_file_chunks(file),
        expected_size=file.size,
        room=room,
    )
    _wake_after_commit(background, thumbnails)
    return await _read(session, principal, node)


@router.post(
    "/files/upload/raw",
    operation_id="files-upload-raw",
    status_code=201,
    response_model=FileRead,
    tags=["files"],
    summary="Upload a file as the raw request body",
    openapi_extra=_RAW_BODY,
    max_body_size=MAX_UPLOAD_BYTES,
)
async def upload_raw(
    request: Request,
    session: SessionDep,
    background: BackgroundTasks,
    thumbnails: ThumbnailsDep,
    principal: Writer,
    settings: SettingsDep,
    storage: StorageDep,
    name: Annotated[str, Query(min_length=1, max_length=1024, description="The new file's name.")],
    parent_id: Annotated[uuid.UUID | None, Query(description="The folder to upload into; your root when absent.")] = None,
) -> FileRead:
    expected = _declared_length(request)
    room = await service.check_upload(
        session=session, settings=settings, principal=principal, parent_id=parent_id, name=name, expected_size=expected
    )
    await session.commit()  # end the read transaction before streaming (see files-upload)
    node = await service.upload(
        session=session,
        settings=settings,
        principal=principal,
        storage=storage,
        parent_id=parent_id,
        name=name,
        content_type=request.headers.get("content-type", ""),
        chunks=_cut_off_is_incomplete(request.stream()),
        expected_size=expected,
        room=room,
    )
    _wake_after_commit(background, thumbnails)
    return await _read(session, principal, node)


@router.get("/files/search", operation_id="files-search", response_model=FilePage, tags=["files"], summary="Find by name")
async def search(
    session: SessionDep,
    principal: Reader,
    q: Annotated[str, Query(min_length=1, max_length=255, description="Words the name's words start with.")],
) -> FilePage:
    items = await service.search(session=session, principal=principal, query=q)
    return FilePage(items=await _reads(session, principal, items), total=len(items))


@router.get("/files/recent", operation_id="files-recent", response_model=FilePage, tags=["files"], summary="Recently changed")
async def recent(session: SessionDep, principal: Reader) -> FilePage:
    items = await service.recent(session=session, principal=principal)
    return FilePage(items=await _reads(session, principal, items), total=len(items))


@router.get("/files/favorites", operation_id="files-favorites", response_model=FilePage, tags=["files"], summary="Starred")
async def favorites(session: SessionDep, principal: Reader) -> FilePage:
    items = await service.favorites(session=session, principal=principal)
    return FilePage(items=await _reads(session, principal, items), total=len(items))


@router.get(
    "/files/{node_id:uuid}", operation_id="files-get", response_model=FileRead, tags=["files"], summary="One file or folder"
)
async def get_node(session: SessionDep, principal: Reader, node_id: uuid.UUID) -> FileRead:
    node = await service.get_or_raise(session=session, principal=principal, node_id=node_id)
    return await _read(session, principal, node)


@router.get(
    "/files/{node_id:uuid}/content",
    operation_id="files-download",
    tags=["files"],
    summary="Download (Range, If-None-Match, If-Range); a folder comes as a zip",
    response_class=StreamingResponse,
    responses=_DOWNLOAD,
)
async def download(request: Request, session: SessionDep, principal: Reader, storage: StorageDep, node_id: uuid.UUID) -> Response:
    node = await service.get_or_raise(session=session, principal=principal, node_id=node_id)
    return await send_node(request, session, storage, principal, node)


async def send_node(request: Request, session: AsyncSession, storage: Storage, principal: Principal, node: FileNode) -> Response:
    """A file's content (ranges, validators) or a folder as a streamed zip; ends the transaction first."""
    if node.kind != "file":
        folder, entries = await service.zip_entries(session=session, principal=principal, node_id=node.id)
        await session.commit()  # the zip may take long to send: hold no transaction meanwhile
        return StreamingResponse(
            content.zip_stream(entries, storage),
            media_type="application/zip",
            headers={"Content-Disposition": names.content_disposition((folder.name or "files") + ".zip")},
        )
    await session.commit()
    return _send_blob(
        request,
        storage,
        name=node.name,
        key=node.blob_key or "",
        size=node.size,
        sha256=node.sha256 or "",
        content_type=node.content_type,
        modified=content.http_date(node.updated_at),
    )


def _send_blob(
    request: Request, storage: Storage, *, name: str, key: str, size: int, sha256: str, content_type: str, modified: str
) -> Response:
    etag = content.etag_of(sha256)
    headers = {
        "ETag": etag,
        "Last-Modified": modified,
        "Accept-Ranges": "bytes",
        "Cache-Control": "private, no-cache",
        "Content-Disposition": names.content_disposition(name),
    }
    if content.not_modified(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    wanted = None
    if content.range_applies(request.headers.get("if-range"), etag, modified):
        wanted = content.byte_range(request.headers.get("range"), size)
    media_type = content_type or "application/octet-stream"
    if wanted is None:
        # A whole blob on the local disk can go out as a file path (zero-copy where the server supports it).
        path = None
        if isinstance(storage, LocalStorage):
            with contextlib.suppress(BlobNotFound):  # a bad key: streaming it reports the error as before
                path = storage.path_of(key)
        return content.BlobResponse(
            storage.get(key), path=path, status_code=200, media_type=media_type, headers={**headers, "Content-Length": str(size)}
        )
    first, end = wanted
    headers |= {"Content-Range": f"bytes {first}-{end - 1}/{size}", "Content-Length": str(end - first)}
    return content.BlobResponse(storage.get(key, first, end), path=None, status_code=206, media_type=media_type, headers=headers)


@router.get(
    "/files/{node_id:uuid}/thumbnail",
    operation_id="files-thumbnail",
    tags=["files"],
    summary="A small WebP preview of an image (404 `thumbnail-not-ready` while it is being made)",
    response_class=Response,
    responses={
        200: {"description": "The thumbnail", "content": {"image/webp": {}}},
        304: {"description": "Not modified (If-None-Match matched)"},
    },
)
async def thumbnail(
    request: Request,
    session: SessionDep,
    principal: Reader,
    storage: StorageDep,
    node_id: uuid.UUID,
    size: Annotated[int, Query(ge=16, le=tasks.THUMBNAIL_SIZE, description="The longest side wanted, in pixels.")] = 256,
) -> Response:
    # One size is made (the largest allowed); the browser scales it down for smaller boxes.
    del size
    _node, row = await service.get_thumbnail(session=session, principal=principal, node_id=node_id)
    await session.commit()
    etag = f'"{row.blob_key}"'
    headers = {"ETag": etag, "Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"}
    if content.not_modified(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return StreamingResponse(
        storage.get(row.blob_key or ""), media_type="image/webp", headers={**headers, "Content-Length": str(row.size)}
    )


@router.put(
    "/files/{node_id:uuid}/content",
    operation_id="files-replace-content",
    response_model=FileRead,
    tags=["files"],
    summary="Upload new content (the current one is kept as a version)",
    openapi_extra=_RAW_BODY,
    max_body_size=MAX_UPLOAD_BYTES,
)
async def replace_content(
    request: Request,
    session: SessionDep,
    background: BackgroundTasks,
    thumbnails: ThumbnailsDep,
    principal: Writer,
    settings: SettingsDep,
    storage: StorageDep,
    node_id: uuid.UUID,
) -> FileRead:
    expected = _declared_length(request)
    room = await service.check_replace(
        session=session, settings=settings, principal=principal, node_id=node_id, expected_size=expected
    )
    await session.commit()  # end the read transaction before streaming (see files-upload)
    node = await service.replace_content(
        session=session,
        settings=settings,
        principal=principal,
        storage=storage,
        node_id=node_id,
        content_type=request.headers.get("content-type", ""),
        chunks=_cut_off_is_incomplete(request.stream()),
        expected_size=expected,
        room=room,
    )
    _wake_after_commit(background, thumbnails)
    return await _read(session, principal, node)


@router.patch(
    "/files/{node_id:uuid}", operation_id="files-update", response_model=FileRead, tags=["files"], summary="Rename and/or move"
)
async def update(session: SessionDep, principal: Writer, node_id: uuid.UUID, node_in: FileUpdateIn) -> FileRead:
    node = await service.update(session=session, principal=principal, node_id=node_id, node_in=node_in)
    return await _read(session, principal, node)


@router.post(
    "/files/{node_id:uuid}/copy",
    operation_id="files-copy",
    status_code=201,
    response_model=FileRead,
    tags=["files"],
    summary="Copy",
)
async def copy(
    session: SessionDep,
    background: BackgroundTasks,
    thumbnails: ThumbnailsDep,
    principal: Writer,
    settings: SettingsDep,
    storage: StorageDep,
    node_id: uuid.UUID,
    copy_in: FileCopy,
) -> FileRead:
    node = await service.copy(
        session=session, settings=settings, principal=principal, storage=storage, node_id=node_id, copy_in=copy_in
    )
    _wake_after_commit(background, thumbnails)
    return await _read(session, principal, node)


@router.delete(
    "/files/{node_id:uuid}", operation_id="files-trash", response_model=FileRead, tags=["files"], summary="Move to the trash"
)
async def trash(session: SessionDep, principal: Writer, origin: OriginDep, node_id: uuid.UUID) -> FileRead:
    node = await service.trash(session=session, principal=principal, node_id=node_id, origin=origin)
    return await _read(session, principal, node)


@router.put(
    "/files/{node_id:uuid}/favorite", operation_id="files-favorite-add", response_model=FileRead, tags=["files"], summary="Star"
)
async def star(session: SessionDep, principal: Reader, node_id: uuid.UUID) -> FileRead:
    node = await service.set_favorite(session=session, principal=principal, node_id=node_id, favorite=True)
    return await _read(session, principal, node)


@router.delete(
    "/files/{node_id:uuid}/favorite",
    operation_id="files-favorite-remove",
    response_model=FileRead,
    tags=["files"],
    summary="Unstar",
)
async def unstar(session: SessionDep, principal: Reader, node_id: uuid.UUID) -> FileRead:
    node = await service.set_favorite(session=session, principal=principal, node_id=node_id, favorite=False)
    return await _read(session, principal, node)


# --- versions ------------------------------------------------------------------------------------


@router.get(
    "/files/{node_id:uuid}/versions",
    operation_id="files-versions",
    response_model=list[VersionRead],
    tags=["files"],
    summary="Earlier contents, newest first",
)
async def versions(session: SessionDep, principal: Reader, node_id: uuid.UUID) -> list[VersionRead]:
    rows = await service.list_versions(session=session, principal=principal, node_id=node_id)
    return [VersionRead.model_validate(row) for row in rows]


@router.get(
    "/files/{node_id:uuid}/versions/{version_id:uuid}/content",
    operation_id="files-version-download",
    tags=["files"],
    summary="Download an earlier content",
    response_class=StreamingResponse,
    responses=_DOWNLOAD,
)
async def download_version(
    request: Request, session: SessionDep, principal: Reader, storage: StorageDep, node_id: uuid.UUID, version_id: uuid.UUID
) -> Response:
    node, version = await service.get_version(session=session, principal=principal, node_id=node_id, version_id=version_id)
    await session.commit()
    return _send_blob(
        request,
        storage,
        name=node.name,
        key=version.blob_key,
        size=version.size,
        sha256=version.sha256,
        content_type=version.content_type,
        modified=content.http_date(version.created_at),
    )


@router.post(
    "/files/{node_id:uuid}/versions/{version_id:uuid}/restore",
    operation_id="files-version-restore",
    response_model=FileRead,
    tags=["files"],
    summary="Make an earlier content current (the current one is kept)",
)
async def restore_version(
    session: SessionDep,
    background: BackgroundTasks,
    thumbnails: ThumbnailsDep,
    principal: Writer,
    settings: SettingsDep,
    storage: StorageDep,
    node_id: uuid.UUID,
    version_id: uuid.UUID,
) -> FileRead:
    node = await service.restore_version(
        session=session, settings=settings, principal=principal, storage=storage, node_id=node_id, version_id=version_id
    )
    _wake_after_commit(background, thumbnails)
    return await _read(session, principal, node)


# --- trash ---------------------------------------------------------------------------------------


@router.get("/trash", operation_id="trash-list", response_model=FilePage, tags=["files"], summary="What you deleted")
async def list_trash(session: SessionDep, principal: Reader, limit: Limit = 200, offset: Offset = 0) -> FilePage:
    items, total = await service.list_trash(session=session, principal=principal, limit=limit, offset=offset)
    return FilePage(items=await _reads(session, principal, items), total=total)


@router.post(
    "/trash/{node_id:uuid}/restore", operation_id="trash-restore", response_model=FileRead, tags=["files"], summary="Restore"
)
async def restore(
    session: SessionDep, principal: Writer, origin: OriginDep, node_id: uuid.UUID, restore_in: TrashRestore | None = None
) -> FileRead:
    name = restore_in.name if restore_in is not None else None
    node = await service.restore(session=session, principal=principal, node_id=node_id, name=name, origin=origin)
    return await _read(session, principal, node)


@router.delete("/trash/{node_id:uuid}", operation_id="trash-purge", status_code=204, tags=["files"], summary="Delete for good")
async def purge(session: SessionDep, principal: Writer, storage: StorageDep, origin: OriginDep, node_id: uuid.UUID) -> None:
    await service.purge(session=session, principal=principal, storage=storage, node_id=node_id, origin=origin)


@router.delete("/trash", operation_id="trash-empty", status_code=204, tags=["files"], summary="Empty the trash")
async def empty_trash(session: SessionDep, principal: Writer, storage: StorageDep, origin: OriginDep) -> None:
    await service.empty_trash(session=session, principal=principal, storage=storage, origin=origin)


# --- quota ---------------------------------------------------------------------------------------


async def _quota(session: AsyncSession, settings: Any, principal: Principal) -> QuotaRead:
    user_used, user_quota, tenant_used, tenant_quota = await service.usage(
        session=session, settings=settings, principal=principal
    )
    room = await service.available(session=session, settings=settings, principal=principal)
    trash_bytes, versions_bytes = await service.breakdown(session=session, principal=principal)
    return QuotaRead(
        used_bytes=user_used,
        trash_bytes=trash_bytes,
        versions_bytes=versions_bytes,
        quota_bytes=user_quota,
        tenant_used_bytes=tenant_used,
        tenant_quota_bytes=tenant_quota,
        available_bytes=room,
    )


@router.get("/users/me/quota", operation_id="users-me-quota", response_model=QuotaRead, tags=["users"], summary="My storage")
async def my_quota(session: SessionDep, principal: Reader, settings: SettingsDep) -> QuotaRead:
    return await _quota(session, settings, principal)


@router.put(
    "/admin/users/{user_id:uuid}/quota",
    operation_id="admin-users-quota",
    status_code=204,
    tags=["admin"],
    summary="Set a user's storage quota",
)
async def set_quota(
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("tenant.manage"))],
    user_id: uuid.UUID,
    quota_in: QuotaUpdate,
) -> None:
    user = await identity_service.get_user_to_change(session=session, principal=principal, user_id=user_id)
    await service.set_user_quota(session=session, tenant_id=user.tenant_id, user_id=user.id, quota_bytes=quota_in.quota_bytes)

"""Routes of the tree: folders, uploads and downloads, new content, moves and copies, trash, favorites, search."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import File, Query, Request, Response, UploadFile
from fastapi.responses import StreamingResponse

from nubes.core.db import SessionDep
from nubes.core.http import RowsJSON
from nubes.core.pagination import Limit, Offset
from nubes.core.routing import api_router
from nubes.files.deps import (
    DOWNLOAD_RESPONSES,
    MAX_UPLOAD_BYTES,
    RAW_BODY,
    Reader,
    StorageDep,
    Writer,
    cut_off_is_incomplete,
    declared_length,
    file_read,
    read_rows,
    send_node,
    upload_file_chunks,
)
from nubes.files.tree import service
from nubes.files.tree.schemas import FileCopy, FilePage, FilePlace, FileRead, FolderCreate, FolderListing, TrashRestore
from nubes.files.tree.schemas import FileUpdate as FileUpdateIn
from nubes.files.uploads import service as uploads
from nubes.identity.deps import OriginDep, SettingsDep

router = api_router()


NodeId = Annotated[uuid.UUID, "a file or folder id"]


# --- the tree ------------------------------------------------------------------------------------


@router.get("/files", operation_id="files-list", response_model=FolderListing, tags=["files"], summary="List a folder")
async def list_folder(
    session: SessionDep,
    principal: Reader,
    parent_id: Annotated[uuid.UUID | None, Query(description="The folder to list; your root when absent.")] = None,
    limit: Limit = 200,
    offset: Offset = 0,
) -> Response:
    rows = await service.list_read(session=session, principal=principal, parent_id=parent_id, limit=limit, offset=offset)
    folder, path, items = read_rows([rows.folder]), read_rows(rows.path), read_rows(rows.items)
    return RowsJSON({"folder": folder[0], "path": path, "items": items, "total": rows.total})


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
    return await file_read(session, principal, node)


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
    principal: Writer,
    settings: SettingsDep,
    storage: StorageDep,
    file: Annotated[UploadFile, File(description="The file; its filename is the new file's name.")],
    parent_id: Annotated[uuid.UUID | None, Query(description="The folder to upload into; your root when absent.")] = None,
) -> FileRead:
    node = await uploads.receive(
        session=session,
        settings=settings,
        principal=principal,
        storage=storage,
        chunks=upload_file_chunks(file),
        expected_size=file.size,
        content_type=file.content_type or "",
        parent_id=parent_id,
        name=file.filename or "",
    )
    return await file_read(session, principal, node, new=True)


@router.post(
    "/files/upload/raw",
    operation_id="files-upload-raw",
    status_code=201,
    response_model=FileRead,
    tags=["files"],
    summary="Upload a file as the raw request body",
    openapi_extra=RAW_BODY,
    max_body_size=MAX_UPLOAD_BYTES,
)
async def upload_raw(
    request: Request,
    session: SessionDep,
    principal: Writer,
    settings: SettingsDep,
    storage: StorageDep,
    name: Annotated[str, Query(min_length=1, max_length=1024, description="The new file's name.")],
    parent_id: Annotated[uuid.UUID | None, Query(description="The folder to upload into; your root when absent.")] = None,
) -> FileRead:
    node = await uploads.receive(
        session=session,
        settings=settings,
        principal=principal,
        storage=storage,
        chunks=cut_off_is_incomplete(request.stream()),
        expected_size=declared_length(request),
        content_type=request.headers.get("content-type", ""),
        parent_id=parent_id,
        name=name,
    )
    return await file_read(session, principal, node, new=True)


@router.get("/files/search", operation_id="files-search", response_model=FilePage, tags=["files"], summary="Find by name")
async def search(
    session: SessionDep,
    principal: Reader,
    q: Annotated[str, Query(min_length=1, max_length=255, description="Words the name's words start with.")],
) -> Response:
    items = read_rows(await service.search(session=session, principal=principal, query=q))
    return RowsJSON({"items": items, "total": len(items)})


@router.get("/files/recent", operation_id="files-recent", response_model=FilePage, tags=["files"], summary="Recently changed")
async def recent(session: SessionDep, principal: Reader) -> Response:
    items = read_rows(await service.recent(session=session, principal=principal))
    return RowsJSON({"items": items, "total": len(items)})


@router.get("/files/favorites", operation_id="files-favorites", response_model=FilePage, tags=["files"], summary="Starred")
async def favorites(session: SessionDep, principal: Reader) -> Response:
    items = read_rows(await service.favorites(session=session, principal=principal))
    return RowsJSON({"items": items, "total": len(items)})


@router.get(
    "/files/{file_id:uuid}", operation_id="files-get", response_model=FileRead, tags=["files"], summary="One file or folder"
)
async def get_node(session: SessionDep, principal: Reader, file_id: uuid.UUID) -> Response:
    return RowsJSON(read_rows([await service.get_read(session=session, principal=principal, node_id=file_id)])[0])


@router.get(
    "/files/{file_id:uuid}/place",
    operation_id="files-place",
    response_model=FilePlace,
    tags=["files"],
    summary="Where it is listed: its folder and its place in the folder's order (to open the page that holds it)",
)
async def place(session: SessionDep, principal: Reader, file_id: uuid.UUID) -> FilePlace:
    found = await service.place(session=session, principal=principal, node_id=file_id)
    return FilePlace(folder_id=found.folder_id, offset=found.offset, total=found.total)


@router.get(
    "/files/{file_id:uuid}/content",
    operation_id="files-download",
    tags=["files"],
    summary="Download (Range, If-None-Match, If-Range); a folder comes as a zip",
    response_class=StreamingResponse,
    responses=DOWNLOAD_RESPONSES,
)
async def download(request: Request, session: SessionDep, principal: Reader, storage: StorageDep, file_id: uuid.UUID) -> Response:
    node = await service.get_or_raise(session=session, principal=principal, node_id=file_id)
    return await send_node(request, session, storage, principal, node)


@router.put(
    "/files/{file_id:uuid}/content",
    operation_id="files-replace-content",
    response_model=FileRead,
    tags=["files"],
    summary="Upload new content (the current one is kept as a version)",
    openapi_extra=RAW_BODY,
    max_body_size=MAX_UPLOAD_BYTES,
)
async def replace_content(
    request: Request,
    session: SessionDep,
    principal: Writer,
    settings: SettingsDep,
    storage: StorageDep,
    file_id: uuid.UUID,
) -> FileRead:
    node = await uploads.receive(
        session=session,
        settings=settings,
        principal=principal,
        storage=storage,
        chunks=cut_off_is_incomplete(request.stream()),
        expected_size=declared_length(request),
        content_type=request.headers.get("content-type", ""),
        target_id=file_id,
    )
    return await file_read(session, principal, node)


@router.patch(
    "/files/{file_id:uuid}", operation_id="files-update", response_model=FileRead, tags=["files"], summary="Rename and/or move"
)
async def update(session: SessionDep, principal: Writer, file_id: uuid.UUID, node_in: FileUpdateIn) -> FileRead:
    node = await service.update(session=session, principal=principal, node_id=file_id, node_in=node_in)
    return await file_read(session, principal, node)


@router.post(
    "/files/{file_id:uuid}/copy",
    operation_id="files-copy",
    status_code=201,
    response_model=FileRead,
    tags=["files"],
    summary="Copy",
)
async def copy(
    session: SessionDep,
    principal: Writer,
    settings: SettingsDep,
    storage: StorageDep,
    file_id: uuid.UUID,
    copy_in: FileCopy,
) -> FileRead:
    node = await service.copy(
        session=session, settings=settings, principal=principal, storage=storage, node_id=file_id, copy_in=copy_in
    )
    return await file_read(session, principal, node)


@router.delete(
    "/files/{file_id:uuid}", operation_id="files-trash", response_model=FileRead, tags=["files"], summary="Move to the trash"
)
async def trash(session: SessionDep, principal: Writer, origin: OriginDep, file_id: uuid.UUID) -> FileRead:
    node = await service.trash(session=session, principal=principal, node_id=file_id, origin=origin)
    return await file_read(session, principal, node)


@router.put(
    "/files/{file_id:uuid}/favorite", operation_id="files-favorite-add", response_model=FileRead, tags=["files"], summary="Star"
)
async def star(session: SessionDep, principal: Reader, file_id: uuid.UUID) -> FileRead:
    node = await service.set_favorite(session=session, principal=principal, node_id=file_id, favorite=True)
    return await file_read(session, principal, node)


@router.delete(
    "/files/{file_id:uuid}/favorite",
    operation_id="files-favorite-remove",
    response_model=FileRead,
    tags=["files"],
    summary="Unstar",
)
async def unstar(session: SessionDep, principal: Reader, file_id: uuid.UUID) -> FileRead:
    node = await service.set_favorite(session=session, principal=principal, node_id=file_id, favorite=False)
    return await file_read(session, principal, node)


# --- trash ---------------------------------------------------------------------------------------


@router.get("/trash", operation_id="trash-list", response_model=FilePage, tags=["files"], summary="What you deleted")
async def list_trash(session: SessionDep, principal: Reader, limit: Limit = 200, offset: Offset = 0) -> Response:
    rows, total = await service.list_trash(session=session, principal=principal, limit=limit, offset=offset)
    return RowsJSON({"items": read_rows(rows), "total": total})


@router.post(
    "/trash/{file_id:uuid}/restore", operation_id="trash-restore", response_model=FileRead, tags=["files"], summary="Restore"
)
async def restore(
    session: SessionDep, principal: Writer, origin: OriginDep, file_id: uuid.UUID, restore_in: TrashRestore | None = None
) -> FileRead:
    name = restore_in.name if restore_in is not None else None
    node = await service.restore(session=session, principal=principal, node_id=file_id, name=name, origin=origin)
    return await file_read(session, principal, node)


@router.delete("/trash/{file_id:uuid}", operation_id="trash-purge", status_code=204, tags=["files"], summary="Delete for good")
async def purge(session: SessionDep, principal: Writer, storage: StorageDep, origin: OriginDep, file_id: uuid.UUID) -> None:
    await service.purge(session=session, principal=principal, storage=storage, node_id=file_id, origin=origin)


@router.delete("/trash", operation_id="trash-empty", status_code=204, tags=["files"], summary="Empty the trash")
async def empty_trash(session: SessionDep, principal: Writer, storage: StorageDep, origin: OriginDep) -> None:
    await service.empty_trash(session=session, principal=principal, storage=storage, origin=origin)

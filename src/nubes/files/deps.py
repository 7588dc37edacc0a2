"""Route dependencies and helpers every files sub-package shares: storage, thumbnails, readers, uploads, downloads."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Annotated, Any

from fastapi import Depends, Request, Response, UploadFile
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import ClientDisconnect

from nubes.core import names
from nubes.core.errors import UnprocessableEntity
from nubes.core.principal import Principal
from nubes.core.storage import CHUNK_SIZE, BlobNotFound, Storage
from nubes.files.tree import content, service
from nubes.files.tree.models import FileNode
from nubes.files.tree.schemas import FileRead
from nubes.identity.deps import require

# Uploads are bounded by the quota, not by a fixed body limit; this only tells FastAPI the route takes large bodies.
MAX_UPLOAD_BYTES = 1 << 42


# Who may call a files route: the permission each kind of call needs.
Reader = Annotated[Principal, Depends(require("files.read"))]
Writer = Annotated[Principal, Depends(require("files.write"))]
Sharer = Annotated[Principal, Depends(require("files.share"))]


async def storage_of(request: Request) -> Storage:
    """The app's blob storage."""
    storage: Storage = request.app.state.storage
    return storage


StorageDep = Annotated[Storage, Depends(storage_of)]


# The OpenAPI request body of a route that reads its body raw.
RAW_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The file's bytes, as is. Send Content-Length when you know it: a body that does not match is refused.",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


# The OpenAPI responses of a download route.
DOWNLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The content (a zip for a folder)", "content": {"application/octet-stream": {}, "application/zip": {}}},
    206: {"description": "The asked byte range", "content": {"application/octet-stream": {}}},
    304: {"description": "Not modified (If-None-Match matched)"},
}


async def file_reads(session: AsyncSession, principal: Principal, nodes: list[FileNode]) -> list[FileRead]:
    """Nodes as the API shows them, each with the principal's favorite flag."""
    starred = await service.favorite_ids(session=session, principal=principal, node_ids=[node.id for node in nodes])
    return [FileRead.model_validate(node).model_copy(update={"favorite": node.id in starred}) for node in nodes]


_FILE_READ_FIELDS = tuple(FileRead.model_fields)


def read_rows(rows: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
    """Read rows of the tree's service (`FileRead`'s fields in order, then any others) as `FileRead`'s JSON fields.

    Not validated: the columns are the schema's, typed by the database; `RowsJSON` writes them as FastAPI would.
    """
    return [dict(zip(_FILE_READ_FIELDS, row, strict=False)) for row in rows]


async def file_read(session: AsyncSession, principal: Principal, node: FileNode, *, new: bool = False) -> FileRead:
    """One node as the API shows it; `new`: made by this request, so nobody starred it yet (no query)."""
    if new:
        return FileRead.model_validate(node)
    return (await file_reads(session, principal, [node]))[0]


def declared_length(request: Request) -> int | None:
    """The request's Content-Length (None when absent); 422 when it is not a number."""
    declared = request.headers.get("content-length")
    if declared is None:
        return None
    length = content.whole_number(declared)
    if length is None:
        raise UnprocessableEntity("Content-Length must be a number of bytes.")
    return length


async def cut_off_is_incomplete(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """A client that goes away mid-body is an incomplete upload, not a server error."""
    try:
        async for chunk in chunks:
            if chunk:
                yield chunk
    except ClientDisconnect:
        raise service.UploadIncomplete("The connection closed before the whole file arrived; nothing was kept.") from None


async def upload_file_chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    """The bytes of a multipart file part, a chunk at a time."""
    while chunk := await upload.read(CHUNK_SIZE):
        yield chunk


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
    return send_blob(
        request,
        storage,
        name=node.name,
        key=node.blob_key or "",
        size=node.size,
        sha256=node.sha256 or "",
        content_type=node.content_type,
        modified=content.http_date(node.updated_at),
    )


def send_blob(
    request: Request, storage: Storage, *, name: str, key: str, size: int, sha256: str, content_type: str, modified: str
) -> Response:
    """A blob as a download: validators (ETag, Last-Modified), If-None-Match, If-Range and one byte range."""
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
        with contextlib.suppress(BlobNotFound):  # a bad key: streaming it reports the error as before
            path = storage.local_path(key)
        return content.BlobResponse(
            storage.get(key), path=path, status_code=200, media_type=media_type, headers={**headers, "Content-Length": str(size)}
        )
    first, end = wanted
    headers |= {"Content-Range": f"bytes {first}-{end - 1}/{size}", "Content-Length": str(end - first)}
    return content.BlobResponse(storage.get(key, first, end), path=None, status_code=206, media_type=media_type, headers=headers)

"""Routes of thumbnails: the preview of an image, or of a PDF's first page."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Request, Response
from fastapi.responses import StreamingResponse

from nubes.core.db import SessionDep
from nubes.core.routing import api_router
from nubes.files.deps import (
    Reader,
    StorageDep,
)
from nubes.files.thumbnails import service, tasks
from nubes.files.tree import content

router = api_router()


@router.get(
    "/files/{file_id:uuid}/thumbnail",
    operation_id="files-thumbnail",
    tags=["files"],
    summary="A small WebP preview of an image or of a PDF's first page (404 `thumbnail-not-ready` while it is being made)",
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
    file_id: uuid.UUID,
    size: Annotated[int, Query(ge=16, le=tasks.THUMBNAIL_SIZE, description="The longest side wanted, in pixels.")] = 256,
) -> Response:
    # One size is made (the largest allowed); the browser scales it down for smaller boxes.
    del size
    _node, row = await service.get_thumbnail(session=session, principal=principal, node_id=file_id)
    await session.commit()
    etag = f'"{row.blob_key}"'
    headers = {"ETag": etag, "Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"}
    if content.not_modified(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return StreamingResponse(
        storage.get(row.blob_key or ""), media_type="image/webp", headers={**headers, "Content-Length": str(row.size)}
    )

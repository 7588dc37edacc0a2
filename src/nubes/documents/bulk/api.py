"""Routes of bulk actions: one action on many documents (all or none), and many documents in one zip."""

from __future__ import annotations

from fastapi import Response
from fastapi.responses import StreamingResponse

from nubes.core import names
from nubes.core.db import SessionDep
from nubes.core.routing import api_router
from nubes.documents.bulk import service
from nubes.documents.bulk.schemas import BulkDownload, BulkEdit, BulkResult
from nubes.documents.deps import Reader, Writer
from nubes.files.deps import StorageDep
from nubes.files.tree import content
from nubes.identity.deps import OriginDep

router = api_router(prefix="/documents/bulk", tags=["documents"])


@router.post(
    "",
    operation_id="documents-bulk",
    response_model=BulkResult,
    summary="One action on up to 500 documents: tags, type, correspondent, categories, remove, trash, share (all or none)",
)
async def bulk(session: SessionDep, principal: Writer, origin: OriginDep, action: BulkEdit) -> BulkResult:
    return await service.apply(session, principal, action, origin=origin)


@router.post(
    "/zip",
    operation_id="documents-bulk-zip",
    summary="Download up to 500 documents' files in one zip",
    response_class=StreamingResponse,
    responses={200: {"description": "A zip of the files", "content": {"application/zip": {}}}},
)
async def download(session: SessionDep, principal: Reader, storage: StorageDep, wanted: BulkDownload) -> Response:
    entries = await service.zip_entries(session, principal, wanted.document_ids)
    await session.commit()  # the zip may take long to send: hold no transaction meanwhile
    return StreamingResponse(
        content.zip_stream(entries, storage),
        media_type="application/zip",
        headers={"Content-Disposition": names.content_disposition("documents.zip")},
    )

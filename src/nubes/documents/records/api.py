"""Routes of documents: upload into Documents, add a file, list with filters, read, change, remove, history, text."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import File, Query, Response, UploadFile

from nubes.core.db import SessionDep
from nubes.core.errors import Conflict
from nubes.core.routing import api_router
from nubes.documents.consumption.service import DOCUMENTS_FOLDER
from nubes.documents.deps import Reader, Writer
from nubes.documents.extraction import service as extraction
from nubes.documents.fields import service as custom_fields
from nubes.documents.records import service
from nubes.documents.records.schemas import (
    DocumentAdd,
    DocumentChangeRead,
    DocumentPage,
    DocumentRead,
    DocumentScope,
    DocumentSort,
    DocumentText,
    DocumentUpdate,
    Extraction,
)
from nubes.documents.settings import service as document_settings
from nubes.files.deps import MAX_UPLOAD_BYTES, StorageDep, upload_file_chunks
from nubes.files.tree import service as files
from nubes.files.uploads import service as uploads
from nubes.identity.deps import SettingsDep

router = api_router(prefix="/documents", tags=["documents"])


async def _read(session: SessionDep, principal: Reader, document_id: uuid.UUID) -> DocumentRead:
    document = await service.get(session, principal, document_id)
    return (await service.reads(session, principal, [document]))[0]


@router.get(
    "",
    operation_id="documents-list",
    response_model=DocumentPage,
    summary="Your documents (or those shared with you), filtered and sorted",
)
async def list_documents(
    session: SessionDep,
    principal: Reader,
    type_id: uuid.UUID | None = None,
    correspondent_id: uuid.UUID | None = None,
    tag_id: uuid.UUID | None = None,
    category_id: uuid.UUID | None = None,
    q: Annotated[str | None, Query(max_length=200, description="Words in the title or the notes.")] = None,
    scope: Annotated[DocumentScope, Query(description="Yours, shared with you by their owners, or both.")] = "mine",
    custom_field_id: Annotated[uuid.UUID | None, Query(description="Only documents carrying this custom field.")] = None,
    custom_field_value: Annotated[
        str | None, Query(max_length=2048, description="... with this value (a select: an option's id or label).")
    ] = None,
    custom_field_min: Annotated[str | None, Query(max_length=64, description="... at least this (number, date, money).")] = None,
    custom_field_max: Annotated[str | None, Query(max_length=64, description="... at most this (number, date, money).")] = None,
    sort: DocumentSort = "-added",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> DocumentPage:
    custom = (
        custom_fields.CustomFieldFilter(custom_field_id, custom_field_value, custom_field_min, custom_field_max)
        if custom_field_id is not None
        else None
    )
    wanted = service.DocumentFilter(type_id, correspondent_id, tag_id, category_id, q.strip() if q else None, scope, custom)
    documents, total = await service.list_documents(session, principal, wanted, sort=sort, limit=limit, offset=offset)
    items = await service.reads(session, principal, documents)
    return DocumentPage(items=items, total=total, limit=limit, offset=offset)


@router.post(
    "/upload",
    operation_id="documents-upload",
    status_code=201,
    response_model=DocumentRead,
    summary="Upload a document (multipart, field `file`) into your Documents folder",
    max_body_size=MAX_UPLOAD_BYTES,
)
async def upload(
    session: SessionDep,
    principal: Writer,
    settings: SettingsDep,
    storage: StorageDep,
    file: Annotated[UploadFile, File(description="The document; its filename names the file (a free variant when taken).")],
    allow_duplicate: Annotated[bool, Query(description="Keep it even when one of your documents has the same content.")] = False,
) -> DocumentRead:
    await document_settings.check_upload(session, principal.tenant_id, name=file.filename or "", size=file.size)
    folder = await files.folder_in_root(session=session, principal=principal, name=DOCUMENTS_FOLDER)
    name = await files.free_name_in(session=session, principal=principal, folder_id=folder.id, name=file.filename or "document")
    node = await uploads.receive(
        session=session,
        settings=settings,
        principal=principal,
        storage=storage,
        chunks=upload_file_chunks(file),
        expected_size=file.size,
        content_type=file.content_type or "",
        parent_id=folder.id,
        name=name,
    )
    if not allow_duplicate and node.sha256 is not None:
        same = await service.duplicates(session, principal, node.sha256, besides=node.id)
        if same:
            raise Conflict(
                f"You already have this document: {same[0].title!r} ({same[0].id}) has the same content. "
                "Nothing was kept; upload with allow_duplicate=true to keep a second copy."
            )
    document = await service.add(session, principal, node.id)
    return (await service.reads(session, principal, [document]))[0]


@router.post(
    "", operation_id="documents-add", status_code=201, response_model=DocumentRead, summary="Make one of your files a document"
)
async def add(session: SessionDep, principal: Writer, document_in: DocumentAdd) -> DocumentRead:
    document = await service.add(session, principal, document_in.file_id)
    return (await service.reads(session, principal, [document]))[0]


@router.get("/{document_id:uuid}", operation_id="documents-get", response_model=DocumentRead, summary="One document")
async def get(session: SessionDep, principal: Reader, document_id: uuid.UUID) -> DocumentRead:
    return await _read(session, principal, document_id)


@router.patch("/{document_id:uuid}", operation_id="documents-update", response_model=DocumentRead, summary="Change its metadata")
async def update(session: SessionDep, principal: Writer, document_id: uuid.UUID, document_in: DocumentUpdate) -> DocumentRead:
    document = await service.get(session, principal, document_id, edit=True)
    await service.update(session, principal, document, document_in)
    return (await service.reads(session, principal, [document]))[0]


@router.delete(
    "/{document_id:uuid}",
    operation_id="documents-remove",
    status_code=204,
    summary="Remove the document's metadata (the file stays)",
)
async def remove(session: SessionDep, principal: Writer, document_id: uuid.UUID) -> Response:
    document = await service.get(session, principal, document_id, edit=True)
    await service.remove(session, document)
    return Response(status_code=204)


@router.get(
    "/{document_id:uuid}/history",
    operation_id="documents-history",
    response_model=list[DocumentChangeRead],
    summary="Its changes",
)
async def history(session: SessionDep, principal: Reader, document_id: uuid.UUID) -> list[DocumentChangeRead]:
    document = await service.get(session, principal, document_id)
    return [DocumentChangeRead.model_validate(row) for row in await service.history(session, principal, document)]


@router.get(
    "/{document_id:uuid}/text", operation_id="documents-text", response_model=DocumentText, summary="The text read from it"
)
async def text(session: SessionDep, principal: Reader, document_id: uuid.UUID) -> DocumentText:
    document = await service.get(session, principal, document_id)
    content = (await extraction.of(session, [document.id])).get(document.id)
    return DocumentText(
        text=await extraction.text_of(session, document.id),
        extraction=Extraction.model_validate(content, from_attributes=True) if content else None,
    )


@router.post(
    "/{document_id:uuid}/reanalyse",
    operation_id="documents-reanalyse",
    status_code=202,
    response_model=DocumentRead,
    summary="Read its text again (queued; progress in `extraction`)",
)
async def reanalyse(session: SessionDep, principal: Writer, document_id: uuid.UUID) -> DocumentRead:
    document = await service.get(session, principal, document_id, edit=True)
    file = await files.readable(session=session, principal=principal, file_id=document.file_id)
    if file.sha256 is not None:
        if (await extraction.of(session, [document.id])).get(document.id) is None:
            extraction.schedule(session, document_id=document.id, tenant_id=principal.tenant_id, sha256=file.sha256)
        else:
            await extraction.reanalyse(session, document_id=document.id, sha256=file.sha256)
    await session.flush()
    return (await service.reads(session, principal, [document]))[0]

"""Routes of uploads: tus 1.0 resumable uploads, presigned upload and download URLs and the finalize step."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from fastapi import Request, Response

from nubes.core.db import SessionDep
from nubes.core.errors import (
    BadRequest,
    PayloadTooLarge,
    UnprocessableEntity,
    UnsupportedMediaType,
)
from nubes.core.routing import api_router
from nubes.files.deps import MAX_UPLOAD_BYTES, Reader, StorageDep, Writer, cut_off_is_incomplete, file_read, send_blob
from nubes.files.tree import content, service
from nubes.files.tree.schemas import FileRead
from nubes.files.uploads import service as uploads
from nubes.files.uploads.schemas import PresignDownloadRead, PresignFinalize, PresignUpload, PresignUploadRead
from nubes.identity.deps import SettingsDep

router = api_router()


TUS_HEADERS = {"Tus-Resumable": uploads.TUS_VERSION}
OFFSET_OCTETS = "application/offset+octet-stream"

_TUS_PATCH_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The next bytes of the upload, starting at Upload-Offset.",
        "content": {OFFSET_OCTETS: {"schema": {"type": "string", "format": "binary"}}},
    }
}
_RAW_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The file's bytes, exactly as many as the presign request declared.",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def _header(name: str, description: str, schema: dict[str, Any], *, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": required, "description": description, "schema": schema}


_TUS_RESUMABLE = _header("Tus-Resumable", "The tus version the client speaks: 1.0.0 (another answers 412).", {"type": "string"})
_TUS_CREATE: dict[str, Any] = {
    "parameters": [
        _TUS_RESUMABLE,
        _header("Upload-Length", "The file's size in bytes.", {"type": "string", "pattern": "^[0-9]{1,13}$"}, required=True),
        _header(
            "Upload-Metadata",
            "Comma-separated `key base64(value)` pairs: filename, filetype, and parent_id (a folder)"
            " or target_id (a file to give a new version).",
            {"type": "string"},
        ),
    ]
}
_TUS_PATCH_BODY["parameters"] = [
    _TUS_RESUMABLE,
    _header(
        "Upload-Offset",
        "Where this chunk starts; must equal the upload's offset.",
        {"type": "string", "pattern": "^[0-9]+$"},
        required=True,
    ),
    _header("Upload-Checksum", "`sha1 <base64>` or `sha256 <base64>` of this chunk.", {"type": "string"}),
]


def _http_date(moment: datetime) -> str:
    return format_datetime(moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment, usegmt=True)


def _tus_version(request: Request) -> None:
    version = request.headers.get("tus-resumable")
    if version is not None and version != uploads.TUS_VERSION:
        raise _Precondition(f"This server speaks tus {uploads.TUS_VERSION}; send Tus-Resumable: {uploads.TUS_VERSION}.")


class _Precondition(BadRequest):
    status, code, title = 412, "tus-version", "Unsupported tus version"
    headers = {"Tus-Version": uploads.TUS_VERSION}  # noqa: RUF012 - read by the error handler


def _metadata(header: str | None) -> dict[str, str]:
    """Upload-Metadata: comma-separated `key base64value` pairs (a key alone has an empty value)."""
    found: dict[str, str] = {}
    for pair in (header or "").split(","):
        if not pair.strip():
            continue
        key, _, encoded = pair.strip().partition(" ")
        try:
            found[key] = base64.b64decode(encoded.strip(), validate=True).decode("utf-8") if encoded.strip() else ""
        except (binascii.Error, ValueError):
            raise BadRequest(f"Upload-Metadata value of {key!r} is not base64 of UTF-8 text.") from None
    return found


def _uuid_or_none(value: str | None, field: str) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise UnprocessableEntity(f"Upload-Metadata {field} must be an id.") from None


def _length(header: str | None, name: str) -> int:
    length = content.whole_number(header)
    if length is None:
        raise BadRequest(f"{name} must be a number of bytes.")
    return length


# --- tus 1.0 -------------------------------------------------------------------------------------


@router.options("/uploads", include_in_schema=False)
@router.options("/uploads/{upload_id}", include_in_schema=False)
async def tus_options() -> Response:
    """What this tus server supports (no credentials needed: it tells nothing about anyone)."""
    return Response(
        status_code=204,
        headers={
            **TUS_HEADERS,
            "Tus-Version": uploads.TUS_VERSION,
            "Tus-Extension": "creation,termination,checksum,expiration",
            "Tus-Max-Size": str(uploads.TUS_MAX_SIZE),
            "Tus-Checksum-Algorithm": ",".join(uploads.CHECKSUM_ALGORITHMS),
        },
    )


@router.post(
    "/uploads",
    operation_id="uploads-create",
    status_code=201,
    tags=["files"],
    summary="Start a tus upload (Upload-Length; Upload-Metadata filename, parent_id or target_id, filetype)",
    responses={201: {"description": "Created; Location is the upload's URL"}},
    openapi_extra=_TUS_CREATE,
)
async def tus_create(
    request: Request, session: SessionDep, principal: Writer, settings: SettingsDep, storage: StorageDep
) -> Response:
    if "upload-defer-length" in request.headers:
        raise BadRequest("Upload-Defer-Length is not supported; send Upload-Length.")
    length = _length(request.headers.get("upload-length"), "Upload-Length")
    _tus_version(request)
    if length > uploads.TUS_MAX_SIZE:
        raise PayloadTooLarge(f"At most {uploads.TUS_MAX_SIZE} bytes per upload.", headers=TUS_HEADERS)
    meta = _metadata(request.headers.get("upload-metadata"))
    target_id = _uuid_or_none(meta.get("target_id"), "target_id")
    upload = await uploads.create_upload(
        session=session,
        settings=settings,
        principal=principal,
        kind="tus",
        length=length,
        name=meta.get("filename") or meta.get("name"),
        parent_id=_uuid_or_none(meta.get("parent_id"), "parent_id"),
        target_id=target_id,
        content_type=meta.get("filetype") or meta.get("content_type") or "",
        expires_in=uploads.TUS_EXPIRES_IN,
    )
    headers = {**TUS_HEADERS, "Location": f"/api/uploads/{upload.id}", "Upload-Expires": _http_date(upload.expires_at)}
    if length == 0:
        await session.commit()
        node = await uploads.finish(session=session, settings=settings, storage=storage, principal=principal, upload=upload)
        headers["Nubes-File-Id"] = str(node.id)
    return Response(status_code=201, headers=headers)


@router.head("/uploads/{upload_id}", operation_id="uploads-offset", tags=["files"], summary="A tus upload's offset")
async def tus_head(request: Request, session: SessionDep, principal: Writer, upload_id: uuid.UUID) -> Response:
    _tus_version(request)
    upload = await uploads.get_upload(session=session, principal=principal, upload_id=upload_id, kind="tus")
    return Response(
        status_code=200,
        headers={
            **TUS_HEADERS,
            "Upload-Offset": str(upload.offset),
            "Upload-Length": str(upload.length),
            "Upload-Expires": _http_date(upload.expires_at),
            "Cache-Control": "no-store",
        },
    )


@router.patch(
    "/uploads/{upload_id}",
    operation_id="uploads-append",
    status_code=204,
    tags=["files"],
    summary="Append bytes to a tus upload (Upload-Offset, optional Upload-Checksum sha1/sha256)",
    openapi_extra=_TUS_PATCH_BODY,
    max_body_size=MAX_UPLOAD_BYTES,
)
async def tus_patch(
    request: Request, session: SessionDep, principal: Writer, settings: SettingsDep, storage: StorageDep, upload_id: uuid.UUID
) -> Response:
    _tus_version(request)
    async with uploads.lock_of(upload_id):  # one writer per upload in this process
        upload = await uploads.get_upload(session=session, principal=principal, upload_id=upload_id, kind="tus")
        media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media != OFFSET_OCTETS:
            raise UnsupportedMediaType(f"A tus PATCH carries Content-Type: {OFFSET_OCTETS}.")
        offset = _length(request.headers.get("upload-offset"), "Upload-Offset")
        checksum = uploads.check_checksum_header(request.headers.get("upload-checksum"))
        if offset != upload.offset:
            raise uploads.OffsetMismatch(
                f"The upload is at byte {upload.offset}, not {offset}; resume from there.", headers=TUS_HEADERS
            )
        node = await uploads.append_chunk(
            session=session,
            settings=settings,
            storage=storage,
            principal=principal,
            upload=upload,
            chunks=cut_off_is_incomplete(request.stream()),
            checksum=checksum,
        )
        headers = {**TUS_HEADERS, "Upload-Offset": str(upload.offset), "Upload-Expires": _http_date(upload.expires_at)}
        if node is not None:
            headers["Nubes-File-Id"] = str(node.id)
    return Response(status_code=204, headers=headers)


@router.delete(
    "/uploads/{upload_id}", operation_id="uploads-terminate", status_code=204, tags=["files"], summary="Cancel a tus upload"
)
async def tus_delete(
    request: Request, session: SessionDep, principal: Writer, storage: StorageDep, upload_id: uuid.UUID
) -> Response:
    _tus_version(request)
    async with uploads.lock_of(upload_id):
        upload = await uploads.get_upload(session=session, principal=principal, upload_id=upload_id, kind="tus")
        await uploads.abandon(session=session, storage=storage, upload=upload)
    return Response(status_code=204, headers=TUS_HEADERS)


# --- presigned uploads and downloads ---------------------------------------------------------------


@router.post(
    "/files/presign-upload",
    operation_id="files-presign-upload",
    status_code=201,
    response_model=PresignUploadRead,
    tags=["files"],
    summary="A short-lived URL to PUT a file's bytes to; then call files-finalize",
)
async def presign_upload(
    request: Request, session: SessionDep, principal: Writer, settings: SettingsDep, storage: StorageDep, body: PresignUpload
) -> PresignUploadRead:
    await uploads.sweep_expired(session=session, storage=storage, limit=20)
    upload = await uploads.create_upload(
        session=session,
        settings=settings,
        principal=principal,
        kind="presign",
        length=body.size,
        name=body.name if body.target_id is None else None,
        parent_id=body.parent_id,
        target_id=body.target_id,
        content_type=body.content_type or "",
        sha256=body.sha256.lower() if body.sha256 else None,
        expires_in=uploads.PRESIGN_EXPIRES_IN,
    )
    url, headers = await uploads.upload_url(
        settings=settings, storage=storage, upload=upload, base_url=str(request.base_url).rstrip("/")
    )
    return PresignUploadRead(upload_id=upload.id, url=url, method="PUT", headers=headers, expires_at=upload.expires_at)


@router.put(
    "/blobs/upload/{token}",
    operation_id="blobs-presigned-put",
    status_code=204,
    tags=["files"],
    summary="Receive the bytes of a presigned upload (the token is the credential; single use)",
    openapi_extra=_RAW_BODY,
    max_body_size=MAX_UPLOAD_BYTES,
)
async def presigned_put(
    request: Request, session: SessionDep, settings: SettingsDep, storage: StorageDep, token: str
) -> Response:
    subject = uploads.read_token(settings.secret_key, "upload", token)
    await uploads.receive_presigned(
        session=session, storage=storage, upload_id=uuid.UUID(subject), chunks=cut_off_is_incomplete(request.stream())
    )
    return Response(status_code=204)


@router.post(
    "/files/finalize",
    operation_id="files-finalize",
    status_code=201,
    response_model=FileRead,
    tags=["files"],
    summary="Make the file from a presigned upload's bytes (size and sha256 are checked)",
)
async def finalize(
    session: SessionDep, principal: Writer, settings: SettingsDep, storage: StorageDep, body: PresignFinalize
) -> FileRead:
    node = await uploads.finalize_presigned(
        session=session, settings=settings, storage=storage, principal=principal, upload_id=body.upload_id
    )
    return await file_read(session, principal, node)


@router.post(
    "/files/{file_id:uuid}/presign-download",
    operation_id="files-presign-download",
    response_model=PresignDownloadRead,
    tags=["files"],
    summary="A short-lived URL that downloads this file without credentials",
)
async def presign_download(
    request: Request, session: SessionDep, principal: Reader, settings: SettingsDep, storage: StorageDep, file_id: uuid.UUID
) -> PresignDownloadRead:
    node = await service.get_or_raise(session=session, principal=principal, node_id=file_id)
    if node.kind != "file" or node.blob_key is None:
        raise UnprocessableEntity(f"{node.name!r} is a folder; only files have a download URL.")
    url, expires_at = await uploads.download_url(
        settings=settings, storage=storage, node=node, base_url=str(request.base_url).rstrip("/")
    )
    return PresignDownloadRead(url=url, expires_at=expires_at)


@router.get(
    "/blobs/download/{token}",
    operation_id="blobs-presigned-get",
    tags=["files"],
    summary="Download through a presigned URL (Range supported; the token is the credential)",
    responses={200: {"content": {"application/octet-stream": {}}}, 206: {"content": {"application/octet-stream": {}}}},
)
async def presigned_get(
    request: Request, session: SessionDep, settings: SettingsDep, storage: StorageDep, token: str
) -> Response:
    node = await uploads.presigned_download(session=session, settings=settings, token=token)
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

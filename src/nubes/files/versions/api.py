"""Routes of versions: a file's earlier versions (list, download, restore) and a tenant's files settings (retention, quota)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.responses import StreamingResponse

from nubes.core.db import SessionDep
from nubes.core.errors import Forbidden, NotFound
from nubes.core.principal import Principal
from nubes.core.routing import api_router
from nubes.files.deps import (
    DOWNLOAD_RESPONSES,
    Reader,
    StorageDep,
    Writer,
    file_read,
    send_blob,
)
from nubes.files.quota import service as quota
from nubes.files.tree import content
from nubes.files.tree.schemas import FileRead
from nubes.files.versions import service
from nubes.files.versions.schemas import FilesSettingsRead, FilesSettingsUpdate, VersionRead
from nubes.identity.deps import SettingsDep, require
from nubes.identity.tenants import service as identity_service

router = api_router()

Manager = Annotated[Principal, Depends(require("tenant.manage"))]


@router.get(
    "/files/{file_id:uuid}/versions",
    operation_id="files-versions",
    response_model=list[VersionRead],
    tags=["files"],
    summary="Earlier contents, newest first",
)
async def versions(session: SessionDep, principal: Reader, file_id: uuid.UUID) -> list[VersionRead]:
    rows = await service.list_versions(session=session, principal=principal, node_id=file_id)
    return [VersionRead.model_validate(row) for row in rows]


@router.get(
    "/files/{file_id:uuid}/versions/{version_id:uuid}/content",
    operation_id="files-version-download",
    tags=["files"],
    summary="Download an earlier content",
    response_class=StreamingResponse,
    responses=DOWNLOAD_RESPONSES,
)
async def download_version(
    request: Request, session: SessionDep, principal: Reader, storage: StorageDep, file_id: uuid.UUID, version_id: uuid.UUID
) -> Response:
    node, version = await service.get_version(session=session, principal=principal, node_id=file_id, version_id=version_id)
    await session.commit()
    return send_blob(
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
    "/files/{file_id:uuid}/versions/{version_id:uuid}/restore",
    operation_id="files-version-restore",
    response_model=FileRead,
    tags=["files"],
    summary="Make an earlier content current (the current one is kept)",
)
async def restore_version(
    session: SessionDep,
    principal: Writer,
    settings: SettingsDep,
    storage: StorageDep,
    file_id: uuid.UUID,
    version_id: uuid.UUID,
) -> FileRead:
    node = await service.restore_version(
        session=session, settings=settings, principal=principal, storage=storage, node_id=file_id, version_id=version_id
    )
    return await file_read(session, principal, node)


async def _tenant(session: Any, principal: Principal, tenant_id: uuid.UUID) -> None:
    """The principal's own tenant, or any tenant for a super-admin; 404 otherwise."""
    if tenant_id != principal.tenant_id and not principal.is_superadmin:
        raise NotFound("No such tenant.")
    await identity_service.get_tenant(session=session, tenant_id=tenant_id)


async def _settings_read(session: Any, settings: Any, tenant_id: uuid.UUID) -> FilesSettingsRead:
    keep_versions, keep_days = await service.files_settings(session=session, tenant_id=tenant_id)
    used, tenant_quota = await quota.tenant_usage(session=session, tenant_id=tenant_id)
    windows_names = await service.windows_names(session=session, tenant_id=tenant_id)
    return FilesSettingsRead(
        keep_versions=keep_versions,
        keep_days=keep_days,
        windows_names="refuse" if windows_names == "refuse" else "allow",
        quota_bytes=tenant_quota,
        default_quota_bytes=settings.tenant_quota_bytes or None,
        used_bytes=used,
        default_user_quota_bytes=settings.user_quota_bytes or None,
    )


@router.get(
    "/admin/tenants/{tenant_id:uuid}/files-settings",
    operation_id="admin-tenants-files-settings",
    response_model=FilesSettingsRead,
    tags=["admin"],
    summary="A tenant's version retention and storage quota",
)
async def get_files_settings(
    session: SessionDep, principal: Manager, settings: SettingsDep, tenant_id: uuid.UUID
) -> FilesSettingsRead:
    await _tenant(session, principal, tenant_id)
    return await _settings_read(session, settings, tenant_id)


@router.put(
    "/admin/tenants/{tenant_id:uuid}/files-settings",
    operation_id="admin-tenants-files-settings-update",
    response_model=FilesSettingsRead,
    tags=["admin"],
    summary="Set a tenant's version retention and storage quota",
)
async def put_files_settings(
    session: SessionDep,
    principal: Manager,
    settings: SettingsDep,
    storage: StorageDep,
    tenant_id: uuid.UUID,
    body: FilesSettingsUpdate,
) -> FilesSettingsRead:
    await _tenant(session, principal, tenant_id)
    await service.set_files_settings(
        session=session,
        tenant_id=tenant_id,
        keep_versions=body.keep_versions,
        keep_days=body.keep_days,
        windows_names=body.windows_names,
    )
    if "quota_bytes" in body.model_fields_set:
        if not principal.is_superadmin:
            raise Forbidden("Only a platform administrator sets a tenant's storage quota.")
        await quota.set_tenant_quota(session=session, tenant_id=tenant_id, quota_bytes=body.quota_bytes)
    return await _settings_read(session, settings, tenant_id)

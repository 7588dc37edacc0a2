"""Routes of ops/backups: restore points and runs, "Back up now", the schedule and retention (super-admins only)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Request

from nubes.core import jobs
from nubes.core.db import SessionDep
from nubes.core.routing import api_router
from nubes.files.deps import StorageDep, Writer
from nubes.identity.deps import LimiterDep, OriginDep, SettingsDep, SuperAdmin
from nubes.ops.backups import flows, service
from nubes.ops.backups.schemas import (
    BackedUpFilePage,
    BackedUpFileRead,
    BackupRunPage,
    BackupRunRead,
    BackupSettingsRead,
    BackupSettingsUpdate,
    RestoredFromBackup,
    RestorePointPage,
    RestorePointRead,
)

RESTORE_RATE = "10/minute;100/day"
"""Single-file restores one user may start (each reads the snapshot and writes files)."""

router = api_router(prefix="/ops/backups", tags=["ops"])


@router.get(
    "", operation_id="ops-backups-list", response_model=BackupRunPage, summary="Backup runs and restore points, newest first"
)
async def list_runs(
    session: SessionDep, principal: SuperAdmin, limit: Annotated[int, Query(ge=1, le=service.LIST_LIMIT)] = 50
) -> BackupRunPage:
    runs = await service.list_runs(session=session, principal=principal, limit=limit)
    return BackupRunPage(items=[BackupRunRead.model_validate(run) for run in runs])


@router.post(
    "",
    operation_id="ops-backups-start",
    response_model=BackupRunRead,
    status_code=202,
    summary="Back up the whole install now (follow the run's progress)",
)
async def start(
    request: Request, session: SessionDep, principal: SuperAdmin, settings: SettingsDep, origin: OriginDep
) -> BackupRunRead:
    run = await service.start(session=session, principal=principal, settings=settings, origin=origin)
    worker = getattr(request.app.state, "backups", None)
    if worker is not None:
        jobs.after_commit(session, worker.wake)
    return BackupRunRead.model_validate(run)


@router.get(
    "/settings", operation_id="ops-backups-settings", response_model=BackupSettingsRead, summary="Backup schedule and retention"
)
async def get_settings(session: SessionDep, principal: SuperAdmin, settings: SettingsDep) -> BackupSettingsRead:
    return await service.get_settings(session=session, principal=principal, settings=settings)


@router.put(
    "/settings",
    operation_id="ops-backups-settings-update",
    response_model=BackupSettingsRead,
    summary="Change the backup schedule and retention",
)
async def update_settings(
    body: BackupSettingsUpdate, session: SessionDep, principal: SuperAdmin, settings: SettingsDep, origin: OriginDep
) -> BackupSettingsRead:
    return await service.update_settings(session=session, principal=principal, settings=settings, settings_in=body, origin=origin)


@router.get(
    "/restore-points",
    operation_id="ops-backups-restore-points",
    response_model=RestorePointPage,
    summary="Restore points you may bring your own files back from",
)
async def restore_points(session: SessionDep, principal: Writer) -> RestorePointPage:
    runs = await flows.restore_points(session=session, principal=principal)
    return RestorePointPage(items=[RestorePointRead.model_validate(run) for run in runs])


@router.get(
    "/restore-points/{run_id}/files",
    operation_id="ops-backups-restore-point-files",
    response_model=BackedUpFilePage,
    summary="What one of your folders held at a restore point",
)
async def restore_point_files(
    run_id: uuid.UUID,
    session: SessionDep,
    principal: Writer,
    settings: SettingsDep,
    parent_id: Annotated[uuid.UUID | None, Query(description="One of your folders then; your root when absent.")] = None,
) -> BackedUpFilePage:
    nodes = await flows.list_files(session=session, principal=principal, settings=settings, run_id=run_id, parent_id=parent_id)
    return BackedUpFilePage(items=[BackedUpFileRead.model_validate(node) for node in nodes])


@router.post(
    "/restore-points/{run_id}/files/{file_id}/restore",
    operation_id="ops-backups-restore-file",
    response_model=RestoredFromBackup,
    status_code=201,
    summary="Bring one of your files or folders back from a restore point into your trash",
)
async def restore_file(
    run_id: uuid.UUID,
    file_id: uuid.UUID,
    session: SessionDep,
    principal: Writer,
    settings: SettingsDep,
    storage: StorageDep,
    origin: OriginDep,
    limiter: LimiterDep,
) -> RestoredFromBackup:
    await limiter.hit("backup-restore", str(principal.user_id), RESTORE_RATE)
    trashed_id = await flows.restore_to_trash(
        session=session, principal=principal, settings=settings, storage=storage, run_id=run_id, node_id=file_id, origin=origin
    )
    return RestoredFromBackup(trashed_id=trashed_id)


@router.get("/{run_id}", operation_id="ops-backups-get", response_model=BackupRunRead, summary="One backup run")
async def get_run(run_id: uuid.UUID, session: SessionDep, principal: SuperAdmin) -> BackupRunRead:
    return BackupRunRead.model_validate(await service.get_or_raise(session=session, principal=principal, run_id=run_id))

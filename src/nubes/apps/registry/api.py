"""Routes of the service registry: the manifest's schema, the apps a user may open, the super-admins' registry, and
per tenant the services' settings and who may use them."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response

from nubes.apps.registry import service
from nubes.apps.registry.health import Fetcher
from nubes.apps.registry.manifest import admin_group_name, manifest_schema
from nubes.apps.registry.models import AppService
from nubes.apps.registry.schemas import (
    AppPermissionGrant,
    AppPermissionList,
    AppServiceCheckPage,
    AppServiceCheckRead,
    AppServiceDetail,
    AppServiceEntry,
    AppServiceRead,
    AppServiceRegister,
    AppServiceSettingsRead,
    AppServiceSettingsUpdate,
    AppServiceUpdate,
)
from nubes.core.db import SessionDep
from nubes.core.events import Bus
from nubes.core.pagination import Limit, Offset
from nubes.core.principal import Principal
from nubes.core.routing import api_router
from nubes.identity.deps import OriginDep, SettingsDep, SuperAdmin, require

router = api_router(prefix="/apps", tags=["apps"])

User = Annotated[Principal, Depends(require("apps.use"))]
Manager = Annotated[Principal, Depends(require("apps.manage"))]


async def _fetcher(request: Request) -> Fetcher:
    fetcher: Fetcher = request.app.state.apps_fetcher
    return fetcher


async def _events(request: Request) -> Bus:
    events: Bus = request.app.state.events
    return events


FetcherDep = Annotated[Fetcher, Depends(_fetcher)]
EventsDep = Annotated[Bus, Depends(_events)]


def _read(row: AppService) -> AppServiceRead:
    return AppServiceRead(
        id=row.id, slug=row.slug, name=row.name, description=row.description,
        version=str(row.manifest.get("version", "")), icon=service.icon_url(row), base_url=row.base_url,
        status=row.status, last_error=row.last_error, last_checked_at=row.last_checked_at,
        manifest_fetched_at=row.manifest_fetched_at, enabled=row.enabled,
        admin_group=admin_group_name(row.slug), created_at=row.created_at,
    )  # fmt: skip


def _detail(row: AppService) -> AppServiceDetail:
    return AppServiceDetail(**_read(row).model_dump(), manifest=row.manifest)


@router.get(
    "/manifest-schema",
    operation_id="apps-manifest-schema",
    summary="The JSON Schema of the manifest a service serves at /plugin/manifest",
)
async def manifest_json_schema() -> dict[str, Any]:
    return manifest_schema()


@router.get("/services", operation_id="apps-services-list", response_model=list[AppServiceEntry], summary="The apps you may open")
async def list_apps(session: SessionDep, principal: User) -> list[AppServiceEntry]:
    return await service.list_for_user(session=session, principal=principal)


@router.get(
    "/admin/services",
    operation_id="apps-admin-services-list",
    response_model=list[AppServiceRead],
    summary="Every registered service with its health",
)
async def list_services(session: SessionDep, principal: Manager) -> list[AppServiceRead]:
    return [_read(row) for row in await service.list_services(session=session)]


@router.post(
    "/admin/services",
    operation_id="apps-admin-services-register",
    status_code=201,
    response_model=AppServiceDetail,
    summary="Register a service by its URL (platform administrators)",
)
async def register(
    session: SessionDep,
    principal: SuperAdmin,
    fetcher: FetcherDep,
    events: EventsDep,
    origin: OriginDep,
    service_in: AppServiceRegister,
) -> AppServiceDetail:
    row = await service.register(
        session=session, principal=principal, fetcher=fetcher, service_in=service_in, origin=origin, events=events
    )
    return _detail(row)


@router.get(
    "/admin/services/{service_id}",
    operation_id="apps-admin-services-get",
    response_model=AppServiceDetail,
    summary="One service with its manifest",
)
async def get_service(session: SessionDep, principal: Manager, service_id: uuid.UUID) -> AppServiceDetail:
    return _detail(await service.get_or_raise(session=session, service_id=service_id))


@router.patch(
    "/admin/services/{service_id}",
    operation_id="apps-admin-services-update",
    response_model=AppServiceDetail,
    summary="Enable or disable a service (platform administrators)",
)
async def update_service(
    session: SessionDep,
    principal: SuperAdmin,
    events: EventsDep,
    origin: OriginDep,
    service_id: uuid.UUID,
    service_in: AppServiceUpdate,
) -> AppServiceDetail:
    row = await service.get_or_raise(session=session, service_id=service_id)
    await service.update(session=session, principal=principal, service=row, service_in=service_in, origin=origin, events=events)
    return _detail(row)


@router.post(
    "/admin/services/{service_id}/refresh",
    operation_id="apps-admin-services-refresh",
    response_model=AppServiceDetail,
    summary="Check a service's health and manifest now (platform administrators)",
)
async def refresh_service(
    session: SessionDep, principal: SuperAdmin, fetcher: FetcherDep, events: EventsDep, service_id: uuid.UUID
) -> AppServiceDetail:
    row = await service.get_or_raise(session=session, service_id=service_id)
    return _detail(await service.refresh(session=session, fetcher=fetcher, service=row, events=events))


@router.delete(
    "/admin/services/{service_id}",
    operation_id="apps-admin-services-delete",
    status_code=204,
    summary="Remove a service with its history, settings and grants (platform administrators)",
)
async def delete_service(
    session: SessionDep, principal: SuperAdmin, events: EventsDep, origin: OriginDep, service_id: uuid.UUID
) -> Response:
    row = await service.get_or_raise(session=session, service_id=service_id)
    await service.delete_service(session=session, principal=principal, service=row, origin=origin, events=events)
    return Response(status_code=204)


@router.get(
    "/admin/services/{service_id}/checks",
    operation_id="apps-admin-services-checks",
    response_model=AppServiceCheckPage,
    summary="A service's health checks, newest first",
)
async def list_checks(
    session: SessionDep,
    principal: Manager,
    service_id: uuid.UUID,
    limit: Limit = 100,
    offset: Offset = 0,
    hours: Annotated[int | None, Query(ge=1, le=168, description="Only the checks of the last hours.")] = None,
) -> AppServiceCheckPage:
    row = await service.get_or_raise(session=session, service_id=service_id)
    checks, total = await service.list_checks(session=session, service=row, limit=limit, offset=offset, hours=hours)
    return AppServiceCheckPage(
        items=[AppServiceCheckRead.model_validate(check, from_attributes=True) for check in checks], total=total
    )


@router.get(
    "/services/{service_id}/settings",
    operation_id="apps-services-settings-get",
    response_model=AppServiceSettingsRead,
    summary="Your organization's settings for a service (its admins)",
)
async def get_settings(session: SessionDep, principal: User, service_id: uuid.UUID) -> AppServiceSettingsRead:
    row = await service.get_service_admin(session=session, principal=principal, service_id=service_id)
    return await service.get_settings(session=session, principal=principal, service=row)


@router.put(
    "/services/{service_id}/settings",
    operation_id="apps-services-settings-update",
    response_model=AppServiceSettingsRead,
    summary="Change your organization's settings for a service (its admins)",
)
async def update_settings(
    session: SessionDep,
    principal: User,
    settings: SettingsDep,
    origin: OriginDep,
    service_id: uuid.UUID,
    settings_in: AppServiceSettingsUpdate,
) -> AppServiceSettingsRead:
    row = await service.get_service_admin(session=session, principal=principal, service_id=service_id)
    return await service.update_settings(
        session=session, principal=principal, service=row, settings_in=settings_in, secret_key=settings.secret_key, origin=origin
    )


@router.get(
    "/services/{service_id}/permissions",
    operation_id="apps-services-permissions-list",
    response_model=AppPermissionList,
    summary="Who in your organization may use a service",
)
async def list_permissions(session: SessionDep, principal: Manager, service_id: uuid.UUID) -> AppPermissionList:
    row = await service.get_or_raise(session=session, service_id=service_id)
    return await service.list_permissions(session=session, principal=principal, service=row)


@router.post(
    "/services/{service_id}/permissions",
    operation_id="apps-services-permissions-grant",
    response_model=AppPermissionList,
    summary="Let a user or a group of your organization use a service",
)
async def grant(
    session: SessionDep, principal: Manager, origin: OriginDep, service_id: uuid.UUID, grant_in: AppPermissionGrant
) -> AppPermissionList:
    row = await service.get_or_raise(session=session, service_id=service_id)
    return await service.grant(session=session, principal=principal, service=row, grant_in=grant_in, origin=origin)


@router.delete(
    "/services/{service_id}/permissions/{permission_id}",
    operation_id="apps-services-permissions-revoke",
    status_code=204,
    summary="Take a grant back",
)
async def revoke(
    session: SessionDep, principal: Manager, origin: OriginDep, service_id: uuid.UUID, permission_id: uuid.UUID
) -> Response:
    row = await service.get_or_raise(session=session, service_id=service_id)
    await service.revoke(session=session, principal=principal, service=row, permission_id=permission_id, origin=origin)
    return Response(status_code=204)

"""Routes of the settings area and feature flags: tenant admins (`admin.settings`) read the flags and set their
tenant's values; platform administrators also set install-wide values and see which tenants chose their own."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Response

from nubes.core.db import SessionDep
from nubes.core.principal import Principal
from nubes.core.routing import api_router
from nubes.identity.deps import OriginDep, SuperAdmin, require
from nubes.ops.flags import service
from nubes.ops.flags.schemas import FlagChange, FlagList, FlagOverrides, FlagRead, SettingsOverview

router = api_router(prefix="/ops", tags=["ops"])

SettingsAdmin = Annotated[Principal, Depends(require("admin.settings"))]
FlagKey = Annotated[str, Path(max_length=100, description="The flag's key, e.g. search.ocr_files (404 for one not listed).")]


@router.get(
    "/settings", operation_id="ops-settings-overview", response_model=SettingsOverview,
    summary="The Settings area: every settings group the caller may open, and the platform settings",
)  # fmt: skip
async def settings_overview(session: SessionDep, principal: SettingsAdmin) -> SettingsOverview:
    return await service.overview(session=session, principal=principal)


@router.get(
    "/flags", operation_id="ops-flags-list", response_model=FlagList,
    summary="Every feature flag with its value for your tenant and where it comes from",
)  # fmt: skip
async def list_flags(session: SessionDep, principal: SettingsAdmin) -> FlagList:
    return await service.list_flags(session=session, principal=principal)


@router.get("/flags/{key}", operation_id="ops-flags-get", response_model=FlagRead, summary="One feature flag")
async def get_flag(session: SessionDep, principal: SettingsAdmin, key: FlagKey) -> FlagRead:
    return await service.get(session=session, principal=principal, key=key)


@router.put(
    "/flags/{key}", operation_id="ops-flags-set", response_model=FlagRead,
    summary="Turn a tenant-scope flag on or off for your tenant (wins over the install's value)",
)  # fmt: skip
async def set_flag(
    session: SessionDep, principal: SettingsAdmin, origin: OriginDep, key: FlagKey, change: FlagChange
) -> FlagRead:
    await service.set_for_tenant(session=session, principal=principal, key=key, value=change.enabled, origin=origin)
    return await service.get(session=session, principal=principal, key=key)


@router.delete(
    "/flags/{key}", operation_id="ops-flags-reset", status_code=204, response_class=Response,
    summary="Drop your tenant's own value: the install's value or the default applies again",
)  # fmt: skip
async def reset_flag(session: SessionDep, principal: SettingsAdmin, origin: OriginDep, key: FlagKey) -> None:
    await service.reset_for_tenant(session=session, principal=principal, key=key, origin=origin)


@router.put(
    "/flags/{key}/install", operation_id="ops-flags-install-set", response_model=FlagRead,
    summary="Turn a flag on or off for the whole install (platform administrators)",
)  # fmt: skip
async def set_install_flag(
    session: SessionDep, principal: SuperAdmin, origin: OriginDep, key: FlagKey, change: FlagChange
) -> FlagRead:
    await service.set_for_install(session=session, principal=principal, key=key, value=change.enabled, origin=origin)
    return await service.get(session=session, principal=principal, key=key)


@router.delete(
    "/flags/{key}/install", operation_id="ops-flags-install-reset", status_code=204, response_class=Response,
    summary="Drop the install's value: the default applies again where no tenant chose (platform administrators)",
)  # fmt: skip
async def reset_install_flag(session: SessionDep, principal: SuperAdmin, origin: OriginDep, key: FlagKey) -> None:
    await service.reset_for_install(session=session, principal=principal, key=key, origin=origin)


@router.get(
    "/flags/{key}/tenants", operation_id="ops-flags-overrides", response_model=FlagOverrides,
    summary="The tenants that chose their own value of a flag (platform administrators)",
)  # fmt: skip
async def flag_overrides(session: SessionDep, principal: SuperAdmin, key: FlagKey) -> FlagOverrides:
    return await service.overrides(session=session, key=key)

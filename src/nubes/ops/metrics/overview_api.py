"""Routes of the monitoring overview: storage against quotas, and the dashboard's snapshot (ops.monitor)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from nubes.core.db import SessionDep
from nubes.core.principal import Principal
from nubes.core.routing import api_router
from nubes.identity.deps import SettingsDep, require
from nubes.ops.metrics import overview
from nubes.ops.metrics.overview import Overview, StorageOverview

router = api_router(prefix="/ops", tags=["ops"])

Monitor = Annotated[Principal, Depends(require("ops.monitor"))]


@router.get("/storage", operation_id="ops-storage", response_model=StorageOverview, summary="Storage against quotas")
async def storage(session: SessionDep, principal: Monitor, settings: SettingsDep) -> StorageOverview:
    """Bytes used against quotas per tenant and its largest users (super-admins: every tenant; tenant admins: their own)."""
    return await overview.storage(session=session, settings=settings, principal=principal)


@router.get("/overview", operation_id="ops-overview", response_model=Overview, summary="The monitoring dashboard's snapshot")
async def snapshot(session: SessionDep, principal: Monitor) -> Overview:
    """Whose share the caller sees and, for super-admins, every node's agent status."""
    return await overview.overview(session=session, principal=principal)

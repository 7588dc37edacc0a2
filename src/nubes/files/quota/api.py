"""Routes of quota: my storage, and an admin setting a user's quota."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.core.db import SessionDep
from nubes.core.principal import Principal
from nubes.core.routing import api_router
from nubes.files.deps import (
    Reader,
)
from nubes.files.quota import service
from nubes.files.quota.schemas import QuotaRead, QuotaUpdate
from nubes.identity.deps import SettingsDep, require
from nubes.identity.users import service as identity_service

router = api_router()


async def _quota(session: AsyncSession, settings: Any, principal: Principal) -> QuotaRead:
    user_used, user_quota, tenant_used, tenant_quota = await service.usage(
        session=session, settings=settings, principal=principal
    )
    room = await service.available(session=session, settings=settings, principal=principal)
    trash_bytes, versions_bytes = await service.breakdown(session=session, principal=principal)
    return QuotaRead(
        used_bytes=user_used,
        trash_bytes=trash_bytes,
        versions_bytes=versions_bytes,
        quota_bytes=user_quota,
        tenant_used_bytes=tenant_used,
        tenant_quota_bytes=tenant_quota,
        available_bytes=room,
    )


@router.get("/users/me/quota", operation_id="users-me-quota", response_model=QuotaRead, tags=["users"], summary="My storage")
async def my_quota(session: SessionDep, principal: Reader, settings: SettingsDep) -> QuotaRead:
    return await _quota(session, settings, principal)


@router.put(
    "/admin/users/{user_id:uuid}/quota",
    operation_id="admin-users-quota",
    status_code=204,
    tags=["admin"],
    summary="Set a user's storage quota",
)
async def set_quota(
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("tenant.manage"))],
    user_id: uuid.UUID,
    quota_in: QuotaUpdate,
) -> None:
    user = await identity_service.get_user_to_change(session=session, principal=principal, user_id=user_id)
    await service.set_user_quota(session=session, tenant_id=user.tenant_id, user_id=user.id, quota_bytes=quota_in.quota_bytes)

"""Routes for tenants (platform admins) and the tenant's audit log."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Literal

from fastapi import Depends, Query
from fastapi.responses import StreamingResponse

from nubes.core import audit
from nubes.core.db import SessionDep
from nubes.core.pagination import Limit, Offset
from nubes.core.principal import Principal
from nubes.core.routing import api_router
from nubes.identity.deps import OriginDep, SuperAdmin, require
from nubes.identity.schemas import IsoDateTime
from nubes.identity.tenants import service
from nubes.identity.tenants.models import Tenant
from nubes.identity.tenants.schemas import AuditEventRead, AuditPage, TenantCreate, TenantDetail, TenantUpdate

router = api_router()


@router.get(
    "/admin/audit",
    operation_id="admin-audit",
    response_model=AuditPage,
    tags=["admin"],
    summary="The audit log",
    responses={200: {"content": {"text/csv": {}}, "description": "A page of events, or all matching events as CSV"}},
)
async def audit_log(
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("admin.audit"))],
    action: Annotated[str | None, Query(max_length=100, description="Action or prefix, e.g. auth. or auth.login")] = None,
    actor: Annotated[str | None, Query(max_length=150)] = None,
    outcome: Annotated[Literal["success", "failure", "denied"] | None, Query()] = None,
    since: Annotated[IsoDateTime | None, Query(description="ISO 8601, inclusive")] = None,
    until: Annotated[IsoDateTime | None, Query(description="ISO 8601, exclusive")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
    format: Annotated[Literal["json", "csv"], Query(description="csv exports every matching row")] = "json",
) -> AuditPage | StreamingResponse:
    """Who did what, newest first, filtered; `format=csv` downloads every match."""
    wanted = audit.AuditFilter(
        tenant_id=principal.tenant_id, action=action, actor=actor, outcome=outcome, since=since, until=until
    )
    if format == "csv":
        rows, _ = await audit.search(session=session, wanted=wanted, limit=100_000, offset=0)
        return StreamingResponse(
            _csv(rows), media_type="text/csv", headers={"Content-Disposition": 'attachment; filename="nubes-audit.csv"'}
        )
    rows, total = await audit.search(session=session, wanted=wanted, limit=limit, offset=offset)
    return AuditPage(items=[AuditEventRead.model_validate(row) for row in rows], total=total)


_CSV_COLUMNS = ("created_at", "actor_name", "action", "outcome", "target_type", "target_id", "ip", "user_agent", "detail")


async def _csv(rows: list[audit.AuditEvent]) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(_CSV_COLUMNS)
    for row in rows:
        values = [getattr(row, column) for column in _CSV_COLUMNS]
        # A cell starting with = + - @ would run as a formula in a spreadsheet: neutralize it.
        writer.writerow([_cell(value) for value in values])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _cell(value: object) -> str:
    if isinstance(value, datetime):
        text = value.isoformat()
    elif isinstance(value, dict):
        text = json.dumps(value, sort_keys=True)
    else:
        text = str(value)
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


def _tenant_detail(tenant: Tenant, users: int) -> TenantDetail:
    return TenantDetail(
        id=tenant.id, slug=tenant.slug, name=tenant.name, status=tenant.status, created_at=tenant.created_at, users=users
    )


@router.get(
    "/admin/tenants", operation_id="admin-tenants-list", response_model=list[TenantDetail], tags=["admin"], summary="Tenants"
)
async def list_tenants(session: SessionDep, _: SuperAdmin) -> list[TenantDetail]:
    """Every tenant of the install, with its number of users (platform administrators only)."""
    return [_tenant_detail(tenant, users) for tenant, users in await service.list_tenants(session=session)]


@router.post(
    "/admin/tenants",
    operation_id="admin-tenants-create",
    response_model=TenantDetail,
    status_code=201,
    tags=["admin"],
    summary="Create a tenant",
)
async def create_tenant(tenant_in: TenantCreate, session: SessionDep, principal: SuperAdmin, origin: OriginDep) -> TenantDetail:
    """A new tenant with the built-in roles; add its first owner with POST /api/admin/users and `tenant_id`."""
    tenant = await service.add_tenant(session=session, principal=principal, tenant_in=tenant_in, origin=origin)
    return _tenant_detail(tenant, 0)


@router.get(
    "/admin/tenants/{tenant_id}",
    operation_id="admin-tenants-get",
    response_model=TenantDetail,
    tags=["admin"],
    summary="One tenant",
)
async def get_tenant(tenant_id: uuid.UUID, session: SessionDep, _: SuperAdmin) -> TenantDetail:
    """A tenant."""
    tenant = await service.get_tenant(session=session, tenant_id=tenant_id)
    return _tenant_detail(tenant, await service.count_users(session=session, tenant_id=tenant.id))


@router.patch(
    "/admin/tenants/{tenant_id}",
    operation_id="admin-tenants-update",
    response_model=TenantDetail,
    tags=["admin"],
    summary="Rename or suspend a tenant",
)
async def update_tenant(
    tenant_id: uuid.UUID, tenant_in: TenantUpdate, session: SessionDep, principal: SuperAdmin, origin: OriginDep
) -> TenantDetail:
    """Rename a tenant, or suspend it: every session of its users ends at once and nobody of it can sign in."""
    tenant = await service.update_tenant(
        session=session, principal=principal, tenant_id=tenant_id, tenant_in=tenant_in, origin=origin
    )
    return await get_tenant(tenant.id, session, principal)


@router.delete(
    "/admin/tenants/{tenant_id}", operation_id="admin-tenants-delete", status_code=204, tags=["admin"], summary="Delete a tenant"
)
async def delete_tenant(
    tenant_id: uuid.UUID,
    session: SessionDep,
    principal: SuperAdmin,
    origin: OriginDep,
    confirm: Annotated[str, Query(max_length=63, description="The tenant's slug, to confirm.")] = "",
) -> None:
    """Delete a tenant and all its data; `?confirm=<slug>` must repeat its slug."""
    await service.delete_tenant(session=session, principal=principal, tenant_id=tenant_id, confirm=confirm, origin=origin)

"""Routes for the permission catalog and the tenant's roles."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from nubes.core.db import SessionDep
from nubes.core.principal import Principal
from nubes.core.routing import api_router
from nubes.identity.deps import OriginDep, require
from nubes.identity.roles import catalog, service
from nubes.identity.roles.models import Role
from nubes.identity.roles.schemas import PermissionRead, RoleCreate, RoleRead, RoleUpdate

router = api_router()


@router.get(
    "/admin/permissions",
    operation_id="admin-permissions",
    response_model=list[PermissionRead],
    tags=["admin"],
    summary="The permission catalog",
)
async def permission_catalog(_: Annotated[Principal, Depends(require("admin.roles"))]) -> list[PermissionRead]:
    """Every permission a role can grant."""
    return [PermissionRead(code=p.code, description=p.description) for p in catalog.CATALOG]


RoleAdmin = Annotated[Principal, Depends(require("admin.roles"))]


def _role_read(role: Role, graph: service.RoleGraph) -> RoleRead:
    return RoleRead(
        id=role.id,
        name=role.name,
        description=role.description,
        parent_id=role.parent_id,
        builtin=role.builtin,
        permissions=sorted(graph.grants.get(role.id, set())),
        effective_permissions=sorted(graph.permissions_of([role.id])),
    )


@router.get("/admin/roles", operation_id="admin-roles-list", response_model=list[RoleRead], tags=["admin"], summary="Roles")
async def list_roles(session: SessionDep, principal: RoleAdmin) -> list[RoleRead]:
    """The tenant's roles with their own and effective permissions."""
    roles, graph = await service.list_roles(session=session, principal=principal)
    return [_role_read(role, graph) for role in roles]


@router.post(
    "/admin/roles",
    operation_id="admin-roles-create",
    response_model=RoleRead,
    status_code=201,
    tags=["admin"],
    summary="Create a role",
)
async def create_role(role_in: RoleCreate, session: SessionDep, principal: RoleAdmin, origin: OriginDep) -> RoleRead:
    """A custom role bundling permissions, optionally inheriting another role's."""
    role = await service.create_role(session=session, principal=principal, role_in=role_in, origin=origin)
    return _role_read(role, await service.role_graph(session, principal.tenant_id))


@router.get("/admin/roles/{role_id}", operation_id="admin-roles-get", response_model=RoleRead, tags=["admin"], summary="One role")
async def get_role(role_id: uuid.UUID, session: SessionDep, principal: RoleAdmin) -> RoleRead:
    """A role of the tenant."""
    role = await service.get_role(session=session, principal=principal, role_id=role_id)
    return _role_read(role, await service.role_graph(session, principal.tenant_id))


@router.patch(
    "/admin/roles/{role_id}", operation_id="admin-roles-update", response_model=RoleRead, tags=["admin"], summary="Change a role"
)
async def update_role(
    role_id: uuid.UUID, role_in: RoleUpdate, session: SessionDep, principal: RoleAdmin, origin: OriginDep
) -> RoleRead:
    """Change a custom role; its holders' permissions follow at their next request."""
    role = await service.update_role(session=session, principal=principal, role_id=role_id, role_in=role_in, origin=origin)
    return _role_read(role, await service.role_graph(session, principal.tenant_id))


@router.delete(
    "/admin/roles/{role_id}", operation_id="admin-roles-delete", status_code=204, tags=["admin"], summary="Delete a role"
)
async def delete_role(role_id: uuid.UUID, session: SessionDep, principal: RoleAdmin, origin: OriginDep) -> None:
    """Delete a custom role."""
    await service.delete_role(session=session, principal=principal, role_id=role_id, origin=origin)

"""Tenants: creating one with its built-in roles, the platform admin's tenant list, and the first start's bootstrap."""

from __future__ import annotations

import secrets
import uuid
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import ConfigError, Settings
from nubes.core import audit
from nubes.core.audit import Origin
from nubes.core.db import utcnow
from nubes.core.errors import Conflict, FieldError, NotFound, UnprocessableEntity
from nubes.core.principal import Principal
from nubes.identity.groups.models import Group, GroupRole
from nubes.identity.roles import catalog
from nubes.identity.roles.models import Role, UserRole
from nubes.identity.roles.service import bump_roles_version
from nubes.identity.sessions.models import Session
from nubes.identity.tenants.models import Tenant
from nubes.identity.tenants.schemas import TenantCreate, TenantUpdate
from nubes.identity.users import passwords
from nubes.identity.users.models import User

DEFAULT_TENANT = "default"


async def create_tenant(*, session: AsyncSession, slug: str, name: str) -> Tenant:
    """A tenant with its built-in roles (owner, admin, member, viewer)."""
    if await session.scalar(select(Tenant.id).where(Tenant.slug == slug)):
        raise Conflict(f"A tenant with the slug {slug!r} exists; choose another slug.")
    tenant = Tenant(slug=slug, name=name)
    session.add(tenant)
    await session.flush()
    await ensure_builtins(session=session, tenant_id=tenant.id)
    return tenant


async def ensure_builtins(*, session: AsyncSession, tenant_id: uuid.UUID) -> bool:
    """Give the tenant every built-in role and service-admin group it lacks (at creation, and at each start for the
    tenants made before a service existed); whether anything was added. Idempotent."""
    roles = {
        role.name: role for role in await session.scalars(select(Role).where(Role.tenant_id == tenant_id, Role.builtin.is_(True)))
    }
    added = False
    for role_name, (description, parent, _codes) in catalog.BUILTIN_ROLES.items():
        if role_name in roles:
            continue
        # No grant rows: a built-in role's permissions are read from BUILTIN_ROLES (see role_graph).
        role = Role(
            tenant_id=tenant_id, name=role_name, description=description,
            parent_id=roles[parent].id if parent else None, builtin=True,
        )  # fmt: skip
        session.add(role)
        await session.flush()
        roles[role_name] = role
        added = True
    groups = set(await session.scalars(select(Group.name).where(Group.tenant_id == tenant_id)))
    for group_name, description in catalog.SERVICE_ADMIN_GROUPS.items():
        if group_name in groups:
            continue
        group = Group(tenant_id=tenant_id, name=group_name, description=description)
        session.add(group)
        await session.flush()
        session.add(GroupRole(group_id=group.id, role_id=roles[group_name].id))
        added = True
    if added:
        await session.flush()
        await bump_roles_version(session=session, tenant_id=tenant_id)
    return added


async def list_tenants(*, session: AsyncSession) -> list[tuple[Tenant, int]]:
    """Every tenant with its number of users."""
    users = select(func.count(User.id)).where(User.tenant_id == Tenant.id).scalar_subquery()
    rows = await session.execute(select(Tenant, users).order_by(Tenant.slug))
    return [(tenant, count) for tenant, count in rows]


async def count_users(*, session: AsyncSession, tenant_id: uuid.UUID) -> int:
    """How many users a tenant has."""
    return int(await session.scalar(select(func.count(User.id)).where(User.tenant_id == tenant_id)) or 0)


async def get_tenant(*, session: AsyncSession, tenant_id: uuid.UUID) -> Tenant:
    """A tenant, or 404."""
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound("No such tenant.")
    return tenant


async def add_tenant(*, session: AsyncSession, principal: Principal, tenant_in: TenantCreate, origin: Origin) -> Tenant:
    """A tenant with its built-in roles, audited."""
    tenant = await create_tenant(session=session, slug=tenant_in.slug, name=tenant_in.name)
    await audit.record(
        session=session,
        action="tenant.create",
        origin=origin,
        principal=principal,
        target_type="tenant",
        target_id=tenant.id,
        detail={"slug": tenant.slug},
    )
    return tenant


async def update_tenant(
    *, session: AsyncSession, principal: Principal, tenant_id: uuid.UUID, tenant_in: TenantUpdate, origin: Origin
) -> Tenant:
    """Rename or suspend/reactivate a tenant; suspending ends every session of its users at once."""
    tenant = await get_tenant(session=session, tenant_id=tenant_id)
    changes: dict[str, object] = {}
    if tenant_in.name is not None and tenant_in.name != tenant.name:
        tenant.name = changes["name"] = tenant_in.name
    if tenant_in.status is not None and tenant_in.status != tenant.status:
        if tenant.id == principal.tenant_id and tenant_in.status == "suspended":
            raise Conflict("You cannot suspend your own tenant.")
        tenant.status = changes["status"] = tenant_in.status
        if tenant.status == "suspended":
            ended = await session.execute(
                update(Session)
                .where(Session.tenant_id == tenant.id, Session.revoked_at.is_(None))
                .values(revoked_at=utcnow(), revoke_reason="tenant_suspended")
                .execution_options(synchronize_session=False)
            )
            changes["sessions_revoked"] = cast("CursorResult[Any]", ended).rowcount
    await session.flush()
    if changes:
        await audit.record(
            session=session,
            action="tenant.update",
            origin=origin,
            principal=principal,
            target_type="tenant",
            target_id=tenant.id,
            detail=changes,
        )
    return tenant


async def delete_tenant(
    *, session: AsyncSession, principal: Principal, tenant_id: uuid.UUID, confirm: str, origin: Origin
) -> None:
    """Remove a tenant and everything it owns; `confirm` must repeat its slug."""
    tenant = await get_tenant(session=session, tenant_id=tenant_id)
    if tenant.id == principal.tenant_id:
        raise Conflict("You cannot delete your own tenant.")
    if confirm != tenant.slug:
        raise UnprocessableEntity(
            f"To delete this tenant and all its data, repeat its slug: ?confirm={tenant.slug}",
            errors=[FieldError(loc=["query", "confirm"], msg="must equal the tenant's slug", type="confirmation")],
        )
    await audit.record(
        session=session,
        action="tenant.delete",
        origin=origin,
        principal=principal,
        tenant_id=principal.tenant_id,
        target_type="tenant",
        target_id=tenant.id,
        detail={"slug": tenant.slug, "name": tenant.name},
    )
    # Rows that point at the tenant go with it (ON DELETE CASCADE); SQLite needs the users' own first.
    user_ids = select(User.id).where(User.tenant_id == tenant.id)
    await session.execute(delete(Session).where(Session.user_id.in_(user_ids)))
    await session.execute(delete(Group).where(Group.tenant_id == tenant.id))
    await session.execute(delete(User).where(User.tenant_id == tenant.id))
    await session.execute(delete(Role).where(Role.tenant_id == tenant.id))
    await session.delete(tenant)
    await session.flush()


async def bootstrap(*, session: AsyncSession, settings: Settings) -> str | None:
    """On an empty database: tenant `default` and the first super-admin. Returns a generated password, if any.

    On a database with tenants: give each the built-in roles and service-admin groups added since it was made.
    """
    if await session.scalar(select(func.count()).select_from(Tenant)):
        for tenant_id in list(await session.scalars(select(Tenant.id))):
            await ensure_builtins(session=session, tenant_id=tenant_id)
        return None
    tenant = await create_tenant(session=session, slug=DEFAULT_TENANT, name="Default")
    generated = None
    password = settings.admin_password
    username = settings.admin_username.strip().lower()
    if password:
        problems = passwords.policy_problems(password, username=username)
        if problems:
            raise ConfigError(f"NUBES_ADMIN_PASSWORD: {' '.join(problems)}")
    else:
        password = generated = secrets.token_urlsafe(18)
    owner = await session.scalar(select(Role).where(Role.tenant_id == tenant.id, Role.name == "owner"))
    admin = User(
        tenant_id=tenant.id,
        username=username,
        password_hash=await passwords.hash_password(settings, password),
        is_superadmin=True,
        display_name="Administrator",
    )
    session.add(admin)
    await session.flush()
    if owner is not None:
        session.add(UserRole(user_id=admin.id, role_id=owner.id))
        await session.flush()
        await bump_roles_version(session=session, tenant_id=tenant.id)
    await audit.record(
        session=session,
        action="tenant.create",
        origin=Origin(ip="", user_agent="nubes bootstrap"),
        tenant_id=tenant.id,
        actor_name="system",
        target_type="tenant",
        target_id=tenant.id,
        detail={"slug": tenant.slug, "first_admin": admin.username},
    )
    await session.flush()
    return generated

"""First start: an empty database gets tenant `default`, its built-in roles and a super-admin; no default password."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import ConfigError, Settings
from nubes.identity.groups.models import Group, GroupRole
from nubes.identity.roles.models import Role
from nubes.identity.tenants import service
from nubes.identity.tenants.models import Tenant
from nubes.identity.users import passwords
from nubes.identity.users.models import User


async def test_first_start_creates_tenant_roles_and_superadmin(session: AsyncSession, settings: Settings) -> None:
    generated = await service.bootstrap(session=session, settings=settings.model_copy(update={"admin_password": ""}))
    assert generated is not None
    assert len(generated) >= 20
    tenant = await session.scalar(select(Tenant).where(Tenant.slug == "default"))
    assert tenant is not None
    roles = set(await session.scalars(select(Role.name).where(Role.tenant_id == tenant.id)))
    assert roles == {"owner", "admin", "member", "viewer", "documents-admin", "ai-service-admin"}
    admin = await session.scalar(select(User).where(User.username == "admin"))
    assert admin is not None
    assert admin.is_superadmin
    assert admin.password_hash.startswith("$argon2id$")
    assert await passwords.verify_password(settings, admin.password_hash, generated)


async def test_second_start_changes_nothing(session: AsyncSession, settings: Settings) -> None:
    await service.bootstrap(session=session, settings=settings.model_copy(update={"admin_password": ""}))
    assert await service.bootstrap(session=session, settings=settings) is None
    assert await session.scalar(select(func.count()).select_from(Tenant)) == 1


async def test_given_admin_password_is_used_not_printed(session: AsyncSession, settings: Settings) -> None:
    chosen = settings.model_copy(update={"admin_password": "Violet-Anchor-Meadow-2031", "admin_username": "Root"})
    assert await service.bootstrap(session=session, settings=chosen) is None
    admin = await session.scalar(select(User).where(User.username == "root"))
    assert admin is not None
    assert await passwords.verify_password(settings, admin.password_hash, "Violet-Anchor-Meadow-2031")


async def test_weak_admin_password_is_refused_naming_the_variable(session: AsyncSession, settings: Settings) -> None:
    with pytest.raises(ConfigError, match=r"^NUBES_ADMIN_PASSWORD: Use at least 12 characters"):
        await service.bootstrap(session=session, settings=settings.model_copy(update={"admin_password": "admin"}))


async def test_a_start_gives_older_tenants_the_service_admin_groups_added_since(
    session: AsyncSession, settings: Settings
) -> None:
    """A tenant made before a service existed (its role and group deleted here) gets them at the next start, once."""
    await service.bootstrap(session=session, settings=settings.model_copy(update={"admin_password": ""}))
    tenant = await session.scalar(select(Tenant).where(Tenant.slug == "default"))
    assert tenant is not None
    await session.execute(delete(Group).where(Group.tenant_id == tenant.id, Group.name == "documents-admin"))
    await session.execute(delete(Role).where(Role.tenant_id == tenant.id, Role.name == "documents-admin"))
    await service.bootstrap(session=session, settings=settings)
    await service.bootstrap(session=session, settings=settings)
    group = await session.scalar(select(Group).where(Group.tenant_id == tenant.id, Group.name == "documents-admin"))
    role = await session.scalar(select(Role).where(Role.tenant_id == tenant.id, Role.name == "documents-admin"))
    assert group is not None
    assert role is not None
    assert role.builtin
    grants = list(await session.scalars(select(GroupRole.role_id).where(GroupRole.group_id == group.id)))
    assert grants == [role.id]
    assert await service.ensure_builtins(session=session, tenant_id=tenant.id) is False

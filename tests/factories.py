"""Small builders for test data: tenants, users, signed-in clients."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core.audit import Origin
from nubes.core.db import utcnow
from nubes.identity.tenants import service as tenants_service
from nubes.identity.tenants.models import Tenant
from nubes.identity.users import service as users_service
from nubes.identity.users.models import User
from nubes.identity.users.schemas import UserCreate

PASSWORD = "Tangerine-Kettle-Orbit-81"
ORIGIN = Origin(ip="203.0.113.9", user_agent="pytest")


async def make_tenant(session: AsyncSession, slug: str | None = None) -> Tenant:
    """A tenant with its built-in roles."""
    slug = slug or f"t-{secrets.token_hex(3)}"
    return await tenants_service.create_tenant(session=session, slug=slug, name=slug.title())


async def make_user(
    session: AsyncSession,
    settings: Settings,
    tenant: Tenant,
    *,
    username: str | None = None,
    roles: tuple[str, ...] = ("member",),
    password: str = PASSWORD,
    email: str | None = None,
    superadmin: bool = False,
    email_verified: bool = False,
) -> User:
    """A user of `tenant` with `roles` (created as the system would, through the service); `email_verified`: confirmed."""
    user = await users_service.create_user(
        session=session,
        settings=settings,
        principal=None,
        user_in=UserCreate(
            username=username or f"user-{secrets.token_hex(3)}",
            email=email,
            password=password,
            roles=list(roles),
            tenant_id=tenant.id,
        ),
        origin=ORIGIN,
    )
    user.is_superadmin = superadmin
    if email_verified:
        user.email_verified_at = utcnow()
    await session.flush()
    return user


@dataclass
class SignedIn:
    """A user's tokens from a real login through the API."""

    user: User
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


async def login(client: httpx.AsyncClient, user: User, password: str = PASSWORD) -> SignedIn:
    """Sign `user` in through POST /api/auth/login (bearer use: the client's cookies are cleared after)."""
    response = await client.post("/api/auth/login", json={"username": user.username, "password": password})
    assert response.status_code == 200, response.text
    client.cookies.clear()
    body = response.json()
    return SignedIn(user=user, access_token=body["access_token"], refresh_token=body["refresh_token"])

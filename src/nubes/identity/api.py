"""The identity domain's routes: one router holding each sub-domain's (sessions, users, tenants, roles, groups, mfa, ...)."""

from __future__ import annotations

from fastapi import APIRouter

from nubes.identity.federation.api import router as federation_router
from nubes.identity.groups.api import router as groups_router
from nubes.identity.mfa.api import router as mfa_router
from nubes.identity.roles.api import router as roles_router
from nubes.identity.sessions.api import router as sessions_router
from nubes.identity.tenants.api import router as tenants_router
from nubes.identity.users.api import router as users_router

router = APIRouter()
for sub_router in (
    sessions_router,
    users_router,
    tenants_router,
    roles_router,
    groups_router,
    mfa_router,
    federation_router,
):
    router.include_router(sub_router)

routers: list[APIRouter] = [router]
"""What the app mounts (see nubes.core.domain)."""

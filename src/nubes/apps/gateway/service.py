"""Who may pass the gateway to which service and path, and what the service is told about them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from nubes.apps.gateway.exceptions import ServiceDown
from nubes.apps.gateway.proxy import Gateway, Visit
from nubes.apps.registry import service as registry_service
from nubes.apps.registry.service import GatewayTarget
from nubes.core.errors import Forbidden, NotFound
from nubes.core.principal import Principal

USE = "apps.use"
DOWN_RETRY_AFTER_S = 30
"""Retry-After of a service its health checks marked down (about one health check later)."""


def check_route(target: GatewayTarget, *, method: str, path: str) -> None:
    """404 unless the service exposes `path` (its part after `/apps/<slug>`) to `method` in its manifest's routes."""
    for route in target.routes:
        if (path == route.path.rstrip("/") or path.startswith(route.path)) and method in route.methods:
            return
    raise NotFound(f"{target.name} does not expose {method} {path} through Nubes.")


async def admit(*, session: AsyncSession, principal: Principal, slug: str, method: str, path: str, gateway: Gateway) -> Visit:
    """Let `principal` through to `path` of the service `slug`: 404 for an unknown service or a path it does not
    expose, 403 without the right to use it, 503 while it is marked down; with the signed assertion it will receive."""
    if not principal.can(USE):
        if principal.credential == "token":
            raise Forbidden(f"This access token does not carry {USE}; make a token with that scope.")
        raise Forbidden(f"You need the permission {USE} to open apps; ask an admin.")
    target = await gateway.targets.resolve(
        (principal, slug), lambda: registry_service.resolve_for_gateway(session=session, principal=principal, slug=slug)
    )
    check_route(target, method=method, path=path)
    if target.status == "down":
        raise ServiceDown.marked_down(target.name, target.status_since, retry_after=DOWN_RETRY_AFTER_S)
    assertion = await gateway.assertions.assertion(session, principal=principal, audience=target.slug)
    return Visit(target=target, assertion=assertion, isolated=target.isolated)

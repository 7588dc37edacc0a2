"""Who is calling: bearer tokens for API clients, httpOnly cookies (with CSRF checks) for the browser.

Identity headers a client might send (`X-Forwarded-User`, `Remote-User`, ...) are never read: the
only proofs are a valid access token or the session cookie that carries one.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core.audit import Origin
from nubes.core.db import SessionDep
from nubes.core.errors import Forbidden, Unauthorized
from nubes.core.principal import Principal
from nubes.identity import service
from nubes.identity.tokens import PAT_PREFIX, KeyRing

ACCESS_COOKIE = "nubes_access"
REFRESH_COOKIE = "nubes_refresh"
CSRF_COOKIE = "nubes_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Dependencies here are `async def` even when they await nothing: FastAPI runs a plain `def`
# dependency in a worker thread, a thread hop per request for nothing.

# Documents the bearer scheme in OpenAPI; auto_error off so cookies can stand in for it.
bearer_scheme = HTTPBearer(auto_error=False, description="An access token from POST /api/auth/login.")


async def settings_of(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


async def keyring_of(request: Request) -> KeyRing:
    """The app's signing keys."""
    keyring: KeyRing = request.app.state.keyring
    return keyring


async def origin_of(request: Request) -> Origin:
    """Where the request came from, for the audit trail (the peer address, not a client-sent header)."""
    return Origin(ip=request.client.host if request.client else "", user_agent=request.headers.get("user-agent", "")[:500])


SettingsDep = Annotated[Settings, Depends(settings_of)]
KeyRingDep = Annotated[KeyRing, Depends(keyring_of)]
OriginDep = Annotated[Origin, Depends(origin_of)]


def same_origin(request: Request, settings: Settings) -> bool:
    """Whether the request's Origin (or Referer) is this server; a request with neither passes (not a browser)."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return True
    parts = urlsplit(origin)
    if settings.public_url:
        return f"{parts.scheme}://{parts.netloc}" == settings.public_url
    return parts.netloc == request.headers.get("host", "")


def check_csrf(request: Request, settings: Settings) -> None:
    """For cookie-authenticated writes: the Origin must be ours and the double-submit token must match."""
    if request.method in SAFE_METHODS:
        return
    if not same_origin(request, settings):
        raise Forbidden("This request comes from another site; it was refused (CSRF protection).")
    cookie = request.cookies.get(CSRF_COOKIE, "")
    header = request.headers.get(CSRF_HEADER, "")
    if not cookie or not hmac.compare_digest(cookie, header):
        raise Forbidden(f"Missing or wrong {CSRF_HEADER} header; reload the page and try again (CSRF protection).")


async def get_principal(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    keyring: KeyRingDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    """The authenticated caller, or 401."""
    if bearer is not None and bearer.scheme.lower() == "bearer":
        token = bearer.credentials
    elif request.headers.get("authorization"):
        raise Unauthorized("Use `Authorization: Bearer <access token>`.", headers={"WWW-Authenticate": "Bearer"})
    else:
        token = request.cookies.get(ACCESS_COOKIE, "")
        if not token:
            raise Unauthorized("Sign in first.", headers={"WWW-Authenticate": "Bearer"})
        check_csrf(request, settings)
    if token.startswith(PAT_PREFIX):
        identity = await service.identity_from_access_token(session=session, token=token)
    else:
        claims = await keyring.verify(session, token)
        identity = await service.load_identity(session=session, user_id=claims.user_id, session_id=claims.session_id)
    request.state.identity = identity  # what GET /api/users/me shows, without loading it twice
    return identity.principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require(*codes: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets through principals holding every one of `codes` (403 otherwise)."""

    async def allowed(principal: CurrentPrincipal) -> Principal:
        missing = [code for code in codes if not principal.can(code)]
        if missing:
            raise Forbidden(f"You need the permission {', '.join(missing)} for this; ask an admin.")
        return principal

    return allowed


def require_superadmin() -> Callable[..., Awaitable[Principal]]:
    """A dependency for platform-wide administration."""

    async def allowed(principal: CurrentPrincipal) -> Principal:
        if not principal.is_superadmin:
            raise Forbidden("Only platform administrators may do this.")
        return principal

    return allowed


def set_session_cookies(response: Response, settings: Settings, *, access_token: str, refresh_token: str) -> None:
    """The browser's copy of the tokens: httpOnly, SameSite, Secure behind https; plus a readable CSRF token."""
    secure = settings.public_url.startswith("https://")
    max_age = settings.session_ttl_days * 86400
    response.set_cookie(
        ACCESS_COOKIE, access_token, max_age=settings.access_token_ttl, httponly=True, samesite="lax", secure=secure, path="/"
    )
    response.set_cookie(
        REFRESH_COOKIE, refresh_token, max_age=max_age, httponly=True, samesite="strict", secure=secure, path="/api/auth"
    )
    response.set_cookie(
        CSRF_COOKIE, secrets.token_urlsafe(24), max_age=max_age, httponly=False, samesite="strict", secure=secure, path="/"
    )


def clear_session_cookies(response: Response) -> None:
    """Forget the browser's tokens."""
    response.delete_cookie(ACCESS_COOKIE, path="/")
    response.delete_cookie(REFRESH_COOKIE, path="/api/auth")
    response.delete_cookie(CSRF_COOKIE, path="/")


async def principal_of_token(*, session: AsyncSession, keyring: KeyRing, token: str) -> Principal:
    """The principal behind an access token or personal access token, outside an HTTP request (WebSockets)."""
    if token.startswith(PAT_PREFIX):
        return (await service.identity_from_access_token(session=session, token=token)).principal
    claims = await keyring.verify(session, token)
    return (await service.load_identity(session=session, user_id=claims.user_id, session_id=claims.session_id)).principal

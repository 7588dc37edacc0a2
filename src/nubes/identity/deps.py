"""The identity dependencies every route uses: who is calling (bearer tokens for API clients, httpOnly cookies with CSRF
checks for the browser), the access rules (`require(...)`, ...) and the shared aliases (`SettingsDep`, `OriginDep`,
`CurrentPrincipal`, `SuperAdmin`, `LimiterDep`, ...); each is declared here once.

Identity headers a client might send (`X-Forwarded-User`, `Remote-User`, ...) are never read: the
only proofs are a valid access token or the session cookie that carries one.

Every route declares exactly one access rule, and the OpenAPI schema shows it as `x-nubes-access`:
`require(codes)` (a personal access token needs the codes among its scopes), `require_superadmin()`,
`require_signed_in()` (harmless reads of one's own account, tokens included), `require_session()`
(credentials: never a personal access token) and `require_sudo()` (changing credentials: a session
whose user re-authenticated within `sudo_ttl`, see POST /api/auth/sudo).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from fastapi import Depends, FastAPI, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core.audit import Origin
from nubes.core.crypto import equal
from nubes.core.db import SessionDep, utcnow
from nubes.core.errors import Forbidden, Unauthorized
from nubes.core.jobs import after_commit
from nubes.core.mail import MailSender
from nubes.core.principal import Principal
from nubes.core.ratelimit import RateLimiter
from nubes.core.routing import api_routes
from nubes.identity.mfa import service as mfa_service
from nubes.identity.roles import catalog
from nubes.identity.sessions import service as sessions_service
from nubes.identity.sessions import sudo
from nubes.identity.sessions.cache import PrincipalCache
from nubes.identity.sessions.tokens import KeyRing, hash_token
from nubes.identity.sessions.usage import token_use

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
    if not cookie or not equal(cookie, header):
        raise Forbidden(f"Missing or wrong {CSRF_HEADER} header; reload the page and try again (CSRF protection).")


async def get_principal(
    request: Request,
    session: SessionDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    """The authenticated caller, or 401.

    Settings and keys are read from the app here rather than as dependencies: every authenticated request
    solves this function, and each dependency costs FastAPI more than reading an attribute.
    """
    settings: Settings = request.app.state.settings
    if bearer is not None and bearer.scheme.lower() == "bearer":
        token = bearer.credentials
    elif request.headers.get("authorization"):
        raise Unauthorized("Use `Authorization: Bearer <access token>`.", headers={"WWW-Authenticate": "Bearer"})
    else:
        token = request.cookies.get(ACCESS_COOKIE, "")
        if not token:
            raise Unauthorized("Sign in first.", headers={"WWW-Authenticate": "Bearer"})
        check_csrf(request, settings)
    return await principal_of_request_token(request, session, token)


async def principal_of_request_token(request: Request, session: AsyncSession, token: str) -> Principal:
    """The principal behind the access token (or personal access token) a request presented, through the app's
    principal cache; `get_principal` chose the token, the gateway chooses its own (apps' forms send no CSRF header)."""
    keyring: KeyRing = request.app.state.keyring
    cache: PrincipalCache = request.app.state.principal_cache
    identity = await cache.resolve(
        hash_token(token), partial(sessions_service.identity_of, session=session, keyring=keyring, token=token)
    )
    if identity.token_id is not None:
        # Written in batches outside the request: a read stays a read.
        token_use.note(identity.token_id, utcnow(), request.client.host if request.client else "")
    request.state.identity = identity  # what GET /api/users/me shows, without loading it twice
    return identity.principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


# --- access rules: what each route needs --------------------------------------------------------

AccessKind = Literal["scopes", "superadmin", "signed-in", "session", "sudo"]


@dataclass(frozen=True, slots=True)
class Access:
    """The access rule a route declares; shown in the OpenAPI schema as `x-nubes-access`."""

    kind: AccessKind
    scopes: tuple[str, ...] = field(default=())

    def openapi(self) -> dict[str, Any]:
        """The `x-nubes-access` value of an operation."""
        return {"kind": self.kind, "scopes": list(self.scopes)}


# The dependency callables that declare an access rule (one per call of the factories below).
_DECLARED: dict[Callable[..., Any], Access] = {}

Allowed = Callable[..., Awaitable[Principal]]


def _declare(access: Access, dependency: Allowed) -> Allowed:
    _DECLARED[dependency] = access
    return dependency


class SessionRequired(Forbidden):
    """Credential management is for signed-in sessions only, never for a personal access token."""

    code, title = "session-required", "Sign-in session required"


class ReauthenticationRequired(Forbidden):
    """Changing credentials needs a recent re-authentication in this session ("sudo mode")."""

    code, title = "reauthentication-required", "Confirm it's you"


def require(*codes: str) -> Allowed:
    """A dependency that lets through principals holding every one of `codes` (403 otherwise).

    A personal access token holds only the user's permissions that are also among its scopes. A code that is not
    in the catalog (`identity/roles/catalog.py`, collected from every domain manifest) raises here, when the route
    is defined, instead of answering 403 forever.
    """
    unknown = sorted(set(codes) - catalog.CODES)
    if unknown:
        raise ValueError(f"require(): unknown permission code {', '.join(map(repr, unknown))}; see nubes.domains")

    async def allowed(principal: CurrentPrincipal) -> Principal:
        missing = [code for code in codes if not principal.can(code)]
        if missing and principal.client_id is not None:
            scopes = ", ".join(code.replace(".", ":") for code in missing)
            raise Forbidden(
                f"This app's token does not carry {', '.join(missing)} (scope {scopes}), or its user does not hold it; "
                "the app must ask for that scope and you must allow it."
            )
        if missing and principal.credential == "token":
            raise Forbidden(
                f"This access token does not carry {', '.join(missing)} (a token holds its scopes only while its user "
                "does); make a token with that scope."
            )
        if missing:
            raise Forbidden(f"You need the permission {', '.join(missing)} for this; ask an admin.")
        return principal

    return _declare(Access("scopes", tuple(codes)), allowed)


def require_superadmin() -> Allowed:
    """A dependency for platform-wide administration (a personal access token never carries it)."""

    async def allowed(principal: CurrentPrincipal) -> Principal:
        if not principal.is_superadmin:
            raise Forbidden("Only platform administrators may do this.")
        return principal

    return _declare(Access("superadmin"), allowed)


def require_signed_in() -> Allowed:
    """Any signed-in principal, personal access tokens included: only for harmless reads of one's own account."""

    async def allowed(principal: CurrentPrincipal) -> Principal:
        return principal

    return _declare(Access("signed-in"), allowed)


def _refuse_tokens(principal: Principal) -> None:
    if principal.credential == "token" or principal.session_id is None:
        raise SessionRequired(
            "Personal access tokens cannot see or change passwords, passkeys, two-factor sign-in, tokens or sessions; "
            "sign in to Nubes to do this."
        )


def require_session() -> Allowed:
    """A signed-in session (browser or bearer), never a personal access token: reading one's credentials."""

    async def allowed(principal: CurrentPrincipal) -> Principal:
        _refuse_tokens(principal)
        return principal

    return _declare(Access("session"), allowed)


def require_sudo() -> Allowed:
    """A session whose user proved who they are within `sudo_ttl` seconds: changing credentials."""

    async def allowed(request: Request, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal) -> Principal:
        _refuse_tokens(principal)
        identity: sessions_service.Identity = request.state.identity
        proved = identity.reauthenticated_at
        if proved is None or utcnow() - proved > timedelta(seconds=settings.sudo_ttl):
            methods = await sudo.reauthentication_methods(session=session, user_id=principal.user_id)
            raise ReauthenticationRequired(
                "Confirm it's you first (your password or a passkey, POST /api/auth/sudo), then try again.",
                extensions={"methods": methods},
            )
        return principal

    return _declare(Access("sudo"), allowed)


AnyPrincipal = Annotated[Principal, Depends(require_signed_in())]
SessionPrincipal = Annotated[Principal, Depends(require_session())]
SudoPrincipal = Annotated[Principal, Depends(require_sudo())]


def _declared_access(dependant: Dependant) -> list[Access]:
    found = [_DECLARED[dependant.call]] if dependant.call in _DECLARED else []
    for sub in dependant.dependencies:
        found.extend(_declared_access(sub))
    return found


def document_access(app: FastAPI) -> None:
    """Show each route's access rule in the OpenAPI schema (`x-nubes-access`); a route declaring two is a bug."""
    for route in api_routes(app.routes):
        declared = set(_declared_access(route.dependant))
        if len(declared) > 1:
            raise RuntimeError(f"{route.path} declares more than one access rule: {sorted(a.kind for a in declared)}")
        if declared:
            route.openapi_extra = {**(route.openapi_extra or {}), "x-nubes-access": declared.pop().openapi()}


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
    """The principal behind an access token or personal access token, outside an HTTP request (WebSockets).

    Never cached: a socket checks its caller again every few seconds, and that check must read the database.
    """
    identity = await sessions_service.identity_of(session=session, keyring=keyring, token=token)
    if identity.token_id is not None:
        token_use.note(identity.token_id, utcnow())
    return identity.principal


async def _limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


LimiterDep = Annotated[RateLimiter, Depends(_limiter)]


async def _mail(request: Request) -> MailSender:
    sender: MailSender = request.app.state.mail
    return sender


MailDep = Annotated[MailSender, Depends(_mail)]


def send_mail_after_commit(session: AsyncSession, mail: MailSender) -> None:
    """Deliver what the request queued in the outbox as soon as its transaction has committed."""
    after_commit(session, mail.wake)


# --- shared aliases ------------------------------------------------------------------------------

SuperAdmin = Annotated[Principal, Depends(require_superadmin())]


async def _relying_party(request: Request, settings: SettingsDep) -> mfa_service.RelyingParty:
    """Passkeys belong to the public URL's host; without one, to the host the browser used."""
    origin = settings.public_url or f"{request.url.scheme}://{request.url.netloc}"
    return mfa_service.RelyingParty(id=urlsplit(origin).hostname or "localhost", origin=origin)


RelyingPartyDep = Annotated[mfa_service.RelyingParty, Depends(_relying_party)]


def browser_only_from_here(request: Request, settings: SettingsDep, what: str) -> None:
    """Refuse a browser request (`what`) that another site sent: sign-up and sign-in are not cookie-authenticated."""
    if not same_origin(request, settings):
        raise Forbidden(f"{what} from another site is refused (CSRF protection).")

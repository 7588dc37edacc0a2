"""Who is calling through the gateway, and the visit it makes: the access rule of every `/apps/<slug>/...` route.

The credential is a bearer token or the session cookie, resolved as every API route resolves it
(`principal_of_request_token`, the principal cache included). A service's own pages and forms cannot send Nubes'
CSRF header, so a cookie-authenticated unsafe request needs a same-origin `Origin` (or `Referer`) instead; a
WebSocket opened with the cookie needs a same-origin `Origin` always. Everything is read in a short read-only
session ended before the request is forwarded: a 1 GiB upload holds no database connection (and on SQLite, no
writer lock).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.requests import HTTPConnection
from starlette.websockets import WebSocket

from nubes.apps.gateway import service
from nubes.apps.gateway.proxy import Gateway, Visit
from nubes.config import Settings
from nubes.core.db import SAFE_METHODS, Database
from nubes.core.errors import Forbidden, Unauthorized
from nubes.core.principal import Principal
from nubes.core.websocket import origin_allowed
from nubes.identity.deps import ACCESS_COOKIE, principal_of_request_token, principal_of_token, same_origin
from nubes.identity.sessions import service as sessions_service


async def gateway_of(connection: HTTPConnection) -> Gateway:
    """The process's gateway (`apps/tasks.py` puts it on the app)."""
    gateway: Gateway = connection.app.state.gateway
    return gateway


GatewayDep = Annotated[Gateway, Depends(gateway_of)]


def credential(connection: HTTPConnection, *, method: str) -> str:
    """The access token a request or socket presents (bearer header, else the session cookie), after the origin check
    a cookie needs; 401 without one."""
    scheme, _, value = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if connection.headers.get("authorization"):
        raise Unauthorized("Use `Authorization: Bearer <access token>`.", headers={"WWW-Authenticate": "Bearer"})
    token = connection.cookies.get(ACCESS_COOKIE, "")
    if not token:
        raise Unauthorized("Sign in first.", headers={"WWW-Authenticate": "Bearer"})
    settings: Settings = connection.app.state.settings
    if isinstance(connection, WebSocket):
        if not origin_allowed(connection, settings.public_url):
            raise Forbidden("This socket was opened from another site; it was refused.")
    elif isinstance(connection, Request) and method not in SAFE_METHODS and not same_origin(connection, settings):
        raise Forbidden("This request comes from another site; it was refused (CSRF protection).")
    return token


async def visit(request: Request, slug: str, gateway: GatewayDep) -> Visit:
    """The caller's visit to the service `slug` (401, 403, 404 or 503 otherwise)."""
    token = credential(request, method=request.method)
    database: Database = request.app.state.db
    async with database.reader_sessions() as session:
        principal = await principal_of_request_token(request, session, token)
        return await service.admit(
            session=session, principal=principal, slug=slug, method=request.method, path=path_of(request), gateway=gateway
        )


async def socket_visit(websocket: WebSocket, slug: str, gateway: GatewayDep) -> tuple[Visit, Principal]:
    """The caller's visit to the service `slug` over a WebSocket (its credential checked afresh, never cached), and who
    opened it (`socket_still_allowed` checks them again while it is open)."""
    token = credential(websocket, method="GET")
    database: Database = websocket.app.state.db
    async with database.reader_sessions() as session:
        principal = await principal_of_token(session=session, keyring=websocket.app.state.keyring, token=token)
        visit = await service.admit(
            session=session, principal=principal, slug=slug, method="GET", path=path_of(websocket), gateway=gateway
        )
        return visit, principal


RECHECK_SECONDS = 5.0
"""How often an open socket checks that its caller may still use the service (the targets' cache lives as long)."""


async def socket_still_allowed(websocket: WebSocket, slug: str, gateway: Gateway, opened_by: Principal) -> None:
    """Raise (401, 403, 404, 503) once the caller who opened the socket may no longer use the service: their session
    ended or was revoked, their account deactivated, their token revoked, or their right to the app taken away.

    A browser's socket is checked by its session, not by the access token it opened with: that token expires within
    minutes while the session lives on (and the browser refreshes its cookie, not the socket's)."""
    database: Database = websocket.app.state.db
    async with database.reader_sessions() as session:
        if opened_by.session_id is not None:
            identity = await sessions_service.load_identity(
                session=session, user_id=opened_by.user_id, session_id=opened_by.session_id
            )
            principal = identity.principal
        else:
            token = credential(websocket, method="GET")
            principal = await principal_of_token(session=session, keyring=websocket.app.state.keyring, token=token)
        path = path_of(websocket)
        await service.admit(session=session, principal=principal, slug=slug, method="GET", path=path, gateway=gateway)


def path_of(connection: HTTPConnection) -> str:
    """The path on the service: what follows `/apps/<slug>` (decoded), from its `/`."""
    return "/" + str(connection.path_params.get("path", ""))


def wants_page(request: Request) -> bool:
    """Whether a browser is navigating (a page load, which a sign-in redirect serves better than a 401 problem)."""
    return request.method in {"GET", "HEAD"} and "text/html" in request.headers.get("accept", "")

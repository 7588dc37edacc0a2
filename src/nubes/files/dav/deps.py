"""Who calls WebDAV and in which session: Basic (app passwords) or bearer tokens, never cookies; the caller's own tree only.

No cookie is read here, so a page on another site cannot make a signed-in browser write through WebDAV (no CSRF).
Reads (OPTIONS, GET, HEAD, PROPFIND) run in a read-only session that lives as long as the answer streams; writes in
one transaction committed before the answer. Credentials are checked in a short read-only session of their own, ended
before the request's begins (a failed Basic sign-in is recorded in a writing session of its own, even on a read).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import partial
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core.db import finish_on_exit, utcnow
from nubes.core.errors import BadRequest, Forbidden, Unauthorized
from nubes.core.principal import Principal
from nubes.core.ratelimit import RateLimiter
from nubes.identity.deps import origin_of
from nubes.identity.sessions import service as sessions_service
from nubes.identity.sessions.cache import PrincipalCache
from nubes.identity.sessions.tokens import KeyRing, hash_token
from nubes.identity.sessions.usage import token_use

CHALLENGE = {"WWW-Authenticate": 'Basic realm="Nubes", charset="UTF-8"'}
READ_METHODS = frozenset({"OPTIONS", "GET", "HEAD", "PROPFIND"})
WRITE_METHODS = frozenset({"PUT", "DELETE", "MKCOL", "COPY", "MOVE", "PROPPATCH", "LOCK", "UNLOCK"})

# The mounts of the tree: WebDAV's own, and the paths Nextcloud's clients use (the last one names no user).
DAV_FILES = "/dav/files"
NEXTCLOUD_FILES = "/remote.php/dav/files"
NEXTCLOUD_WEBDAV = "/remote.php/webdav"


@dataclass(frozen=True, slots=True)
class SessionMakers:
    """Where WebDAV's sessions come from: the app's database (tests bind them to their own transaction instead)."""

    reader: Callable[[], AsyncSession]
    writer: Callable[[], AsyncSession]


async def session_makers(request: Request) -> SessionMakers:
    """The app database's read-only and writing session factories."""
    database = request.app.state.db
    return SessionMakers(reader=database.reader_sessions, writer=database.writer_sessions)


SessionMakersDep = Annotated[SessionMakers, Depends(session_makers)]


async def read_session(makers: SessionMakersDep) -> AsyncIterator[AsyncSession]:
    """A read-only session kept open until the answer is sent (a PROPFIND streams its rows as it reads them)."""
    async with makers.reader() as session:
        yield session


async def write_session(makers: SessionMakersDep) -> AsyncIterator[AsyncSession]:
    """A writing session, committed before the answer (rolled back when the request fails)."""
    async with makers.writer() as session, finish_on_exit(session):
        yield session


ReadSession = Annotated[AsyncSession, Depends(read_session)]
WriteSession = Annotated[AsyncSession, Depends(write_session, scope="function")]


def _challenge(exc: Unauthorized) -> Unauthorized:
    exc.headers = {**(exc.headers or {}), **CHALLENGE}
    return exc


def _basic_pair(credentials: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise _challenge(Unauthorized("The Basic credentials are not base64 of UTF-8 `username:password`.")) from None
    username, colon, password = decoded.partition(":")
    if not colon:
        raise _challenge(Unauthorized("The Basic credentials need `username:password`."))
    return username, password


async def authenticate(request: Request, makers: SessionMakersDep) -> Principal:
    """The caller from `Authorization` (Basic with an app password, or Bearer with an access token), or 401."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    scheme = scheme.lower()
    cache: PrincipalCache = request.app.state.principal_cache
    if scheme == "bearer" and credentials.strip():
        token = credentials.strip()
        keyring: KeyRing = request.app.state.keyring
        try:
            async with makers.reader() as session:
                identity = await cache.resolve(
                    hash_token(token), partial(sessions_service.identity_of, session=session, keyring=keyring, token=token)
                )
        except Unauthorized as exc:
            raise _challenge(exc) from None
        if identity.token_id is not None:
            token_use.note(identity.token_id, utcnow())
        return identity.principal
    if scheme == "basic":
        username, password = _basic_pair(credentials)
        settings: Settings = request.app.state.settings
        limiter: RateLimiter = request.app.state.rate_limiter
        origin = await origin_of(request)
        # Read in a session of its own, ended before the request's begins; a failed sign-in is recorded through
        # `writer` in a transaction of its own. A known device costs no write: on SQLite a writing session per request
        # would queue every read behind the one writer.
        async with makers.reader() as session:
            identity = await sessions_service.identity_from_basic(
                session=session,
                settings=settings,
                limiter=limiter,
                username=username,
                password=password,
                origin=origin,
                cache=cache,
                writer=makers.writer,
            )
        return identity.principal
    raise _challenge(Unauthorized("Sign in with your username and an app password (HTTP Basic), or a bearer token."))


Caller = Annotated[Principal, Depends(authenticate)]


@dataclass(frozen=True, slots=True)
class Dav:
    """One WebDAV request: who calls, the session, the href of the caller's root (encoded, no `/` at the end), the path."""

    principal: Principal
    session: AsyncSession
    base: str
    segments: tuple[str, ...]
    trailing_slash: bool


def split_path(path: str) -> tuple[str, ...]:
    """The names of a decoded path; `.` and `..` are refused (a path never climbs out of the tree it names)."""
    segments = tuple(segment for segment in path.split("/") if segment)
    if any(segment in {".", ".."} for segment in segments):
        raise BadRequest("A path with `.` or `..` segments is refused; send the path itself.")
    return segments


def base_href(request: Request, mount: str, username: str | None) -> str:
    """The encoded href of the tree's root under the mount the request came through."""
    root: str = request.scope.get("root_path", "")
    if username is None:
        return root + mount
    return f"{root}{mount}/{quote(username, safe='')}"


def own_tree(principal: Principal, username: str | None) -> None:
    """403 unless the URL's user is the caller: a WebDAV URL reaches only one's own files."""
    if username is not None and username.casefold() != principal.username.casefold():
        raise Forbidden(f"You can reach only your own files over WebDAV: use {DAV_FILES}/{principal.username}/.")


def _context(request: Request, principal: Principal, session: AsyncSession) -> Dav:
    code = "files.read" if request.method in READ_METHODS else "files.write"
    if not principal.can(code):
        if principal.credential == "token":
            raise Forbidden(f"This app password or token does not carry {code}; make one with that scope.")
        raise Forbidden(f"You need the permission {code} for this; ask an admin.")
    params = request.path_params
    username: str | None = params.get("dav_user")
    route_path: str = getattr(request.scope.get("route"), "path", "")
    if route_path.startswith(NEXTCLOUD_WEBDAV):
        mount = NEXTCLOUD_WEBDAV
    elif route_path.startswith(NEXTCLOUD_FILES):
        mount = NEXTCLOUD_FILES
    else:
        mount = DAV_FILES
    own_tree(principal, username)
    path: str = params.get("dav_path", "")
    return Dav(
        principal=principal,
        session=session,
        base=base_href(request, mount, username),
        segments=split_path(path),
        trailing_slash=path.endswith("/"),
    )


async def dav_reader(request: Request, principal: Caller, session: ReadSession) -> Dav:
    """A read (OPTIONS, GET, HEAD, PROPFIND) of the caller's own tree, with files.read."""
    return _context(request, principal, session)


async def dav_writer(request: Request, principal: Caller, session: WriteSession) -> Dav:
    """A write of the caller's own tree, with files.write."""
    return _context(request, principal, session)


DavReader = Annotated[Dav, Depends(dav_reader)]
DavWriter = Annotated[Dav, Depends(dav_writer)]

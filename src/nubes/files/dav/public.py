"""Public links over WebDAV: what a link opens, mounted by a WebDAV client without an account.

Two mounts, as Nextcloud's: `/public.php/dav/files/<link token>/` (the link's password, if it has one, as the Basic
password; the username is not read) and `/public.php/webdav/` (the link's token as the Basic username, its password
as the password). Every rule is the link's own (`nubes.files.links.service`): it must still work (not revoked,
expired or used up, its maker still holding the file), its password is checked and rate-limited as the link page
checks it, every download counts against its limit, refusals are audited, and nothing above the link's node can be
named. What a link of each kind allows:

- a view link: OPTIONS, PROPFIND (depth 0 or 1), GET and HEAD;
- an edit link: those, and PUT (a new file, or new content kept as a version), MKCOL and DELETE (to the owner's trash;
  never the link's own node);
- a drop box: PUT of new files into its folder only (a taken name gets the next free one, as the link page does) and a
  PROPFIND of its folder alone — never what it holds, never a download.

Locks, properties and moves are not offered here (a 405 says so): a link is for handing over files, not for working
in someone's tree.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import hmac
import time
import uuid
from collections.abc import AsyncIterator
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core.audit import Origin
from nubes.core.db import finish_on_exit
from nubes.core.errors import Forbidden, NotFound, Unauthorized
from nubes.core.ratelimit import RateLimiter
from nubes.core.routing import api_router
from nubes.core.storage import Storage
from nubes.files.dav import locking, service, xml
from nubes.files.dav.deps import SessionMakers, SessionMakersDep, split_path
from nubes.files.deps import MAX_UPLOAD_BYTES, StorageDep, cut_off_is_incomplete, declared_length, send_node
from nubes.files.links import service as links
from nubes.files.quota import service as quota
from nubes.files.tree import content
from nubes.files.tree import service as tree
from nubes.files.tree.models import FileNode
from nubes.files.tree.schemas import FolderCreate
from nubes.identity.deps import origin_of

router = api_router()

FILES_MOUNT = "/public.php/dav/files"
WEBDAV_MOUNT = "/public.php/webdav"
CHALLENGE = {"WWW-Authenticate": 'Basic realm="Nubes public link", charset="UTF-8"'}
READS = frozenset({"OPTIONS", "PROPFIND", "GET", "HEAD"})
ALLOWED = {
    "view": "OPTIONS, PROPFIND, GET, HEAD",
    "edit": "OPTIONS, PROPFIND, GET, HEAD, PUT, MKCOL, DELETE",
    "upload": "OPTIONS, PROPFIND, PUT",
}
PERMISSIONS = {"view": {"files.read"}, "edit": {"files.read", "files.write"}, "upload": {"files.write"}}
PROOFS_KEPT = 1024
"""Unlocked links remembered per process (a WebDAV client sends the password with every request; argon2 and the
unlock rate limit would otherwise meet it at each one)."""

_proofs: dict[str, tuple[str, float]] = {}


@dataclasses.dataclass(frozen=True, slots=True)
class Credentials:
    """What the request says about the link: its token, and the password it gives (None: none given)."""

    token: str
    password: str | None
    base: str  # the encoded href of the link's root on this mount


def _basic(request: Request) -> tuple[str, str] | None:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        username, _, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthorized("The Basic credentials are not base64 of UTF-8 `token:password`.", headers=CHALLENGE) from None
    return username, password


def credentials(request: Request) -> Credentials:
    """The link named by the URL (`/public.php/dav/files/<token>/`) or by the Basic username (`/public.php/webdav/`)."""
    given = _basic(request)
    token: str | None = request.path_params.get("link_token")
    root: str = request.scope.get("root_path", "")
    if token is not None:
        return Credentials(token, given[1] if given else None, f"{root}{FILES_MOUNT}/{quote(token, safe='')}")
    if given is None or not given[0]:
        raise Unauthorized("Sign in with the link's token as the username and its password (if any).", headers=CHALLENGE)
    return Credentials(given[0], given[1], f"{root}{WEBDAV_MOUNT}")


def _proof_key(settings: Settings, token: str, password: str) -> str:
    message = f"dav-link\0{token}\0{password}".encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()


async def _unlocked(request: Request, session: AsyncSession, token: str, password: str | None) -> links.Opened:
    """The working link; its password checked once per process and password (the proof is reused until it expires)."""
    settings: Settings = request.app.state.settings
    limiter: RateLimiter = request.app.state.rate_limiter
    origin = await origin_of(request)
    proof: str | None = None
    if password:
        key = _proof_key(settings, token, password)
        kept = _proofs.get(key)
        if kept is not None and kept[1] > time.monotonic():
            proof = kept[0]
        else:
            try:
                proof = await links.unlock(
                    session=session, settings=settings, limiter=limiter, token=token, password=password, origin=origin
                )
            except Unauthorized as exc:
                exc.headers = {**(exc.headers or {}), **CHALLENGE}
                raise
            if len(_proofs) >= PROOFS_KEPT:
                _proofs.clear()
            _proofs[key] = (proof, time.monotonic() + links.UNLOCK_TTL / 2)
    try:
        return await links.open_link(session=session, settings=settings, token=token, origin=origin, proof=proof)
    except links.LinkPasswordRequired as exc:
        exc.detail = "This link has a password: give it as the password of HTTP Basic (any username)."
        exc.headers = {**(exc.headers or {}), **CHALLENGE}
        raise


def _acting(opened: links.Opened) -> links.Opened:
    """The link with its owner's principal narrowed to what the link's kind allows (what PROPFIND's permissions show)."""
    owner = dataclasses.replace(opened.owner, permissions=frozenset(PERMISSIONS[opened.link.kind]), credential="token")
    return dataclasses.replace(opened, owner=owner)


async def _locate(session: AsyncSession, opened: links.Opened, segments: tuple[str, ...]) -> service.Located:
    """What a path under the link's node names (nothing above it can be named: a path starts at the link's node)."""
    top = opened.node
    if not segments:
        return service.Located(node=top, parent=None, name="")
    if top.kind == "file":
        return service.Located(node=None, parent=None, name=segments[-1])
    return await service.locate_under(session=session, principal=opened.owner, top=top, segments=segments)


def _href(credentials: Credentials, segments: tuple[str, ...], node: FileNode | None) -> str:
    return xml.href(credentials.base, segments, collection=node is not None and node.kind != "file")


def _refuse_method(opened: links.Opened, method: str) -> None:
    if method not in ALLOWED[opened.link.kind].split(", "):
        kind = {"view": "a view link", "edit": "an edit link", "upload": "a drop box"}[opened.link.kind]
        raise service.MethodNotAllowed(f"{method} is not offered through {kind}; it allows {ALLOWED[opened.link.kind]}.")


async def _no_locks(node_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """Locks are not shown through a link (nor taken)."""
    del node_ids
    return {}


async def public_dav(
    request: Request, makers: SessionMakersDep, storage: StorageDep, creds: Annotated[Credentials, Depends(credentials)]
) -> Response:
    """Every method on a public link's WebDAV mount."""
    method = request.method
    segments = split_path(request.path_params.get("dav_path", ""))
    if method in {"PROPFIND", "OPTIONS"}:
        return await _read_only(request, makers, creds, segments)
    async with makers.writer() as session, finish_on_exit(session):
        opened = _acting(await _unlocked(request, session, creds.token, creds.password))
        _refuse_method(opened, method)
        origin = await origin_of(request)
        located = await _locate(session, opened, segments)
        href = _href(creds, segments, located.node)
        if method in {"GET", "HEAD"}:
            return await _download(request, session, storage, opened, located=located, href=href)
        if method == "PUT":
            return await _put(request, session, storage, opened, located=located, href=href, origin=origin)
        if method == "MKCOL":
            if located.node is not None:
                raise service.MethodNotAllowed(f"{href} exists already; MKCOL makes a new folder.")
            if located.parent is None:
                raise service.conflict_missing_parent(href)
            await locking.check_write(
                request, session=session, principal=opened.owner, node=None, parent=located.parent, href=href
            )
            await tree.create_folder(
                session=session, principal=opened.owner, folder_in=FolderCreate(parent_id=located.parent.id, name=located.name)
            )
            return Response(status_code=201)
        node = located.node  # what is left is a DELETE
        if node is None:
            raise service.not_found(href)
        if node.id == opened.node.id:
            raise Forbidden("The link's own file or folder cannot be deleted through it.")
        await locking.check_write(
            request, session=session, principal=opened.owner, node=node, parent=located.parent, href=href, subtree=True
        )
        await tree.trash(session=session, principal=opened.owner, node_id=node.id, origin=origin)
        return Response(status_code=204)


async def _read_only(request: Request, makers: SessionMakers, creds: Credentials, segments: tuple[str, ...]) -> Response:
    """OPTIONS and PROPFIND: the link opened (and any refusal recorded) in a short writing session, then the answer
    streamed from a read-only one."""
    async with makers.writer() as session, finish_on_exit(session):
        opened = _acting(await _unlocked(request, session, creds.token, creds.password))
    if request.method == "OPTIONS":
        return Response(status_code=200, headers={"DAV": "1", "Allow": ALLOWED[opened.link.kind], "Content-Length": "0"})
    depth_header = request.headers.get("depth", "1").strip().lower()
    if depth_header not in {"0", "1"}:
        return Response(xml.error_body("propfind-finite-depth"), status_code=403, media_type=xml.XML_MEDIA_TYPE)
    ask = xml.propfind(await xml.read_body(request))
    hidden = {service.QUOTA_USED, service.QUOTA_AVAILABLE}  # the owner's storage is not the visitor's business
    ask = dataclasses.replace(
        ask,
        names=tuple(name for name in ask.names if name not in hidden),
        include=tuple(name for name in ask.include if name not in hidden),
    )
    drop_box = opened.link.kind == "upload"
    if drop_box and segments:
        raise NotFound("A drop box shows only its own folder.")
    settings: Settings = request.app.state.settings

    async def stream() -> AsyncIterator[bytes]:
        async with makers.reader() as session:
            located = await _locate(session, opened, segments)
            if located.node is None:  # gone since the check below: an empty answer
                yield (xml.MULTISTATUS_START + xml.MULTISTATUS_END).encode()
                return
            async for part in service.propfind(
                session=session,
                settings=settings,
                principal=opened.owner,
                node=located.node,
                href=_href(creds, segments, located.node),
                depth=0 if drop_box else int(depth_header),
                ask=ask,
                locks_of=_no_locks,
            ):
                yield part

    async with makers.reader() as session:
        if (await _locate(session, opened, segments)).node is None:
            raise service.not_found(_href(creds, segments, None))
    return StreamingResponse(stream(), status_code=207, media_type=xml.XML_MEDIA_TYPE)


async def _download(
    request: Request, session: AsyncSession, storage: Storage, opened: links.Opened, *, located: service.Located, href: str
) -> Response:
    node = located.node
    if node is None:
        raise service.not_found(href)
    if node.kind != "file":
        raise service.MethodNotAllowed(f"{href} is a folder: PROPFIND lists it, GET reads files.")
    settings: Settings = request.app.state.settings
    origin = await origin_of(request)
    etag = content.etag_of(node.sha256 or "")
    if request.method == "GET" and not content.not_modified(request.headers.get("if-none-match"), etag):
        await links.count_download(
            session=session,
            settings=settings,
            opened=opened,
            origin=origin,
            node=node,
            first_byte=content.first_byte(request.headers.get("range"), request.headers.get("if-range"), node),
            proof=None,
            ticket=None,
        )
    answer = await send_node(request, session, storage, opened.owner, node)
    if request.method == "HEAD":
        return Response(status_code=answer.status_code, headers=dict(answer.headers))
    return answer


async def _put(
    request: Request,
    session: AsyncSession,
    storage: Storage,
    opened: links.Opened,
    *,
    located: service.Located,
    href: str,
    origin: Origin,
) -> Response:
    node = located.node
    if node is not None and node.kind != "file":
        raise service.MethodNotAllowed(f"{href} is a folder; PUT writes files.")
    drop_box = opened.link.kind == "upload"
    if located.parent is None and node is None:
        raise service.conflict_missing_parent(href)
    if drop_box and (located.parent is None or located.parent.id != opened.node.id):
        raise Forbidden("A drop box takes files into its own folder only.")
    if drop_box:
        node = None  # a drop box never overwrites: a taken name gets the next free one, unseen
    await locking.check_write(request, session=session, principal=opened.owner, node=node, parent=located.parent, href=href)
    into: uuid.UUID | None = None  # a drop box: its own folder
    if not drop_box:
        into = node.id if node is not None else located.parent.id if located.parent is not None else None
    try:
        written, _ = await links.upload(
            session=session,
            settings=request.app.state.settings,
            storage=storage,
            opened=opened,
            origin=origin,
            node_id=into,
            filename=located.name,
            content_type=request.headers.get("content-type", ""),
            chunks=cut_off_is_incomplete(request.stream()),
            expected_size=declared_length(request),
        )
    except quota.QuotaExceeded as exc:
        raise service.quota_refusal(exc) from None
    return Response(status_code=201 if node is None else 204, headers={"ETag": content.etag_of(written.sha256 or "")})


PATHS = (
    f"{FILES_MOUNT}/{{link_token}}",
    f"{FILES_MOUNT}/{{link_token}}/{{dav_path:path}}",
    WEBDAV_MOUNT,
    f"{WEBDAV_MOUNT}/{{dav_path:path}}",
)
METHODS = ["OPTIONS", "PROPFIND", "GET", "HEAD", "PUT", "MKCOL", "DELETE", "PROPPATCH", "MOVE", "COPY", "LOCK", "UNLOCK"]
for _path in PATHS:
    router.add_api_route(
        _path,
        public_dav,
        methods=METHODS,
        include_in_schema=False,
        max_body_size=MAX_UPLOAD_BYTES,
    )

routers = [router]

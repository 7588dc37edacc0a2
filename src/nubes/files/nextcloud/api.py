"""Routes Nextcloud's clients call, at their own paths (root-mounted), and the REST routes of the login-flow page.

Root routes (out of the OpenAPI schema, like WebDAV's): `/status.php`, the OCS capabilities and user,
`/index.php/login/v2` and its poll, and the chunked-upload folders `/remote.php/dav/uploads/<user>/...`. They
authenticate as WebDAV does (`files.dav.deps`: Basic with an app password, or a bearer token; never a cookie).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core.db import SessionDep
from nubes.core.errors import BadRequest, Conflict, Forbidden
from nubes.core.principal import Principal
from nubes.core.routing import api_router
from nubes.core.storage import Storage
from nubes.files.dav import locking, xml
from nubes.files.dav import service as dav
from nubes.files.dav.deps import DAV_FILES, NEXTCLOUD_FILES, NEXTCLOUD_WEBDAV, Caller, ReadSession, WriteSession, own_tree
from nubes.files.deps import MAX_UPLOAD_BYTES, StorageDep, cut_off_is_incomplete, declared_length
from nubes.files.nextcloud import chunking, properties, service
from nubes.files.nextcloud.schemas import LoginFlowAnswered, LoginFlowRead
from nubes.files.quota import service as quota
from nubes.files.tree import content
from nubes.files.tree import service as tree
from nubes.files.uploads import service as uploads
from nubes.identity.deps import LimiterDep, OriginDep, SessionPrincipal, SettingsDep, SudoPrincipal

router = api_router()
"""Under /api: the page where the signed-in user answers a client's sign-in request."""
root_router = api_router()
"""At the root: the paths Nextcloud's clients use."""

UPLOADS = "/remote.php/dav/uploads"
POLL_BODY_BYTES = 4096
LOGIN_FLOWS_PER_IP = "30/minute;300/hour"


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _base_url(request: Request) -> str:
    return _settings(request).public_url or str(request.base_url).rstrip("/")


# --- status and OCS ---------------------------------------------------------------------------------------------


async def status_php() -> JSONResponse:
    """What a client checks first: a Nextcloud-compatible server, installed, not in maintenance."""
    return JSONResponse(service.status())


def _ocs_answer(request: Request, data: Any, *, status_code: int = 200, message: str = "OK") -> Response:
    v2 = request.url.path.startswith("/ocs/v2.php") or "/ocs/v2.php/" in request.url.path
    envelope = service.ocs(data, v2=v2, status_code=status_code, message=message)
    http_status = status_code if v2 else 200
    wants_json = request.query_params.get("format") == "json" or "application/json" in request.headers.get("accept", "")
    if wants_json:
        return JSONResponse(envelope, status_code=http_status)
    return Response(service.ocs_xml(envelope), status_code=http_status, media_type="application/xml; charset=utf-8")


async def ocs_capabilities(request: Request) -> Response:
    """The server's capabilities (public, as in Nextcloud)."""
    return _ocs_answer(request, service.capabilities())


async def ocs_user(request: Request, principal: Caller, session: ReadSession) -> Response:
    """The signed-in user: id, names, e-mail, quota."""
    if not principal.can("files.read"):
        raise Forbidden("This app password or token does not carry files.read.")
    return _ocs_answer(request, await service.user(session=session, settings=_settings(request), principal=principal))


async def ocs_user_by_id(request: Request, ocs_user_id: str, principal: Caller, session: ReadSession) -> Response:
    """A user by id: only oneself here (other accounts are not listed to sync clients)."""
    if ocs_user_id.casefold() != principal.username.casefold():
        return _ocs_answer(request, [], status_code=404, message="You can see only your own account here.")
    return await ocs_user(request, principal, session)


async def ocs_notifications(request: Request, principal: Caller) -> Response:
    """No notifications (an empty list, so a client's polling stays quiet)."""
    return _ocs_answer(request, [])


# --- Login Flow v2 ----------------------------------------------------------------------------------------------


async def login_v2(request: Request, session: SessionDep, limiter: LimiterDep, origin: OriginDep) -> JSONResponse:
    """Begin a Login Flow v2: the client polls with `poll.token` while the user opens `login` in a browser."""
    await limiter.hit("nextcloud-login-flow-ip", origin.ip, LOGIN_FLOWS_PER_IP)  # anyone may start one: bounded
    started = await service.start_login_flow(session=session, user_agent=request.headers.get("user-agent", ""))
    base = _base_url(request)
    return JSONResponse(
        {
            "poll": {"token": started.poll_token, "endpoint": f"{base}/index.php/login/v2/poll"},
            "login": f"{base}/login/flow/{started.login_token}",
        },
        headers={"Cache-Control": "no-store"},
    )


async def _poll_token(request: Request) -> str:
    body = b""
    async for part in request.stream():
        body += part
        if len(body) > POLL_BODY_BYTES:
            raise BadRequest("The poll request's body is too long; send `token=<poll token>`.")
    text = body.decode("utf-8", errors="replace").strip()
    token = ""
    if text.startswith("{"):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = {}
        token = str(parsed.get("token", "")) if isinstance(parsed, dict) else ""
    elif text:
        token = parse_qs(text).get("token", [""])[0]
    token = token or request.query_params.get("token", "")
    if not token:
        raise BadRequest("Send the poll token as `token=<poll token>`.")
    return token


async def login_v2_poll(request: Request, session: SessionDep) -> JSONResponse:
    """The credentials once the user granted access (then never again); 404 until then."""
    credentials = await service.poll_login_flow(
        session=session, settings=_settings(request), poll_token=await _poll_token(request)
    )
    return JSONResponse(
        {"server": _base_url(request), "loginName": credentials.login_name, "appPassword": credentials.app_password},
        headers={"Cache-Control": "no-store"},
    )


@router.get(
    "/files/nextcloud/login-flows/{login_token}",
    operation_id="files-nextcloud-login-flow-get",
    response_model=LoginFlowRead,
    tags=["files"],
    summary="A client's sign-in request",
)
async def get_login_flow(login_token: str, session: SessionDep, principal: SessionPrincipal) -> LoginFlowRead:
    """Which client asks to be signed in to your account, while the request waits (404 once answered or expired)."""
    flow = await service.get_pending_flow(session=session, login_token=login_token)
    return LoginFlowRead(client_name=flow.client_name, expires_at=flow.expires_at)


@router.post(
    "/files/nextcloud/login-flows/{login_token}/grant",
    operation_id="files-nextcloud-login-flow-grant",
    response_model=LoginFlowAnswered,
    tags=["files"],
    summary="Grant a client access to your files",
)
async def grant_login_flow(
    login_token: str, session: SessionDep, settings: SettingsDep, principal: SudoPrincipal, origin: OriginDep
) -> LoginFlowAnswered:
    """Make an app password for the client (listed under your devices, revocable there); the client collects it once."""
    flow = await service.grant_login_flow(
        session=session, settings=settings, principal=principal, login_token=login_token, origin=origin
    )
    return LoginFlowAnswered(granted=True, client_name=flow.client_name)


@router.post(
    "/files/nextcloud/login-flows/{login_token}/deny",
    operation_id="files-nextcloud-login-flow-deny",
    response_model=LoginFlowAnswered,
    tags=["files"],
    summary="Refuse a client's sign-in request",
)
async def deny_login_flow(login_token: str, session: SessionDep, principal: SessionPrincipal) -> LoginFlowAnswered:
    """The client gets nothing; its request ends."""
    flow = await service.get_pending_flow(session=session, login_token=login_token)
    await service.deny_login_flow(session=session, login_token=login_token)
    return LoginFlowAnswered(granted=False, client_name=flow.client_name)


# --- chunked uploads --------------------------------------------------------------------------------------------


def _uploader(request: Request, principal: Principal, nc_user: str) -> None:
    """The caller's own uploads folder, with files.write (files.read to look at it)."""
    code = "files.read" if request.method == "PROPFIND" else "files.write"
    if not principal.can(code):
        raise Forbidden(f"This app password or token does not carry {code}; make one with that scope.")
    own_tree(principal, nc_user)


def _uploads_href(request: Request, nc_user: str, *names: str) -> str:
    root: str = request.scope.get("root_path", "")
    return xml.href(f"{root}{UPLOADS}/{quote(nc_user, safe='')}", names, collection=True)


def _total_length(request: Request) -> int | None:
    value = request.headers.get("oc-total-length")
    if value is None:
        return None
    if not value.strip().isdigit():
        raise BadRequest("OC-Total-Length must be a byte count.")
    return int(value)


def _destination(request: Request, principal: Principal, header: str | None) -> dav.Destination:
    root_path: str = request.scope.get("root_path", "")
    mounts = [f"{NEXTCLOUD_FILES}/{principal.username}", f"{DAV_FILES}/{principal.username}", NEXTCLOUD_WEBDAV]
    target = dav.destination(
        header,
        hosts=(request.headers.get("host", ""), urlsplit(_settings(request).public_url).netloc),
        mounts=sorted(mounts, key=len, reverse=True),
        root_path=root_path,
    )
    if not target.segments:
        raise Forbidden("The Destination is the root of your files; name the file to make.")
    return target


@asynccontextmanager
async def _locked(session: AsyncSession, principal: Principal, transfer: str) -> AsyncIterator[chunking.Transfer]:
    """The transfer, read again while this process holds its upload's lock: one writer at a time (parallel chunks)."""
    found = await chunking.get_or_raise(session=session, principal=principal, name=transfer)
    async with uploads.lock_of(found.upload.id):
        yield await chunking.get_or_raise(session=session, principal=principal, name=transfer)


def _collection_response(href: str) -> str:
    return xml.response(href, [(200, ["<d:resourcetype><d:collection/></d:resourcetype>"])])


async def uploads_home(request: Request, nc_user: str, principal: Caller, session: ReadSession) -> Response:
    """PROPFIND of the uploads folder: the caller's transfers."""
    _uploader(request, principal, nc_user)
    await xml.read_body(request)
    responses = [_collection_response(_uploads_href(request, nc_user))]
    if request.headers.get("depth", "1").strip() != "0":
        for transfer in await chunking.list_transfers(session=session, principal=principal):
            responses.append(_collection_response(_uploads_href(request, nc_user, transfer.name)))
    return Response(xml.multistatus(responses), status_code=207, media_type=xml.XML_MEDIA_TYPE)


async def transfer_read(request: Request, nc_user: str, transfer: str, principal: Caller, session: ReadSession) -> Response:
    """PROPFIND of a transfer folder: the chunks that arrived whole (a resuming client skips them)."""
    _uploader(request, principal, nc_user)
    await xml.read_body(request)
    found = await chunking.get_or_raise(session=session, principal=principal, name=transfer)
    href = _uploads_href(request, nc_user, transfer)
    responses = [_collection_response(href)]
    if request.headers.get("depth", "1").strip() != "0":
        for chunk in await chunking.chunks_of(session=session, transfer=found.transfer):
            props = ["<d:resourcetype/>", f"<d:getcontentlength>{chunk.size}</d:getcontentlength>"]
            responses.append(xml.response(href + quote(chunk.name), [(200, props)]))
    return Response(xml.multistatus(responses), status_code=207, media_type=xml.XML_MEDIA_TYPE)


async def transfer_write(
    request: Request, nc_user: str, transfer: str, principal: Caller, session: WriteSession, storage: StorageDep
) -> Response:
    """MKCOL starts a transfer (v2: with the Destination it is for); DELETE aborts it."""
    _uploader(request, principal, nc_user)
    if request.method == "MKCOL":
        xml.refuse_body(await xml.read_body(request), "MKCOL")
        header = request.headers.get("destination")
        destination = _destination(request, principal, header).href if header else ""
        try:
            await chunking.create(
                session=session,
                settings=_settings(request),
                principal=principal,
                name=transfer,
                destination=destination,
                total_length=_total_length(request),
            )
        except quota.QuotaExceeded as exc:
            raise dav.quota_refusal(exc) from None
        return Response(status_code=201)
    async with _locked(session, principal, transfer) as found:
        await chunking.abort(session=session, storage=storage, found=found)
    return Response(status_code=204)


async def chunk_put(
    request: Request, nc_user: str, transfer: str, chunk: str, principal: Caller, session: WriteSession, storage: StorageDep
) -> Response:
    """PUT of one chunk, streamed onto the transfer's staged bytes."""
    _uploader(request, principal, nc_user)
    async with _locked(session, principal, transfer) as found:
        return await _put_chunk(request, chunk, principal, session, storage, found)


async def _put_chunk(
    request: Request, chunk: str, principal: Principal, session: AsyncSession, storage: Storage, found: chunking.Transfer
) -> Response:
    try:
        new = await chunking.put_chunk(
            session=session,
            settings=_settings(request),
            storage=storage,
            principal=principal,
            found=found,
            name=chunk,
            length=declared_length(request),
            chunks=cut_off_is_incomplete(request.stream()),
        )
    except quota.QuotaExceeded as exc:
        raise dav.quota_refusal(exc) from None
    return Response(status_code=201 if new else 204)


async def chunk_write(
    request: Request, nc_user: str, transfer: str, chunk: str, principal: Caller, session: WriteSession, storage: StorageDep
) -> Response:
    """MOVE of `.file` assembles the transfer into its Destination; DELETE of a chunk is refused (DELETE the transfer)."""
    _uploader(request, principal, nc_user)
    async with _locked(session, principal, transfer) as found:
        return await _assemble(request, chunk, principal, session, storage, found)


async def _assemble(
    request: Request, chunk: str, principal: Principal, session: AsyncSession, storage: Storage, found: chunking.Transfer
) -> Response:
    if request.method == "DELETE" or chunk != ".file":
        if request.method == "MOVE":
            raise dav.MethodNotAllowed("Only `.file` of a transfer is moved (to assemble the upload).")
        raise Conflict("Chunks are not deleted one by one here; DELETE the transfer folder to start again.")
    target = _destination(request, principal, request.headers.get("destination"))
    moment = dav.client_mtime(request.headers.get(dav.MTIME_HEADER))
    located = await dav.locate(session=session, principal=principal, segments=target.segments)
    if located.parent is None:
        raise dav.conflict_missing_parent(target.href)
    existing = located.node
    if existing is not None and existing.kind != "file":
        raise Conflict(f"{target.href} is a folder; a file cannot replace it.")
    if existing is not None and request.headers.get("overwrite", "T").strip().upper() == "F":
        raise dav.PreconditionFailed(f"{target.href} exists and Overwrite is F; nothing was made.")
    await locking.check_write(
        request, session=session, principal=principal, node=existing, parent=located.parent, href=target.href
    )
    try:
        node = await chunking.assemble(
            session=session,
            settings=_settings(request),
            storage=storage,
            principal=principal,
            found=found,
            total_length=_total_length(request),
            parent=located.parent,
            name=located.name,
            existing=existing,
            content_type="",
        )
    except quota.QuotaExceeded as exc:
        raise dav.quota_refusal(exc) from None
    etag = content.etag_of(node.sha256 or "")
    headers = {"ETag": etag, "OC-ETag": etag, "OC-FileId": properties.file_id(node.id)}
    if moment is not None:
        await tree.set_content_date(session=session, node=node, moment=moment)
        headers["X-OC-MTime"] = "accepted"
    return Response(status_code=204 if existing is not None else 201, headers=headers)


root_router.add_api_route("/status.php", status_php, methods=["GET"], include_in_schema=False)
for _version in ("v1", "v2"):
    _ocs = f"/ocs/{_version}.php"
    root_router.add_api_route(f"{_ocs}/cloud/capabilities", ocs_capabilities, methods=["GET"], include_in_schema=False)
    root_router.add_api_route(f"{_ocs}/cloud/user", ocs_user, methods=["GET"], include_in_schema=False)
    root_router.add_api_route(f"{_ocs}/cloud/users/{{ocs_user_id}}", ocs_user_by_id, methods=["GET"], include_in_schema=False)
    root_router.add_api_route(
        f"{_ocs}/apps/notifications/api/v2/notifications", ocs_notifications, methods=["GET"], include_in_schema=False
    )
root_router.add_api_route("/index.php/login/v2", login_v2, methods=["POST"], include_in_schema=False)
root_router.add_api_route("/index.php/login/v2/poll", login_v2_poll, methods=["POST"], include_in_schema=False)
root_router.add_api_route(f"{UPLOADS}/{{nc_user}}", uploads_home, methods=["PROPFIND"], include_in_schema=False)
root_router.add_api_route(f"{UPLOADS}/{{nc_user}}/{{transfer}}", transfer_read, methods=["PROPFIND"], include_in_schema=False)
root_router.add_api_route(
    f"{UPLOADS}/{{nc_user}}/{{transfer}}", transfer_write, methods=["MKCOL", "DELETE"], include_in_schema=False
)
root_router.add_api_route(
    f"{UPLOADS}/{{nc_user}}/{{transfer}}/{{chunk}}",
    chunk_put,
    methods=["PUT"],
    include_in_schema=False,
    max_body_size=MAX_UPLOAD_BYTES,
)
root_router.add_api_route(
    f"{UPLOADS}/{{nc_user}}/{{transfer}}/{{chunk}}", chunk_write, methods=["MOVE", "DELETE"], include_in_schema=False
)

routers = [router]
root_routers = [root_router]

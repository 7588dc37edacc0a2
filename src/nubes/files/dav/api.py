"""WebDAV routes (RFC 4918, class 1 and 2) at /dav/files/{user}/, and the same tree at Nextcloud clients' paths.

Thin: each method reads its headers and body, asks `dav.service` where the path leads, checks the locks
(`dav.locking`) and calls the tree's services. The routes stay out of the OpenAPI schema (its operations are the
REST API's; WebDAV's methods are not OpenAPI's).
"""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from fastapi import Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core.errors import BadRequest, Forbidden
from nubes.core.routing import api_router
from nubes.files.dav import locking, service, xml
from nubes.files.dav.deps import DAV_FILES, NEXTCLOUD_FILES, NEXTCLOUD_WEBDAV, Dav, DavReader, DavWriter
from nubes.files.deps import MAX_UPLOAD_BYTES, StorageDep, cut_off_is_incomplete, declared_length, send_node
from nubes.files.quota import service as quota
from nubes.files.tree import content
from nubes.files.tree import service as tree
from nubes.files.tree.models import FileNode
from nubes.files.tree.schemas import FileCopy, FileUpdate, FolderCreate
from nubes.files.uploads import service as uploads
from nubes.identity.deps import origin_of
from nubes.ops.flags import service as flags

router = api_router()

ALLOW = "OPTIONS, GET, HEAD, PUT, DELETE, MKCOL, COPY, MOVE, PROPFIND, PROPPATCH, LOCK, UNLOCK"
READS = ["OPTIONS", "GET", "HEAD", "PROPFIND"]
WRITES = ["DELETE", "MKCOL", "COPY", "MOVE", "PROPPATCH", "LOCK", "UNLOCK"]
PATHS = (
    f"{DAV_FILES}/{{dav_user}}",
    f"{DAV_FILES}/{{dav_user}}/{{dav_path:path}}",
    f"{NEXTCLOUD_FILES}/{{dav_user}}",
    f"{NEXTCLOUD_FILES}/{{dav_user}}/{{dav_path:path}}",
    NEXTCLOUD_WEBDAV,
    f"{NEXTCLOUD_WEBDAV}/{{dav_path:path}}",
)


def _href(dav: Dav, *, collection: bool) -> str:
    return xml.href(dav.base, dav.segments, collection=collection)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _xml(body: bytes, status: int) -> Response:
    return Response(body, status_code=status, media_type=xml.XML_MEDIA_TYPE)


def _lock_reader(session: AsyncSession) -> service.LockReader:
    async def read(node_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
        held = await locking.discovery(session=session, node_ids=node_ids)
        return {
            node_id: [
                xml.active_lock(
                    token=lock.token,
                    root=lock.root,
                    exclusive=lock.exclusive,
                    depth_infinity=lock.depth_infinity,
                    owner_xml=lock.owner_xml,
                    expires_at=lock.expires_at,
                )
                for lock in locks
            ]
            for node_id, locks in held.items()
        }

    return read


# --- reads ------------------------------------------------------------------------------------------------------


async def read(request: Request, dav: DavReader, storage: StorageDep) -> Response:
    """OPTIONS, GET, HEAD and PROPFIND."""
    if request.method == "OPTIONS":
        return Response(status_code=200, headers={"DAV": "1, 2", "Allow": ALLOW, "MS-Author-Via": "DAV", "Content-Length": "0"})
    if request.method == "PROPFIND":
        return await _propfind(request, dav)
    located = await service.locate(session=dav.session, principal=dav.principal, segments=dav.segments)
    node = located.node
    if node is None:
        raise service.not_found(_href(dav, collection=False))
    if node.kind != "file" and request.method == "HEAD":
        await dav.session.commit()
        return Response(status_code=200, media_type="text/plain")
    answer = await send_node(request, dav.session, storage, dav.principal, node)
    if request.method == "HEAD":
        return Response(status_code=answer.status_code, headers=dict(answer.headers))
    return answer


async def _propfind(request: Request, dav: Dav) -> Response:
    depth_header = request.headers.get("depth", "1").strip().lower()
    if depth_header == "infinity":
        if not await flags.enabled(session=dav.session, key=service.INFINITY_FLAG, tenant_id=dav.principal.tenant_id):
            return _xml(xml.error_body("propfind-finite-depth"), 403)
    elif depth_header not in {"0", "1"}:
        raise BadRequest("Depth must be 0, 1 or infinity for PROPFIND.")
    ask = xml.propfind(await xml.read_body(request))
    located = await service.locate(session=dav.session, principal=dav.principal, segments=dav.segments)
    node = located.node
    if node is None:
        raise service.not_found(_href(dav, collection=False))
    stream = service.propfind(
        session=dav.session,
        settings=_settings(request),
        principal=dav.principal,
        node=node,
        href=_href(dav, collection=node.kind != "file"),
        depth=service.INFINITY if depth_header == "infinity" else int(depth_header),
        ask=ask,
        locks_of=_lock_reader(dav.session),
    )
    return StreamingResponse(stream, status_code=207, media_type=xml.XML_MEDIA_TYPE)


# --- PUT --------------------------------------------------------------------------------------------------------


def _check_conditions(request: Request, etag: str | None) -> None:
    """If-Match and If-None-Match of a write (RFC 9110 13.1): 412 when they do not hold for the current content."""
    if_match = request.headers.get("if-match")
    if if_match is not None:
        tags = [tag.strip() for tag in if_match.split(",")]
        if etag is None or ("*" not in tags and etag not in tags):
            raise service.PreconditionFailed("If-Match does not name the file's current ETag; read it again first.")
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None and etag is not None and content.not_modified(if_none_match, etag):
        raise service.PreconditionFailed("If-None-Match matched: the file exists (or has that ETag) already.")


async def put(request: Request, dav: DavWriter, storage: StorageDep) -> Response:
    """PUT: a new file, or new content of a file (the current one is kept as a version), streamed into the blob store."""
    if request.headers.get("content-range"):
        raise BadRequest("A partial PUT (Content-Range) is not supported; send the whole file.")
    href = _href(dav, collection=False)
    if not dav.segments:
        raise service.MethodNotAllowed("The root of your files is a folder; PUT a file into it.")
    session, principal = dav.session, dav.principal
    moment = service.client_mtime(request.headers.get(service.MTIME_HEADER))  # a bad date fails before any byte is kept
    located = await service.locate(session=session, principal=principal, segments=dav.segments)
    node = located.node
    if located.parent is None:
        raise service.conflict_missing_parent(href)
    if node is not None and node.kind != "file":
        raise service.MethodNotAllowed(f"{href} is a folder; PUT writes files.")
    _check_conditions(request, content.etag_of(node.sha256) if node is not None and node.sha256 else None)
    await locking.check_write(request, session=session, principal=principal, node=node, parent=located.parent, href=href)
    settings = _settings(request)
    try:
        written = await uploads.receive(
            session=session,
            settings=settings,
            principal=principal,
            storage=storage,
            chunks=cut_off_is_incomplete(request.stream()),
            expected_size=declared_length(request),
            content_type=request.headers.get("content-type", ""),
            parent_id=located.parent.id if node is None else None,
            name=located.name if node is None else "",
            target_id=node.id if node is not None else None,
        )
    except quota.QuotaExceeded as exc:
        raise service.quota_refusal(exc) from None
    headers = {"ETag": content.etag_of(written.sha256 or "")}
    if moment is not None:
        await tree.set_content_date(session=session, node=written, moment=moment)
        headers["X-OC-MTime"] = "accepted"  # what Nextcloud's clients look for: they then keep the file's own date
    return Response(status_code=201 if node is None else 204, headers=headers)


# --- the other writes -------------------------------------------------------------------------------------------


async def write(request: Request, dav: DavWriter, storage: StorageDep) -> Response:
    """DELETE, MKCOL, COPY, MOVE, PROPPATCH, LOCK and UNLOCK."""
    method = request.method
    session, principal = dav.session, dav.principal
    if method == "MKCOL":
        xml.refuse_body(await xml.read_body(request), method)
    located = await service.locate(session=session, principal=principal, segments=dav.segments)
    node = located.node
    href = _href(dav, collection=node is not None and node.kind != "file")
    if method == "LOCK":
        if node is None and located.parent is None:
            raise service.conflict_missing_parent(href)
        return await locking.handle_lock(
            request, session=session, principal=principal, node=node, parent=located.parent, href=href
        )
    if method == "MKCOL":
        if node is not None:
            raise service.MethodNotAllowed(f"{href} exists already; MKCOL makes a new folder.")
        if located.parent is None:
            raise service.conflict_missing_parent(href)
        await locking.check_write(request, session=session, principal=principal, node=None, parent=located.parent, href=href)
        await tree.create_folder(
            session=session, principal=principal, folder_in=FolderCreate(parent_id=located.parent.id, name=located.name)
        )
        return Response(status_code=201)
    if node is None:
        raise service.not_found(href)
    if method == "UNLOCK":
        return await locking.handle_unlock(request, session=session, principal=principal, node=node, href=href)
    if method == "PROPPATCH":
        changes = xml.proppatch(await xml.read_body(request))
        await locking.check_write(request, session=session, principal=principal, node=node, parent=located.parent, href=href)
        groups = await service.proppatch(session=session, principal=principal, node=node, changes=changes)
        protected = any(change.name in service.LIVE for change in changes)
        condition = "cannot-modify-protected-property" if protected else None
        return _xml(xml.multistatus([xml.response(href, groups, condition)]), 207)
    if method == "DELETE":
        if not dav.segments:
            raise Forbidden("The root of your files cannot be deleted.")
        await locking.check_write(
            request,
            session=session,
            principal=principal,
            node=node,
            parent=located.parent,
            href=href,
            subtree=node.kind != "file",
        )
        await tree.trash(session=session, principal=principal, node_id=node.id, origin=await origin_of(request))
        return Response(status_code=204)
    return await _copy_or_move(request, dav, storage, node, located.parent, href)


def _overwrite(request: Request) -> bool:
    value = request.headers.get("overwrite", "T").strip().upper()
    if value not in {"T", "F"}:
        raise BadRequest("Overwrite must be T or F.")
    return value == "T"


def _depth_infinity(request: Request) -> bool:
    """COPY's Depth (0 or infinity, infinity by default); MOVE's must be infinity (RFC 4918 9.8.3, 9.9.2)."""
    value = request.headers.get("depth", "infinity").strip().lower()
    if value == "infinity":
        return True
    if value == "0" and request.method == "COPY":
        return False
    raise BadRequest(f"Depth must be {'0 or ' if request.method == 'COPY' else ''}infinity for {request.method}.")


async def _destination(request: Request, dav: Dav, node: FileNode) -> tuple[service.Destination, service.Located, bool]:
    """The checked Destination of a COPY or MOVE, where it leads, and whether it only changes the name's case."""
    moving = request.method == "MOVE"
    root_path: str = request.scope.get("root_path", "")
    mounts = {dav.base.removeprefix(root_path)}
    mounts |= {f"{DAV_FILES}/{dav.principal.username}", f"{NEXTCLOUD_FILES}/{dav.principal.username}", NEXTCLOUD_WEBDAV}
    target = service.destination(
        request.headers.get("destination"),
        hosts=(request.headers.get("host", ""), urlsplit(_settings(request).public_url).netloc),
        mounts=sorted(mounts, key=len, reverse=True),
        root_path=root_path,
    )
    if not target.segments:
        raise Forbidden("The Destination is the root of your files, which cannot be replaced.")
    renaming_case = False
    if service.path_key(target.segments) == service.path_key(dav.segments):
        if not moving or tuple(target.segments) == dav.segments:
            raise Forbidden("The Destination is the source itself; give another path.")
        renaming_case = True  # the same node under a name that differs only in case: a rename
    elif node.kind != "file" and service.is_below(target.segments, dav.segments):
        raise Forbidden(f"A folder cannot be {'moved' if moving else 'copied'} into itself or one of its own folders.")
    located = await service.locate(session=dav.session, principal=dav.principal, segments=target.segments)
    if located.parent is None:
        raise service.conflict_missing_parent(target.href)
    return target, located, renaming_case


async def _copy_or_move(
    request: Request, dav: Dav, storage: StorageDep, node: FileNode, source_parent: FileNode | None, href: str
) -> Response:
    session, principal = dav.session, dav.principal
    moving = request.method == "MOVE"
    if not dav.segments:
        raise Forbidden(f"The root of your files cannot be {'moved' if moving else 'copied'}; pick what is in it.")
    overwrite, deep = _overwrite(request), _depth_infinity(request)
    target, destination, renaming_case = await _destination(request, dav, node)
    assert destination.parent is not None  # noqa: S101 - _destination answered 409 otherwise
    existing = None if renaming_case else destination.node
    if existing is not None and not overwrite:
        raise service.PreconditionFailed(
            f"{target.href} exists and Overwrite is F; nothing was {'moved' if moving else 'copied'}."
        )
    await locking.check_write(
        request,
        session=session,
        principal=principal,
        node=existing,
        parent=destination.parent,
        href=target.href,
        subtree=existing is not None and existing.kind != "file",
    )
    if moving:
        await locking.check_write(
            request, session=session, principal=principal, node=node, parent=source_parent, href=href, subtree=node.kind != "file"
        )
    if existing is not None:  # the overwritten target goes to the trash, as a REST delete would put it
        await tree.trash(session=session, principal=principal, node_id=existing.id, origin=await origin_of(request))
    try:
        if moving:
            await tree.update(
                session=session,
                principal=principal,
                node_id=node.id,
                node_in=FileUpdate(parent_id=destination.parent.id, name=destination.name),
            )
        elif node.kind != "file" and not deep:
            await service.copy_folder_alone(
                session=session, principal=principal, source=node, parent=destination.parent, name=destination.name
            )
        else:
            copy = await tree.copy(
                session=session,
                settings=_settings(request),
                principal=principal,
                storage=storage,
                node_id=node.id,
                copy_in=FileCopy(parent_id=destination.parent.id, name=destination.name),
            )
            await service.copy_properties(session=session, principal=principal, source=node, copy=copy)
    except quota.QuotaExceeded as exc:
        raise service.quota_refusal(exc) from None
    return Response(status_code=204 if existing is not None else 201)


for _path in PATHS:
    router.add_api_route(_path, read, methods=READS, include_in_schema=False)
    router.add_api_route(_path, write, methods=WRITES, include_in_schema=False)
    router.add_api_route(_path, put, methods=["PUT"], include_in_schema=False, max_body_size=MAX_UPLOAD_BYTES)

routers = [router]

"""Routes of public links: links and their policy, and the API of the public link pages (no account needed)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, File, Header, Query, Request, Response, UploadFile
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.core.db import SessionDep, WriteSessionDep
from nubes.core.principal import Principal
from nubes.core.routing import api_router
from nubes.files.deps import DOWNLOAD_RESPONSES, MAX_UPLOAD_BYTES, Sharer, StorageDep, send_node, upload_file_chunks
from nubes.files.links import service
from nubes.files.links.models import LinkPolicy, PublicLink
from nubes.files.links.schemas import (
    LinkCreate,
    LinkPolicyRead,
    LinkPolicyUpdate,
    LinkRead,
    LinkUnlock,
    LinkUnlocked,
    LinkUpdate,
    PublicEntry,
    PublicLinkInfo,
)
from nubes.files.sharing.schemas import PartyRef
from nubes.files.tree import content
from nubes.files.tree.models import FileNode
from nubes.identity.deps import LimiterDep, OriginDep, SettingsDep, require
from nubes.identity.users import directory

router = api_router()


SettingsAdmin = Annotated[Principal, Depends(require("admin.settings"))]


LINK_COOKIE = "nubes_link_access"


RESUME_COOKIE = "nubes_link_resume"


RESUME_HEADER = "X-Link-Resume"


PUBLIC_LIST_LIMIT = 1000


async def _link_reads(
    session: AsyncSession, settings: SettingsDep, tenant_id: uuid.UUID, listed: list[tuple[PublicLink, bool]]
) -> list[LinkRead]:
    users = await directory.user_names(session=session, tenant_id=tenant_id, ids=[link.created_by for link, _ in listed])
    reads = []
    for link, works in listed:
        token = service.link_token(settings, link)
        reads.append(
            LinkRead(
                id=link.id,
                node_id=link.node_id,
                kind=link.kind,
                token=token,
                url_path=f"/s/{token}",
                expires_at=link.expires_at,
                has_password=link.password_hash is not None,
                max_downloads=link.max_downloads,
                download_count=link.download_count,
                created_by=PartyRef(id=link.created_by, name=users.get(link.created_by, "(deleted)"))
                if link.created_by
                else None,
                created_at=link.created_at,
                active=works,
            )
        )
    return reads


@router.post(
    "/files/{file_id:uuid}/links",
    operation_id="files-links-create",
    status_code=201,
    response_model=LinkRead,
    tags=["sharing"],
    summary="Make a public link",
)
async def create_link(
    session: SessionDep, principal: Sharer, settings: SettingsDep, origin: OriginDep, file_id: uuid.UUID, link_in: LinkCreate
) -> LinkRead:
    link = await service.create_link(
        session=session, settings=settings, principal=principal, node_id=file_id, link_in=link_in, origin=origin
    )
    return (await _link_reads(session, settings, principal.tenant_id, [(link, True)]))[0]


@router.get(
    "/files/{file_id:uuid}/links",
    operation_id="files-links-list",
    response_model=list[LinkRead],
    tags=["sharing"],
    summary="Public links of a file or folder",
)
async def list_links(session: SessionDep, principal: Sharer, settings: SettingsDep, file_id: uuid.UUID) -> list[LinkRead]:
    links = await service.list_links(session=session, principal=principal, node_id=file_id)
    return await _link_reads(session, settings, principal.tenant_id, links)


@router.patch(
    "/files/{file_id:uuid}/links/{link_id:uuid}",
    operation_id="files-links-update",
    response_model=LinkRead,
    tags=["sharing"],
    summary="Change a public link",
)
async def update_link(
    session: SessionDep,
    principal: Sharer,
    settings: SettingsDep,
    origin: OriginDep,
    file_id: uuid.UUID,
    link_id: uuid.UUID,
    link_in: LinkUpdate,
) -> LinkRead:
    link = await service.update_link(
        session=session, settings=settings, principal=principal, node_id=file_id, link_id=link_id, link_in=link_in, origin=origin
    )
    works = await service.link_works(session=session, link=link)
    return (await _link_reads(session, settings, principal.tenant_id, [(link, works)]))[0]


@router.delete(
    "/files/{file_id:uuid}/links/{link_id:uuid}",
    operation_id="files-links-delete",
    status_code=204,
    tags=["sharing"],
    summary="Revoke a public link",
)
async def delete_link(session: SessionDep, principal: Sharer, origin: OriginDep, file_id: uuid.UUID, link_id: uuid.UUID) -> None:
    await service.delete_link(session=session, principal=principal, node_id=file_id, link_id=link_id, origin=origin)


def _policy_read(policy: LinkPolicy) -> LinkPolicyRead:
    return LinkPolicyRead(
        default_expiry_days=policy.default_expiry_days,
        max_expiry_days=policy.max_expiry_days,
        require_password=bool(policy.require_password),
    )


@router.get(
    "/files/link-policy",
    operation_id="files-link-policy",
    response_model=LinkPolicyRead,
    tags=["sharing"],
    summary="The rules your links must follow",
)
async def link_policy(session: SessionDep, principal: Sharer) -> LinkPolicyRead:
    return _policy_read(await service.get_policy(session=session, tenant_id=principal.tenant_id))


@router.get(
    "/admin/settings/links",
    operation_id="admin-settings-links",
    response_model=LinkPolicyRead,
    tags=["admin"],
    summary="The organization's public link policy",
)
async def admin_link_policy(session: SessionDep, principal: SettingsAdmin) -> LinkPolicyRead:
    return _policy_read(await service.get_policy(session=session, tenant_id=principal.tenant_id))


@router.put(
    "/admin/settings/links",
    operation_id="admin-settings-links-update",
    response_model=LinkPolicyRead,
    tags=["admin"],
    summary="Set the organization's public link policy",
)
async def set_link_policy(
    session: SessionDep, principal: SettingsAdmin, origin: OriginDep, policy_in: LinkPolicyUpdate
) -> LinkPolicyRead:
    return _policy_read(await service.set_policy(session=session, principal=principal, policy_in=policy_in, origin=origin))


Token = Annotated[str, "the link's token"]


Proof = Annotated[
    str | None, Header(alias="X-Link-Access", description="The access_token from /unlock (browsers send a cookie instead).")
]


Resume = Annotated[
    str | None,
    Header(
        alias=RESUME_HEADER,
        description="The X-Link-Resume of the answer that started this download: its ranges then do not count again.",
    ),
]


def _proof(request: Request, header: str | None) -> str | None:
    return header or request.cookies.get(LINK_COOKIE)


def _entry(node: FileNode) -> PublicEntry:
    return PublicEntry(
        id=node.id,
        kind="file" if node.kind == "file" else "folder",
        name=node.name,
        size=node.size,
        content_type=node.content_type,
        updated_at=node.updated_at,
    )


@router.get(
    "/public/links/{token}",
    operation_id="public-link-get",
    response_model=PublicLinkInfo,
    tags=["public"],
    summary="What a public link opens (a folder's listing for view and edit links)",
)
async def public_link(
    request: Request,
    session: WriteSessionDep,  # a download counts, a refusal is audited
    settings: SettingsDep,
    origin: OriginDep,
    token: Token,
    x_link_access: Proof = None,
    node_id: Annotated[uuid.UUID | None, Query(description="A folder under the link's folder to list.")] = None,
) -> PublicLinkInfo:
    opened = await service.open_link(
        session=session, settings=settings, token=token, origin=origin, proof=_proof(request, x_link_access)
    )
    link, node = opened.link, opened.node
    folder: FileNode | None = None
    path: list[FileNode] = []
    items: list[FileNode] | None = None
    if node.kind != "file" and link.kind != "upload":
        folder = await service.inside(session, opened, node_id)
        if folder.kind == "file":
            folder = None
        else:
            path = await service.path_within(session, opened, folder)
            items = await service.children(session, opened, folder, PUBLIC_LIST_LIMIT)
    elif node_id is not None and link.kind == "upload":
        raise await service.refuse(session, opened, origin, "drop box listing", "This link is a drop box: it takes uploads only.")
    return PublicLinkInfo(
        kind=link.kind,
        node_kind=node.kind,
        name=node.name,
        size=node.size if link.kind != "upload" else 0,
        content_type=node.content_type,
        updated_at=node.updated_at,
        expires_at=link.expires_at,
        downloads_left=service.downloads_left(link),
        folder_id=folder.id if folder is not None else None,
        path=[_entry(entry) for entry in path],
        items=[_entry(entry) for entry in items] if items is not None else None,
    )


@router.post(
    "/public/links/{token}/unlock",
    operation_id="public-link-unlock",
    response_model=LinkUnlocked,
    tags=["public"],
    summary="Give a link's password (attempts are rate-limited)",
)
async def unlock_link(
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    limiter: LimiterDep,
    origin: OriginDep,
    token: Token,
    unlock_in: LinkUnlock,
) -> LinkUnlocked:
    proof = await service.unlock(
        session=session, settings=settings, limiter=limiter, token=token, password=unlock_in.password, origin=origin
    )
    response.set_cookie(
        LINK_COOKIE,
        proof,
        max_age=service.UNLOCK_TTL,
        httponly=True,
        samesite="strict",
        secure=settings.public_url.startswith("https://"),
        path=f"/api/public/links/{token}",
    )
    return LinkUnlocked(access_token=proof, expires_in=service.UNLOCK_TTL)


@router.get(
    "/public/links/{token}/content",
    operation_id="public-link-download",
    tags=["public"],
    summary="Download what a link opens (Range honoured; a folder comes as a zip)",
    description=(
        "Each content answer counts against the link's download limit, except a range that continues a download "
        "this client started: send back the `X-Link-Resume` of the first answer (browsers keep it as a cookie) "
        f"within {service.RESUME_WINDOW // 60} minutes."
    ),
    response_class=StreamingResponse,
    responses=DOWNLOAD_RESPONSES,
)
async def public_download(
    request: Request,
    session: WriteSessionDep,  # a download counts, a refusal is audited
    settings: SettingsDep,
    storage: StorageDep,
    origin: OriginDep,
    token: Token,
    x_link_access: Proof = None,
    x_link_resume: Resume = None,
    node_id: Annotated[uuid.UUID | None, Query(description="A file or folder under the link's folder.")] = None,
) -> Response:
    proof = _proof(request, x_link_access)
    opened = await service.open_link(session=session, settings=settings, token=token, origin=origin, proof=proof)
    if opened.link.kind == "upload":
        raise await service.refuse(
            session, opened, origin, "drop box download", "This link is a drop box: it takes uploads only."
        )
    node = await service.inside(session, opened, node_id)
    etag = content.etag_of(node.sha256 or "")
    ticket: str | None = None
    if node.kind == "file" and content.not_modified(request.headers.get("if-none-match"), etag):
        await session.commit()
    else:
        ticket = await service.count_download(
            session=session,
            settings=settings,
            opened=opened,
            origin=origin,
            node=node,
            first_byte=content.first_byte(request.headers.get("range"), request.headers.get("if-range"), node),
            proof=proof,
            ticket=x_link_resume or request.cookies.get(RESUME_COOKIE),
        )
    response = await send_node(request, session, storage, opened.owner, node)
    if ticket is not None:
        response.headers[RESUME_HEADER] = ticket
        response.set_cookie(
            RESUME_COOKIE,
            ticket,
            max_age=service.RESUME_WINDOW,
            httponly=True,
            samesite="strict",
            secure=settings.public_url.startswith("https://"),
            path=f"/api/public/links/{token}",
        )
    return response


@router.post(
    "/public/links/{token}/upload",
    operation_id="public-link-upload",
    status_code=201,
    response_model=PublicEntry,
    tags=["public"],
    summary="Upload through an edit link or a drop box (multipart, field `file`); it counts on the owner's quota",
    max_body_size=MAX_UPLOAD_BYTES,
)
async def public_upload(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    origin: OriginDep,
    token: Token,
    file: Annotated[UploadFile, File(description="The file; its filename is the new file's name.")],
    x_link_access: Proof = None,
    node_id: Annotated[uuid.UUID | None, Query(description="A folder under an edit link's folder to upload into.")] = None,
) -> PublicEntry:
    opened = await service.open_link(
        session=session, settings=settings, token=token, origin=origin, proof=_proof(request, x_link_access)
    )
    node, shown = await service.upload(
        session=session,
        settings=settings,
        storage=storage,
        opened=opened,
        origin=origin,
        node_id=node_id,
        filename=file.filename or "",
        content_type=file.content_type or "",
        chunks=upload_file_chunks(file),
        expected_size=file.size,
    )
    return _entry(node).model_copy(update={"name": shown})

"""Routes of sharing: shares with people and groups, and what is shared with me."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from nubes.core.db import SessionDep
from nubes.core.routing import api_router
from nubes.files.deps import Reader, Sharer, file_reads
from nubes.files.sharing import service as sharing
from nubes.files.sharing.models import FileShare
from nubes.files.sharing.schemas import PartyRef, ShareCreate, SharedItem, SharedWithMe, ShareRead, ShareUpdate
from nubes.identity.deps import OriginDep
from nubes.identity.users import directory

router = api_router()


# --- shares --------------------------------------------------------------------------------------


async def _share_reads(session: AsyncSession, tenant_id: uuid.UUID, listed: list[tuple[FileShare, bool]]) -> list[ShareRead]:
    user_ids, group_ids = sharing.names_needed([share for share, _ in listed])
    users = await directory.user_names(session=session, tenant_id=tenant_id, ids=user_ids)
    groups = await directory.group_names(session=session, tenant_id=tenant_id, ids=group_ids)

    def ref(names: dict[uuid.UUID, str], party: uuid.UUID | None) -> PartyRef | None:
        return PartyRef(id=party, name=names.get(party, "(deleted)")) if party is not None else None

    return [
        ShareRead(
            id=share.id,
            node_id=share.node_id,
            user=ref(users, share.user_id),
            group=ref(groups, share.group_id),
            permission=share.permission,
            shared_by=ref(users, share.created_by),
            created_at=share.created_at,
            active=holds,
        )
        for share, holds in listed
    ]


@router.post(
    "/files/{file_id:uuid}/shares",
    operation_id="files-shares-create",
    status_code=201,
    response_model=ShareRead,
    tags=["sharing"],
    summary="Share with a user or a group",
)
async def create_share(
    session: SessionDep, principal: Sharer, origin: OriginDep, file_id: uuid.UUID, share_in: ShareCreate
) -> ShareRead:
    share = await sharing.create_share(session=session, principal=principal, node_id=file_id, share_in=share_in, origin=origin)
    return (await _share_reads(session, principal.tenant_id, [(share, True)]))[0]


@router.get(
    "/files/{file_id:uuid}/shares",
    operation_id="files-shares-list",
    response_model=list[ShareRead],
    tags=["sharing"],
    summary="Who it is shared with",
)
async def list_shares(session: SessionDep, principal: Sharer, file_id: uuid.UUID) -> list[ShareRead]:
    shares = await sharing.list_shares(session=session, principal=principal, node_id=file_id)
    return await _share_reads(session, principal.tenant_id, shares)


@router.patch(
    "/files/{file_id:uuid}/shares/{share_id:uuid}",
    operation_id="files-shares-update",
    response_model=ShareRead,
    tags=["sharing"],
    summary="Change a share's permission",
)
async def update_share(
    session: SessionDep, principal: Sharer, origin: OriginDep, file_id: uuid.UUID, share_id: uuid.UUID, share_in: ShareUpdate
) -> ShareRead:
    share = await sharing.update_share(
        session=session, principal=principal, node_id=file_id, share_id=share_id, share_in=share_in, origin=origin
    )
    holds = await sharing.share_holds(session=session, share=share)
    return (await _share_reads(session, principal.tenant_id, [(share, holds)]))[0]


@router.delete(
    "/files/{file_id:uuid}/shares/{share_id:uuid}",
    operation_id="files-shares-delete",
    status_code=204,
    tags=["sharing"],
    summary="Revoke a share (or leave one made to you)",
)
async def delete_share(
    session: SessionDep, principal: Reader, origin: OriginDep, file_id: uuid.UUID, share_id: uuid.UUID
) -> None:
    await sharing.delete_share(session=session, principal=principal, node_id=file_id, share_id=share_id, origin=origin)


@router.get(
    "/shares/with-me", operation_id="shares-with-me", response_model=SharedWithMe, tags=["sharing"], summary="Shared with me"
)
async def shared_with_me(session: SessionDep, principal: Reader) -> SharedWithMe:
    found = await sharing.shared_with_me(session=session, principal=principal)
    nodes = await file_reads(session, principal, [item.node for item in found])
    users = await directory.user_names(session=session, tenant_id=principal.tenant_id, ids=[item.shared_by for item in found])
    groups = await directory.group_names(
        session=session, tenant_id=principal.tenant_id, ids=[group for item in found for group in item.via_groups]
    )
    items = [
        SharedItem(
            node=node,
            permission=item.permission,
            shared_by=PartyRef(id=item.shared_by, name=users.get(item.shared_by, "(deleted)")) if item.shared_by else None,
            via_groups=[PartyRef(id=group, name=groups.get(group, "(deleted)")) for group in item.via_groups],
            shared_at=item.shared_at,
        )
        for node, item in zip(nodes, found, strict=True)
    ]
    return SharedWithMe(items=items, total=len(items))

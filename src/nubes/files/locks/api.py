"""Routes of locks: the WebDAV locks of a file or of a folder's files, and unlocking (the lock's owner or an admin)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated

from fastapi import Query
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.core import audit
from nubes.core.db import SessionDep
from nubes.core.errors import NotFound
from nubes.core.principal import Principal
from nubes.core.routing import api_router
from nubes.files.deps import Reader, Writer
from nubes.files.locks import service
from nubes.files.locks.models import FileLock
from nubes.files.locks.schemas import LockPage, LockRead
from nubes.files.tree import service as tree
from nubes.files.tree.models import FileNode
from nubes.identity.deps import OriginDep

router = api_router()


async def _page(session: AsyncSession, principal: Principal, locks: Sequence[FileLock], node: FileNode | None) -> LockPage:
    names = await service.holder_names(session=session, tenant_id=principal.tenant_id, locks=locks)
    admin = principal.can(service.ADMIN_PERMISSION)
    items = []
    for lock in locks:
        inherited = node is not None and lock.node_id != node.id
        items.append(
            LockRead(
                id=lock.id,
                node_id=lock.node_id,
                inherited=inherited,
                locked_by=names.get(lock.owner_id, "another user"),
                locked_by_id=lock.owner_id,
                scope="exclusive" if lock.exclusive else "shared",
                depth="infinity" if lock.depth_infinity else "0",
                created_at=lock.created_at,
                expires_at=lock.expires_at,
                can_unlock=not inherited and (lock.owner_id == principal.user_id or admin),
            )
        )
    return LockPage(items=items)


@router.get("/files/locks", operation_id="files-locks-list", response_model=LockPage, tags=["files"], summary="Locks in a folder")
async def list_locks(
    session: SessionDep,
    principal: Reader,
    parent_id: Annotated[uuid.UUID | None, Query(description="The folder to look in; your root when absent.")] = None,
) -> LockPage:
    folder = (
        await tree.get_root(session=session, principal=principal)
        if parent_id is None
        else await tree.get_or_raise(session=session, principal=principal, node_id=parent_id)
    )
    locks = await service.of_children(session=session, principal=principal, folder=folder)
    return await _page(session, principal, locks, None)


@router.get(
    "/files/{file_id:uuid}/lock", operation_id="files-lock-get", response_model=LockPage, tags=["files"], summary="Its locks"
)
async def get_lock(session: SessionDep, principal: Reader, file_id: uuid.UUID) -> LockPage:
    node = await tree.get_or_raise(session=session, principal=principal, node_id=file_id)
    return await _page(session, principal, await service.of_node(session=session, principal=principal, node=node), node)


@router.delete("/files/{file_id:uuid}/lock", operation_id="files-unlock", status_code=204, tags=["files"], summary="Unlock")
async def unlock(session: SessionDep, principal: Writer, origin: OriginDep, file_id: uuid.UUID) -> None:
    try:
        node = await tree.get_or_raise(session=session, principal=principal, node_id=file_id)
    except NotFound:
        # An administrator may force open a lock on anyone's file of the organization.
        found = await service.node_for_admin(session=session, principal=principal, node_id=file_id)
        if found is None:
            raise
        node = found
    removed = await service.unlock_node(session=session, principal=principal, node=node, force=True)
    await audit.record(
        session=session, action="files.unlock", origin=origin, principal=principal, target_type=node.kind, target_id=node.id,
        detail={"name": node.name, "locks": removed, "owner_id": str(node.owner_id)},
    )  # fmt: skip

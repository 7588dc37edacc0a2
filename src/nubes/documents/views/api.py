"""Routes of saved views: list, save, read, change and delete (each user their own; shared ones read-only)."""

from __future__ import annotations

import uuid

from fastapi import Response

from nubes.core.db import SessionDep
from nubes.core.routing import api_router
from nubes.documents.deps import Reader
from nubes.documents.views import service
from nubes.documents.views.schemas import ViewCreate, ViewRead, ViewUpdate

router = api_router(prefix="/documents/views", tags=["documents"])


@router.get("", operation_id="documents-views-list", response_model=list[ViewRead], summary="Your saved views, and shared ones")
async def list_views(session: SessionDep, principal: Reader) -> list[ViewRead]:
    return await service.reads(session, principal, await service.list_views(session, principal))


@router.post("", operation_id="documents-views-create", status_code=201, response_model=ViewRead, summary="Save a view")
async def create(session: SessionDep, principal: Reader, view_in: ViewCreate) -> ViewRead:
    view = await service.create(session, principal, view_in)
    return (await service.reads(session, principal, [view]))[0]


@router.get("/{view_id:uuid}", operation_id="documents-views-get", response_model=ViewRead, summary="One saved view")
async def get(session: SessionDep, principal: Reader, view_id: uuid.UUID) -> ViewRead:
    view = await service.get(session, principal, view_id)
    return (await service.reads(session, principal, [view]))[0]


@router.patch("/{view_id:uuid}", operation_id="documents-views-update", response_model=ViewRead, summary="Change it")
async def update(session: SessionDep, principal: Reader, view_id: uuid.UUID, view_in: ViewUpdate) -> ViewRead:
    view = await service.get(session, principal, view_id, change=True)
    await service.update(session, principal, view, view_in)
    return (await service.reads(session, principal, [view]))[0]


@router.delete("/{view_id:uuid}", operation_id="documents-views-delete", status_code=204, summary="Delete it")
async def delete(session: SessionDep, principal: Reader, view_id: uuid.UUID) -> Response:
    view = await service.get(session, principal, view_id, change=True)
    await service.delete(session, view)
    return Response(status_code=204)

"""Routes of custom fields: everyone reads the definitions, `documents.manage` changes them (values are set through
the document update)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query

from nubes.core.db import SessionDep
from nubes.core.routing import api_router
from nubes.documents.deps import Manager, Reader
from nubes.documents.fields import service
from nubes.documents.fields.schemas import FieldCreate, FieldRead, FieldRemoval, FieldUpdate

router = api_router(prefix="/documents", tags=["documents"])


@router.get("/fields", operation_id="documents-fields-list", response_model=list[FieldRead], summary="Every custom field")
async def list_fields(session: SessionDep, principal: Reader) -> list[FieldRead]:
    return await service.list_fields(session, principal)


@router.post(
    "/fields", operation_id="documents-fields-create", status_code=201, response_model=FieldRead, summary="A new custom field"
)
async def create_field(session: SessionDep, principal: Manager, field_in: FieldCreate) -> FieldRead:
    return service.read(await service.create(session, principal, field_in))


@router.patch(
    "/fields/{field_id}",
    operation_id="documents-fields-update",
    response_model=FieldRead,
    summary="Rename a custom field, change its type (while no document carries it) or its select options",
)
async def update_field(session: SessionDep, principal: Manager, field_id: uuid.UUID, field_in: FieldUpdate) -> FieldRead:
    custom_field = await service.get(session, principal, field_id)
    await service.update_field(session, principal, custom_field, field_in)
    return next(read for read in await service.list_fields(session, principal) if read.id == custom_field.id)


@router.delete(
    "/fields/{field_id}",
    operation_id="documents-fields-delete",
    response_model=FieldRemoval,
    summary="Delete a custom field and its values (with `dry_run`: only say how many documents carry it)",
)
async def delete_field(
    session: SessionDep,
    principal: Manager,
    field_id: uuid.UUID,
    dry_run: Annotated[bool, Query(description="Say what deleting would do, and change nothing.")] = False,
) -> FieldRemoval:
    custom_field = await service.get(session, principal, field_id)
    if dry_run:
        return await service.removal(session, custom_field)
    return await service.delete_field(session, custom_field)

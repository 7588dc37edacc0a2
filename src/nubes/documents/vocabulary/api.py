"""Routes of the document vocabularies: everyone reads them, `documents.manage` changes them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Response

from nubes.core.db import SessionDep
from nubes.core.routing import api_router
from nubes.documents.deps import Manager, Reader
from nubes.documents.vocabulary import service
from nubes.documents.vocabulary.models import Category, Correspondent, DocumentType, Tag
from nubes.documents.vocabulary.schemas import (
    CategoryCreate,
    CategoryMerge,
    CategoryRead,
    CategoryRemoval,
    CategoryUpdate,
    TagCreate,
    TagRead,
    TagUpdate,
    TermCreate,
    TermRead,
    TermUpdate,
)

router = api_router(prefix="/documents", tags=["documents"])

AFFECTED = "X-Documents-Affected"
"""The header of a deleted term's answer: how many documents of the organization lost it."""


async def _update_term(
    session: SessionDep, principal: Manager, term: DocumentType | Correspondent | Tag, change: TermUpdate | TagUpdate
) -> None:
    service.set_matching(term, change)
    if change.name is not None:
        await service.rename(session, principal, term, change.name)
    else:
        await session.flush()


# --- document types and correspondents: the same four routes each ------------------------------------------------


@router.get("/types", operation_id="documents-types-list", response_model=list[TermRead], summary="Every document type")
async def list_types(session: SessionDep, principal: Reader) -> list[TermRead]:
    return [TermRead.model_validate(row) for row in await service.list_terms(session, principal, DocumentType)]


@router.post("/types", operation_id="documents-types-create", status_code=201, response_model=TermRead, summary="A new type")
async def create_type(session: SessionDep, principal: Manager, term_in: TermCreate) -> TermRead:
    term = await service.create_term(session, principal, DocumentType, term_in.name, term_in)
    return TermRead.model_validate(service.term_row(term))


@router.patch(
    "/types/{type_id}",
    operation_id="documents-types-rename",
    response_model=TermRead,
    summary="Rename a type or change its matching rule",
)
async def rename_type(session: SessionDep, principal: Manager, type_id: uuid.UUID, term_in: TermUpdate) -> TermRead:
    term = await service.get(session, principal, DocumentType, type_id)
    await _update_term(session, principal, term, term_in)
    return TermRead.model_validate(service.term_row(term))


@router.delete(
    "/types/{type_id}", operation_id="documents-types-delete", status_code=204, summary="Delete a type (its documents stay)"
)
async def delete_type(session: SessionDep, principal: Manager, type_id: uuid.UUID) -> Response:
    affected = await service.delete_term(session, principal, await service.get(session, principal, DocumentType, type_id))
    return Response(status_code=204, headers={AFFECTED: str(affected)})


@router.get(
    "/correspondents", operation_id="documents-correspondents-list", response_model=list[TermRead], summary="Every correspondent"
)
async def list_correspondents(session: SessionDep, principal: Reader) -> list[TermRead]:
    return [TermRead.model_validate(row) for row in await service.list_terms(session, principal, Correspondent)]


@router.post(
    "/correspondents",
    operation_id="documents-correspondents-create",
    status_code=201,
    response_model=TermRead,
    summary="A new correspondent",
)
async def create_correspondent(session: SessionDep, principal: Manager, term_in: TermCreate) -> TermRead:
    term = await service.create_term(session, principal, Correspondent, term_in.name, term_in)
    return TermRead.model_validate(service.term_row(term))


@router.patch(
    "/correspondents/{correspondent_id}",
    operation_id="documents-correspondents-rename",
    response_model=TermRead,
    summary="Rename a correspondent or change its matching rule",
)
async def rename_correspondent(
    session: SessionDep, principal: Manager, correspondent_id: uuid.UUID, term_in: TermUpdate
) -> TermRead:
    term = await service.get(session, principal, Correspondent, correspondent_id)
    await _update_term(session, principal, term, term_in)
    return TermRead.model_validate(service.term_row(term))


@router.delete(
    "/correspondents/{correspondent_id}",
    operation_id="documents-correspondents-delete",
    status_code=204,
    summary="Delete a correspondent (its documents stay)",
)
async def delete_correspondent(session: SessionDep, principal: Manager, correspondent_id: uuid.UUID) -> Response:
    term = await service.get(session, principal, Correspondent, correspondent_id)
    affected = await service.delete_term(session, principal, term)
    return Response(status_code=204, headers={AFFECTED: str(affected)})


@router.get("/tags", operation_id="documents-tags-list", response_model=list[TagRead], summary="Every tag")
async def list_tags(session: SessionDep, principal: Reader) -> list[TagRead]:
    return [TagRead.model_validate(row) for row in await service.list_tags(session, principal)]


@router.post("/tags", operation_id="documents-tags-create", status_code=201, response_model=TagRead, summary="A new tag")
async def create_tag(session: SessionDep, principal: Manager, tag_in: TagCreate) -> TagRead:
    tag = await service.create_tag(session, principal, tag_in.name, tag_in.color, tag_in)
    return TagRead.model_validate(service.term_row(tag))


@router.patch("/tags/{tag_id}", operation_id="documents-tags-update", response_model=TagRead, summary="Rename or recolour a tag")
async def update_tag(session: SessionDep, principal: Manager, tag_id: uuid.UUID, tag_in: TagUpdate) -> TagRead:
    tag = await service.get(session, principal, Tag, tag_id)
    if tag_in.color is not None:
        tag.color = tag_in.color.lower()
    await _update_term(session, principal, tag, tag_in)
    return TagRead.model_validate(service.term_row(tag))


@router.delete(
    "/tags/{tag_id}", operation_id="documents-tags-delete", status_code=204, summary="Delete a tag (its documents stay)"
)
async def delete_tag(session: SessionDep, principal: Manager, tag_id: uuid.UUID) -> Response:
    tag = await service.get(session, principal, Tag, tag_id)
    affected = await service.delete_term(session, principal, tag)
    return Response(status_code=204, headers={AFFECTED: str(affected)})


@router.get(
    "/categories", operation_id="documents-categories-list", response_model=list[CategoryRead], summary="The category tree"
)
async def list_categories(session: SessionDep, principal: Reader) -> list[CategoryRead]:
    return [CategoryRead.model_validate(row) for row in await service.list_categories(session, principal)]


async def _category_read(session: SessionDep, principal: Reader, document_category_id: uuid.UUID) -> CategoryRead:
    rows = await service.list_categories(session, principal)
    return CategoryRead.model_validate(next(row for row in rows if row["id"] == document_category_id))


@router.post(
    "/categories",
    operation_id="documents-categories-create",
    status_code=201,
    response_model=CategoryRead,
    summary="A new category",
)
async def create_category(session: SessionDep, principal: Manager, category_in: CategoryCreate) -> CategoryRead:
    category = await service.create_category(session, principal, category_in.name, category_in.parent_id)
    return await _category_read(session, principal, category.id)


@router.patch(
    "/categories/{document_category_id}",
    operation_id="documents-categories-update",
    response_model=CategoryRead,
    summary="Rename or move",
)
async def update_category(
    session: SessionDep, principal: Manager, document_category_id: uuid.UUID, category_in: CategoryUpdate
) -> CategoryRead:
    category = await service.get(session, principal, Category, document_category_id)
    if "parent_id" in category_in.model_fields_set:
        await service.move_category(session, principal, category, category_in.parent_id)
    if category_in.name is not None:
        await service.rename(session, principal, category, category_in.name)
    return await _category_read(session, principal, category.id)


@router.post(
    "/categories/{document_category_id}/merge",
    operation_id="documents-categories-merge",
    response_model=CategoryRead,
    summary="Merge into another category (its documents and subcategories move there)",
)
async def merge_category(
    session: SessionDep, principal: Manager, document_category_id: uuid.UUID, merge_in: CategoryMerge
) -> CategoryRead:
    source = await service.get(session, principal, Category, document_category_id)
    target = await service.merge_category(session, principal, source, merge_in.into_id)
    return await _category_read(session, principal, target.id)


@router.delete(
    "/categories/{document_category_id}",
    operation_id="documents-categories-delete",
    response_model=CategoryRemoval,
    summary="Delete a category and those below it (with `dry_run`: only say what would go)",
)
async def delete_category(
    session: SessionDep,
    principal: Manager,
    document_category_id: uuid.UUID,
    dry_run: Annotated[bool, Query(description="Say what deleting would do, and change nothing.")] = False,
) -> CategoryRemoval:
    category = await service.get(session, principal, Category, document_category_id)
    if dry_run:
        return await service.removal(session, category)
    return await service.delete_category(session, category)

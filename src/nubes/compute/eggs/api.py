"""Routes of eggs and egg categories: import, export, edit, delete."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Body, Query, Response

from nubes.compute.deps import ContainersRead, PlatformAdmin
from nubes.compute.eggs import ptdl, service
from nubes.compute.eggs.models import Egg
from nubes.compute.eggs.schemas import EggCategoryCreate, EggCategoryRead, EggCategoryUpdate, EggRead, EggUpdate, EggVariableRead
from nubes.core.db import SessionDep
from nubes.core.routing import api_router
from nubes.identity.deps import OriginDep

router = api_router()


MAX_EGG_BYTES = 1_048_576


def _egg_read(egg: Egg) -> EggRead:
    document = ptdl.read_stored(egg.document)
    return EggRead(
        id=egg.id,
        name=egg.name,
        author=egg.author,
        description=egg.description,
        category_id=egg.category_id,
        images=document.images,
        startup=document.startup,
        variables=[
            EggVariableRead(
                name=variable.name,
                description=variable.description or "",
                env_variable=variable.env_variable,
                default_value=variable.default,
                user_editable=bool(variable.user_editable),
                rules=variable.rules if isinstance(variable.rules, str) else "|".join(variable.rules),
            )
            for variable in document.variables
            if variable.user_viewable
        ],
        created_at=egg.created_at,
    )


@router.get("/eggs", operation_id="eggs-list", response_model=list[EggRead], tags=["compute"], summary="Eggs")
async def list_eggs(
    session: SessionDep,
    _: ContainersRead,
    category_id: Annotated[uuid.UUID | None, Query(description="Only the eggs of this category.")] = None,
) -> list[EggRead]:
    """The templates containers are made from."""
    return [_egg_read(egg) for egg in await service.list_eggs(session=session, category_id=category_id)]


@router.patch("/eggs/{egg_id:uuid}", operation_id="eggs-update", response_model=EggRead, tags=["compute"], summary="Edit an egg")
async def update_egg(
    egg_id: uuid.UUID, update_in: EggUpdate, session: SessionDep, principal: PlatformAdmin, origin: OriginDep
) -> EggRead:
    """Rename an egg, change its author or description (its export carries them) or move it to another category."""
    egg = await service.update_egg(session=session, principal=principal, egg_id=egg_id, update_in=update_in, origin=origin)
    return _egg_read(egg)


@router.get(
    "/egg-categories",
    operation_id="egg-categories-list",
    response_model=list[EggCategoryRead],
    tags=["compute"],
    summary="Egg categories",
)
async def list_egg_categories(session: SessionDep, _: ContainersRead) -> list[EggCategoryRead]:
    """The shelves eggs are sorted on, with how many eggs each holds."""
    return [
        EggCategoryRead(id=category.id, name=category.name, description=category.description, eggs=count)
        for category, count in await service.list_egg_categories(session=session)
    ]


@router.post(
    "/egg-categories",
    operation_id="egg-categories-create",
    response_model=EggCategoryRead,
    status_code=201,
    tags=["compute"],
    summary="Add an egg category",
)
async def create_egg_category(
    category_in: EggCategoryCreate, session: SessionDep, principal: PlatformAdmin, origin: OriginDep
) -> EggCategoryRead:
    """A new, empty category (platform administrators)."""
    category = await service.create_egg_category(session=session, principal=principal, category_in=category_in, origin=origin)
    return EggCategoryRead(id=category.id, name=category.name, description=category.description, eggs=0)


@router.patch(
    "/egg-categories/{category_id:uuid}",
    operation_id="egg-categories-update",
    response_model=EggCategoryRead,
    tags=["compute"],
    summary="Rename an egg category",
)
async def update_egg_category(
    category_id: uuid.UUID, update_in: EggCategoryUpdate, session: SessionDep, principal: PlatformAdmin, origin: OriginDep
) -> EggCategoryRead:
    """Change a category's name or description."""
    category, count = await service.update_egg_category(
        session=session, principal=principal, category_id=category_id, update_in=update_in, origin=origin
    )
    return EggCategoryRead(id=category.id, name=category.name, description=category.description, eggs=count)


@router.delete(
    "/egg-categories/{category_id:uuid}",
    operation_id="egg-categories-delete",
    status_code=204,
    tags=["compute"],
    summary="Delete an egg category",
)
async def delete_egg_category(category_id: uuid.UUID, session: SessionDep, principal: PlatformAdmin, origin: OriginDep) -> None:
    """Remove a category; its eggs stay, without a category."""
    await service.delete_egg_category(session=session, principal=principal, category_id=category_id, origin=origin)


@router.post(
    "/eggs/import",
    operation_id="eggs-import",
    response_model=EggRead,
    status_code=201,
    tags=["compute"],
    summary="Import a Pterodactyl egg",
    max_body_size=MAX_EGG_BYTES,
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": ptdl.document_schema()}}}},
)
async def import_egg(
    document: Annotated[dict[str, Any], Body(description="A Pterodactyl egg file (PTDL_v2), unchanged.")],
    session: SessionDep,
    principal: PlatformAdmin,
    origin: OriginDep,
    category_id: Annotated[uuid.UUID | None, Query()] = None,
) -> EggRead:
    """Store an egg exported from Pterodactyl (or written by hand); a bad file is refused naming each bad field."""
    egg = await service.import_egg(session=session, principal=principal, raw=document, category_id=category_id, origin=origin)
    return _egg_read(egg)


@router.get("/eggs/{egg_id:uuid}", operation_id="eggs-get", response_model=EggRead, tags=["compute"], summary="One egg")
async def get_egg(egg_id: uuid.UUID, session: SessionDep, _: ContainersRead) -> EggRead:
    """An egg and its variables."""
    return _egg_read(await service.get_egg(session=session, egg_id=egg_id))


@router.get(
    "/eggs/{egg_id:uuid}/export",
    operation_id="eggs-export",
    response_model=dict[str, Any],
    tags=["compute"],
    summary="Export an egg",
)
async def export_egg(egg_id: uuid.UUID, session: SessionDep, _: PlatformAdmin) -> Response:
    """The egg file exactly as it was imported."""
    # Encoded as stored, not re-validated against the response model: pydantic's serializer stops at a
    # depth that eggs stored before the JSON depth limit may have.
    document = (await service.get_egg(session=session, egg_id=egg_id)).document
    return Response(content=ptdl.dumps(document), media_type="application/json")


@router.delete("/eggs/{egg_id:uuid}", operation_id="eggs-delete", status_code=204, tags=["compute"], summary="Delete an egg")
async def delete_egg(egg_id: uuid.UUID, session: SessionDep, principal: PlatformAdmin, origin: OriginDep) -> None:
    """Remove an egg that no container uses."""
    await service.delete_egg(session=session, principal=principal, egg_id=egg_id, origin=origin)

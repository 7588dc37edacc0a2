"""Rules of eggs (Pterodactyl container templates) and their categories."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.compute.containers.models import Container
from nubes.compute.eggs import ptdl
from nubes.compute.eggs.models import Egg, EggCategory
from nubes.compute.eggs.schemas import EggCategoryCreate, EggCategoryUpdate, EggUpdate
from nubes.core import audit
from nubes.core.audit import Origin
from nubes.core.errors import Conflict, NotFound
from nubes.core.principal import Principal


async def import_egg(
    *, session: AsyncSession, principal: Principal, raw: object, category_id: uuid.UUID | None, origin: Origin
) -> Egg:
    """Store a Pterodactyl egg file as it is, after checking it (422 naming what is wrong)."""
    document = ptdl.read_document(raw)
    if category_id is not None and await session.get(EggCategory, category_id) is None:
        raise NotFound("No such egg category.")
    egg = Egg(
        category_id=category_id,
        name=document.name,
        author=(document.author or "")[:200],
        description=document.description or "",
        document=document.model_dump(mode="json", exclude_unset=True, by_alias=True) if not isinstance(raw, dict) else raw,
    )
    session.add(egg)
    await session.flush()
    await audit.record(
        session=session, action="compute.egg.import", origin=origin, principal=principal, target_type="egg", target_id=egg.id
    )
    return egg


async def list_eggs(*, session: AsyncSession, category_id: uuid.UUID | None = None) -> list[Egg]:
    """Every egg (of one category when given), by name."""
    query = select(Egg)
    if category_id is not None:
        query = query.where(Egg.category_id == category_id)
    return list(await session.scalars(query.order_by(Egg.name, Egg.id)))


async def get_egg(*, session: AsyncSession, egg_id: uuid.UUID) -> Egg:
    """An egg, or 404."""
    egg = await session.get(Egg, egg_id)
    if egg is None:
        raise NotFound("No such egg.")
    return egg


async def update_egg(
    *, session: AsyncSession, principal: Principal, egg_id: uuid.UUID, update_in: EggUpdate, origin: Origin
) -> Egg:
    """Rename, describe or re-shelve an egg; name, author and description go into its file too (an export carries them)."""
    egg = await get_egg(session=session, egg_id=egg_id)
    if update_in.category_id is not None:
        await get_egg_category(session=session, category_id=update_in.category_id)
        egg.category_id = update_in.category_id
    elif update_in.uncategorized:
        egg.category_id = None
    fields = update_in.model_dump(include={"name", "author", "description"}, exclude_unset=True, exclude_none=True)
    for field, value in fields.items():
        setattr(egg, field, value)
    if fields:
        egg.document = {**egg.document, **fields}  # a new dict: the JSON column sees the change
    await session.flush()
    await audit.record(
        session=session,
        action="compute.egg.update",
        origin=origin,
        principal=principal,
        target_type="egg",
        target_id=egg.id,
        detail=update_in.model_dump(mode="json", exclude_unset=True),
    )
    return egg


async def delete_egg(*, session: AsyncSession, principal: Principal, egg_id: uuid.UUID, origin: Origin) -> None:
    """Remove an egg no container uses."""
    egg = await get_egg(session=session, egg_id=egg_id)
    if await session.scalar(select(Container.id).where(Container.egg_id == egg_id).limit(1)):
        raise Conflict("Containers still use this egg; delete them first.")
    await session.delete(egg)
    await session.flush()
    await audit.record(
        session=session, action="compute.egg.delete", origin=origin, principal=principal, target_type="egg", target_id=egg_id
    )


async def list_egg_categories(*, session: AsyncSession) -> list[tuple[EggCategory, int]]:
    """Every category by name, with its number of ptdl."""
    counts = {
        row[0]: int(row[1])
        for row in await session.execute(
            select(Egg.category_id, func.count()).where(Egg.category_id.is_not(None)).group_by(Egg.category_id)
        )
    }
    categories = await session.scalars(select(EggCategory).order_by(EggCategory.name))
    return [(category, counts.get(category.id, 0)) for category in categories]


async def get_egg_category(*, session: AsyncSession, category_id: uuid.UUID) -> EggCategory:
    """A category, or 404."""
    category = await session.get(EggCategory, category_id)
    if category is None:
        raise NotFound("No such egg category.")
    return category


async def _category_name_free(*, session: AsyncSession, name: str, besides: uuid.UUID | None = None) -> None:
    query = select(EggCategory.id).where(EggCategory.name == name)
    if besides is not None:
        query = query.where(EggCategory.id != besides)
    if await session.scalar(query):
        raise Conflict(f"An egg category named {name!r} exists; choose another name.")


async def create_egg_category(
    *, session: AsyncSession, principal: Principal, category_in: EggCategoryCreate, origin: Origin
) -> EggCategory:
    """A new category; names are unique."""
    await _category_name_free(session=session, name=category_in.name)
    category = EggCategory(name=category_in.name, description=category_in.description)
    session.add(category)
    await session.flush()
    await audit.record(
        session=session,
        action="compute.egg_category.create",
        origin=origin,
        principal=principal,
        target_type="egg_category",
        target_id=category.id,
    )
    return category


async def update_egg_category(
    *, session: AsyncSession, principal: Principal, category_id: uuid.UUID, update_in: EggCategoryUpdate, origin: Origin
) -> tuple[EggCategory, int]:
    """Rename or describe a category."""
    category = await get_egg_category(session=session, category_id=category_id)
    if update_in.name is not None:
        await _category_name_free(session=session, name=update_in.name, besides=category.id)
        category.name = update_in.name
    if update_in.description is not None:
        category.description = update_in.description
    await session.flush()
    await audit.record(
        session=session,
        action="compute.egg_category.update",
        origin=origin,
        principal=principal,
        target_type="egg_category",
        target_id=category.id,
        detail=update_in.model_dump(mode="json", exclude_unset=True),
    )
    count = await session.scalar(select(func.count()).select_from(Egg).where(Egg.category_id == category.id))
    return category, int(count or 0)


async def delete_egg_category(*, session: AsyncSession, principal: Principal, category_id: uuid.UUID, origin: Origin) -> None:
    """Remove a category; its eggs stay, uncategorized."""
    category = await get_egg_category(session=session, category_id=category_id)
    await session.execute(update(Egg).where(Egg.category_id == category.id).values(category_id=None))
    await session.delete(category)
    await session.flush()
    await audit.record(
        session=session,
        action="compute.egg_category.delete",
        origin=origin,
        principal=principal,
        target_type="egg_category",
        target_id=category_id,
    )

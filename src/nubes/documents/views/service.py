"""Rules of saved views: each user's own, in their order; one shared with the organization is seen by all its members.

A view is its owner's to change; sharing one with the organization takes `documents.manage`, and others see a shared
view without being able to change it. A view's query is checked as the documents list checks it, and its terms must
exist when it is saved; a term deleted later is dropped when the view is read, so a view always opens. A custom field
deleted later stays in the query (so the view does not silently list more than it did) and the view reads back as
naming a removed field, which the reader clears.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, get_args

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.core.db import utcnow
from nubes.core.errors import Conflict, Forbidden, NotFound, UnprocessableEntity
from nubes.core.principal import Principal
from nubes.documents.fields import service as custom_fields
from nubes.documents.views.models import SavedView
from nubes.documents.views.schemas import ViewColumn, ViewCreate, ViewQuery, ViewRead, ViewUpdate
from nubes.documents.vocabulary import service as vocabulary
from nubes.documents.vocabulary.models import Category, Correspondent, DocumentType, Tag
from nubes.identity.users import directory

MAX_VIEWS = 100
"""How many views one user may keep."""

# Each filter of a view's query naming a term, and the vocabulary it names.
_TERMS: dict[str, vocabulary.TermModel] = {
    "type_id": DocumentType,
    "correspondent_id": Correspondent,
    "tag_id": Tag,
    "category_id": Category,
}

_COLUMNS = frozenset(get_args(ViewColumn))


def _visible(principal: Principal) -> Any:
    return (
        SavedView.tenant_id == principal.tenant_id,
        or_(SavedView.owner_id == principal.user_id, SavedView.shared.is_(True)),
    )


async def list_views(session: AsyncSession, principal: Principal) -> list[SavedView]:
    """The principal's views in their order, then those others shared with the organization, by name."""
    mine = SavedView.owner_id == principal.user_id
    query = select(SavedView).where(*_visible(principal)).order_by(mine.desc(), SavedView.position, SavedView.name, SavedView.id)
    return list(await session.scalars(query))


async def get(session: AsyncSession, principal: Principal, view_id: uuid.UUID, *, change: bool = False) -> SavedView:
    """A view the principal sees (404 otherwise); with `change`, one they own (403 for a view shared with them)."""
    view = await session.scalar(select(SavedView).where(SavedView.id == view_id, *_visible(principal)))
    if view is None:
        raise NotFound(f"No saved view {view_id}.")
    if change and view.owner_id != principal.user_id:
        raise Forbidden(f"{view.name!r} was shared by someone else; only they can change it. Save a copy of your own.")
    return view


async def _check_query(session: AsyncSession, principal: Principal, query: ViewQuery) -> None:
    """422 for a filter naming a term or a custom field that is not in the principal's organization, or a custom
    field's value its type cannot hold."""
    for field, model in _TERMS.items():
        value = getattr(query, field)
        if value is not None:
            await vocabulary.check_ids(session, principal, model, [value])
    if query.custom_field_id is not None:
        wanted = custom_fields.CustomFieldFilter(
            query.custom_field_id, query.custom_field_value, query.custom_field_min, query.custom_field_max
        )
        await custom_fields.check_filter(session, principal, wanted)


def _check_share(principal: Principal, shared: bool | None) -> None:
    if shared and not principal.can("documents.manage"):
        raise Forbidden("Sharing a view with the organization takes the permission documents.manage; ask an admin.")


async def _flush(session: AsyncSession, name: str) -> None:
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict(f"You have a view named {name!r} already; pick another name.") from None


async def create(session: AsyncSession, principal: Principal, view_in: ViewCreate) -> SavedView:
    """Save a view (last in the principal's order unless a position is given)."""
    _check_share(principal, view_in.shared)
    await _check_query(session, principal, view_in.query)
    owned = (SavedView.tenant_id == principal.tenant_id, SavedView.owner_id == principal.user_id)
    count, last = (await session.execute(select(func.count(), func.max(SavedView.position)).where(*owned))).one()
    if count >= MAX_VIEWS:
        raise UnprocessableEntity(f"You have {MAX_VIEWS} saved views, the most one may keep; delete one first.")
    now = utcnow()
    view = SavedView(
        tenant_id=principal.tenant_id, owner_id=principal.user_id, name=view_in.name,
        query=view_in.query.model_dump(mode="json", exclude_defaults=True), columns=list(view_in.columns),
        in_sidebar=view_in.in_sidebar, on_overview=view_in.on_overview, shared=view_in.shared,
        position=view_in.position if view_in.position is not None else (last + 1 if last is not None else 0),
        created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(view)
    await _flush(session, view_in.name)
    return view


async def update(session: AsyncSession, principal: Principal, view: SavedView, change: ViewUpdate) -> None:
    """Apply the fields given (the caller got `view` with `change=True`)."""
    given = change.model_dump(exclude_unset=True)
    _check_share(principal, given.get("shared"))
    if change.query is not None:
        await _check_query(session, principal, change.query)
        view.query = change.query.model_dump(mode="json", exclude_defaults=True)
    if change.columns is not None:
        view.columns = list(change.columns)
    for field in ("name", "in_sidebar", "on_overview", "shared", "position"):
        if given.get(field) is not None:
            setattr(view, field, given[field])
    view.updated_at = utcnow()
    await _flush(session, view.name)


async def delete(session: AsyncSession, view: SavedView) -> None:
    await session.delete(view)
    await session.flush()


async def reads(session: AsyncSession, principal: Principal, views: Sequence[SavedView]) -> list[ViewRead]:
    """Views as the API shows them, their queries without the terms deleted since (a query per vocabulary named), each
    saying whether its custom field was deleted since."""
    existing: dict[str, set[Any]] = {}
    for field, model in _TERMS.items():
        named = {view.query.get(field) for view in views} - {None}
        ids = set()
        for value in named:
            try:
                ids.add(uuid.UUID(str(value)))
            except ValueError:
                continue
        found = select(model.id).where(model.tenant_id == principal.tenant_id, model.id.in_(ids))
        existing[field] = {str(term_id) for term_id in await session.scalars(found)} if ids else set()
    queries = [
        _query_of({key: value for key, value in view.query.items() if key not in _TERMS or value in existing[key]})
        for view in views
    ]
    # A custom field deleted since stays in the query (its filter then matches nothing): the reader says it is gone.
    fields = {query.custom_field_id for query in queries if query.custom_field_id is not None}
    kept_fields = await custom_fields.existing_ids(session, principal, fields)
    names = await directory.user_names(session=session, tenant_id=principal.tenant_id, ids={view.owner_id for view in views})
    result = []
    for view, query in zip(views, queries, strict=True):
        result.append(
            ViewRead(
                id=view.id, name=view.name, query=query, columns=[c for c in view.columns if c in _COLUMNS],
                in_sidebar=view.in_sidebar, on_overview=view.on_overview, shared=view.shared, position=view.position,
                mine=view.owner_id == principal.user_id, owner_name=names.get(view.owner_id, "(deleted)"),
                custom_field_removed=query.custom_field_id is not None and query.custom_field_id not in kept_fields,
                created_at=view.created_at, updated_at=view.updated_at,
            )
        )  # fmt: skip
    return result


def _query_of(stored: dict[str, Any]) -> ViewQuery:
    try:
        return ViewQuery.model_validate(stored)
    except ValueError:  # a query written by an older rule: open the whole list rather than fail
        return ViewQuery()

"""Rules of the document vocabularies: tenant-wide types, correspondents, tags and the category tree.

Everyone in the tenant reads them (to file their own documents); changing them takes `documents.manage`, which the
routes check. Names are unique per tenant whatever their case ("Invoice" and "invoice" are one type); categories
are unique per parent. A deleted term leaves its documents in place: they lose the type, the tag or the category.
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.core.db import utcnow
from nubes.core.errors import Conflict, NotFound, UnprocessableEntity
from nubes.core.principal import Principal
from nubes.documents.records.models import Document, DocumentCategory, DocumentTag
from nubes.documents.suggestions import matching
from nubes.documents.suggestions.models import Suggestion
from nubes.documents.vocabulary.models import Category, Correspondent, DocumentType, Tag
from nubes.documents.vocabulary.schemas import CategoryRemoval, MatchingIn
from nubes.files.tree import service as files

Term = TypeVar("Term", DocumentType, Correspondent, Tag, Category)
TermModel = type[DocumentType] | type[Correspondent] | type[Tag] | type[Category]

MAX_DEPTH = 10
"""How deep the category tree may go."""

_WHAT: dict[type[Any], str] = {DocumentType: "document type", Correspondent: "correspondent", Tag: "tag", Category: "category"}


def clean(name: str) -> str:
    """The stored form of a name (NFC, trimmed); 422 for an empty one or one with control characters."""
    stored = unicodedata.normalize("NFC", name).strip()
    if not stored:
        raise UnprocessableEntity("A name cannot be empty.")
    if any(unicodedata.category(character) == "Cc" for character in stored):
        raise UnprocessableEntity("A name cannot contain control characters (newline, tab, NUL, ...).")
    return stored


def name_key(name: str) -> str:
    """What two names clash on: NFC, casefolded."""
    return clean(name).casefold()


async def get(session: AsyncSession, principal: Principal, model: type[Term], term_id: uuid.UUID) -> Term:
    """A term of the principal's tenant (404 otherwise, whatever other tenants hold)."""
    found = await session.scalar(select(model).where(model.id == term_id, model.tenant_id == principal.tenant_id))
    if found is None:
        raise NotFound(f"No {_WHAT[model]} {term_id}.")
    return found


async def check_ids(session: AsyncSession, principal: Principal, model: TermModel, ids: Sequence[uuid.UUID]) -> None:
    """422 unless every id is a term of `model` in the principal's tenant."""
    wanted = set(ids)
    if not wanted:
        return
    found = set(await session.scalars(select(model.id).where(model.tenant_id == principal.tenant_id, model.id.in_(wanted))))
    if missing := wanted - found:
        raise UnprocessableEntity(f"No {_WHAT[model]} {sorted(str(value) for value in missing)[0]} in your organization.")


async def _counts(session: AsyncSession, principal: Principal, column: Any, link: Any = None) -> dict[uuid.UUID, int]:
    """How many of the principal's documents (not in the trash, as the list) use each term (through `link` for tags
    and categories)."""
    owned = (Document.tenant_id == principal.tenant_id, Document.owner_id == principal.user_id, files.is_live(Document.file_id))
    if link is None:
        query = select(column, func.count()).where(*owned, column.is_not(None)).group_by(column)
    else:
        query = select(column, func.count()).join(Document, Document.id == link.document_id).where(*owned).group_by(column)
    return {row[0]: row[1] for row in await session.execute(query)}


async def list_terms(
    session: AsyncSession, principal: Principal, model: type[DocumentType] | type[Correspondent]
) -> list[dict[str, Any]]:
    """The tenant's types or correspondents by name, each with how many of the principal's documents use it."""
    terms: list[DocumentType | Correspondent] = list(
        await session.scalars(select(model).where(model.tenant_id == principal.tenant_id).order_by(model.name_key))
    )
    column = Document.type_id if model is DocumentType else Document.correspondent_id
    counts = await _counts(session, principal, column)
    return [term_row(term, counts.get(term.id, 0)) for term in terms]


async def list_tags(session: AsyncSession, principal: Principal) -> list[dict[str, Any]]:
    tags = list(await session.scalars(select(Tag).where(Tag.tenant_id == principal.tenant_id).order_by(Tag.name_key)))
    counts = await _counts(session, principal, DocumentTag.tag_id, DocumentTag)
    return [term_row(tag, counts.get(tag.id, 0)) for tag in tags]


async def _flush_unique(session: AsyncSession, what: str, name: str) -> None:
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict(f"A {what} named {name!r} already exists; pick another name or use that one.") from None


def term_row(term: DocumentType | Correspondent | Tag, document_count: int = 0) -> dict[str, Any]:
    """A type, correspondent or tag as the API shows it."""
    row = {"id": term.id, "name": term.name, "matching": term.matching, "match": term.match,
           "case_sensitive": term.case_sensitive, "document_count": document_count}  # fmt: skip
    if isinstance(term, Tag):
        row["color"] = term.color
    return row


def set_matching(term: DocumentType | Correspondent | Tag, rule: MatchingIn) -> None:
    """Apply the rule's given fields; 422 for a rule that could never run (a regex RE2 refuses, a rule without words)."""
    # A new term's columns are None until its first flush: their defaults then.
    matching_ = rule.matching if rule.matching is not None else term.matching or "none"
    match = rule.match if rule.match is not None else term.match or ""
    case_sensitive = rule.case_sensitive if rule.case_sensitive is not None else bool(term.case_sensitive)
    try:
        matching.check(matching_, match, case_sensitive)
    except matching.BadRule as exc:
        raise UnprocessableEntity(str(exc)) from None
    term.matching, term.match, term.case_sensitive = matching_, match, case_sensitive


async def create_term(
    session: AsyncSession, principal: Principal, model: type[DocumentType] | type[Correspondent], name: str, rule: MatchingIn
) -> DocumentType | Correspondent:
    term = model(tenant_id=principal.tenant_id, name=clean(name), name_key=name_key(name))
    set_matching(term, rule)
    session.add(term)
    await _flush_unique(session, _WHAT[model], name)
    return term


async def rename(
    session: AsyncSession, principal: Principal, term: DocumentType | Correspondent | Tag | Category, name: str
) -> None:
    """Rename a term; its documents count as modified (their search entries hold the old name until reindexed)."""
    if clean(name) == term.name:
        return
    term.name, term.name_key = clean(name), name_key(name)
    await _flush_unique(session, _WHAT[type(term)], name)
    await session.execute(update(Document).where(Document.id.in_(_documents_of(term))).values(modified_at=utcnow()))


def _documents_of(term: DocumentType | Correspondent | Tag | Category) -> Any:
    """A SELECT of the ids of the documents that use `term` (directly: a category's subcategories are their own)."""
    if isinstance(term, DocumentType):
        return select(Document.id).where(Document.type_id == term.id)
    if isinstance(term, Correspondent):
        return select(Document.id).where(Document.correspondent_id == term.id)
    if isinstance(term, Tag):
        return select(DocumentTag.document_id).where(DocumentTag.tag_id == term.id)
    return select(DocumentCategory.document_id).where(DocumentCategory.category_id == term.id)


async def create_tag(session: AsyncSession, principal: Principal, name: str, color: str, rule: MatchingIn) -> Tag:
    tag = Tag(tenant_id=principal.tenant_id, name=clean(name), name_key=name_key(name), color=color.lower())
    set_matching(tag, rule)
    session.add(tag)
    await _flush_unique(session, "tag", name)
    return tag


async def delete_term(session: AsyncSession, principal: Principal, term: DocumentType | Correspondent | Tag) -> int:
    """Delete a type, correspondent or tag (and its suggestions); return how many documents of the tenant lost it."""
    field = "tag" if isinstance(term, Tag) else "type" if isinstance(term, DocumentType) else "correspondent"
    await session.execute(delete(Suggestion).where(Suggestion.field == field, Suggestion.term_id == term.id))
    if isinstance(term, Tag):
        affected = await session.scalar(select(func.count()).select_from(DocumentTag).where(DocumentTag.tag_id == term.id))
    else:
        column = Document.type_id if isinstance(term, DocumentType) else Document.correspondent_id
        affected = await session.scalar(select(func.count()).select_from(Document).where(column == term.id))
        await session.execute(update(Document).where(column == term.id).values({column.key: None}))
    await session.delete(term)
    await session.flush()
    return int(affected or 0)


# --- the category tree ---------------------------------------------------------------------------------------------


async def list_categories(session: AsyncSession, principal: Principal) -> list[dict[str, Any]]:
    """The whole tree, each category with its path of names and how many of the principal's documents it holds."""
    categories = list(await session.scalars(select(Category).where(Category.tenant_id == principal.tenant_id)))
    by_id = {category.id: category for category in categories}
    counts = await _counts(session, principal, DocumentCategory.category_id, DocumentCategory)

    def path(category: Category) -> list[str]:
        names = [category.name]
        seen = {category.id}
        while category.parent_id is not None and category.parent_id in by_id and category.parent_id not in seen:
            category = by_id[category.parent_id]
            seen.add(category.id)
            names.append(category.name)
        return names[::-1]

    rows = [
        {"id": category.id, "name": category.name, "parent_id": category.parent_id, "path": path(category),
         "document_count": counts.get(category.id, 0)}
        for category in categories
    ]  # fmt: skip
    return sorted(rows, key=lambda row: [name.casefold() for name in row["path"]])


async def _depth_and_ancestors(session: AsyncSession, principal: Principal, parent_id: uuid.UUID | None) -> list[uuid.UUID]:
    """The ids from `parent_id` up to the top (404 when the parent is not the tenant's)."""
    chain: list[uuid.UUID] = []
    while parent_id is not None:
        parent = await get(session, principal, Category, parent_id)
        chain.append(parent.id)
        parent_id = parent.parent_id
        if len(chain) > MAX_DEPTH:
            break
    return chain


async def _height(session: AsyncSession, category: Category) -> int:
    """How many levels `category` and its subtree take (1: no subcategories)."""
    level, height = [category.id], 0
    while level:
        height += 1
        level = list(await session.scalars(select(Category.id).where(Category.parent_id.in_(level))))
    return height


async def create_category(session: AsyncSession, principal: Principal, name: str, parent_id: uuid.UUID | None) -> Category:
    chain = await _depth_and_ancestors(session, principal, parent_id)
    if len(chain) >= MAX_DEPTH:
        raise UnprocessableEntity(f"Categories nest at most {MAX_DEPTH} deep; put this one higher up.")
    category = Category(
        tenant_id=principal.tenant_id, parent_id=parent_id, parent_key=str(parent_id or ""), name=clean(name),
        name_key=name_key(name),
    )  # fmt: skip
    session.add(category)
    await _flush_unique(session, "category here", name)
    return category


async def move_category(session: AsyncSession, principal: Principal, category: Category, parent_id: uuid.UUID | None) -> None:
    """Move `category` (with its subtree) under `parent_id`; never into itself or below itself."""
    chain = await _depth_and_ancestors(session, principal, parent_id)
    if category.id in chain:
        raise UnprocessableEntity("A category cannot move into itself or into one of its subcategories.")
    if len(chain) + await _height(session, category) > MAX_DEPTH:
        raise UnprocessableEntity(f"Categories nest at most {MAX_DEPTH} deep; this move would go deeper.")
    category.parent_id, category.parent_key = parent_id, str(parent_id or "")
    await _flush_unique(session, "category there", category.name)


async def _subtree_ids(session: AsyncSession, category: Category) -> list[uuid.UUID]:
    ids, level = [category.id], [category.id]
    while level:
        level = list(await session.scalars(select(Category.id).where(Category.parent_id.in_(level))))
        ids += level
    return ids


async def removal(session: AsyncSession, category: Category) -> CategoryRemoval:
    """What deleting `category` would do: the categories it takes with it, the documents that lose one."""
    ids = await _subtree_ids(session, category)
    documents = await session.scalar(
        select(func.count(func.distinct(DocumentCategory.document_id))).where(DocumentCategory.category_id.in_(ids))
    )
    return CategoryRemoval(categories=len(ids), documents=int(documents or 0))


async def delete_category(session: AsyncSession, category: Category) -> CategoryRemoval:
    """Delete `category` and everything below it; their documents stay, without those categories."""
    done = await removal(session, category)
    ids = await _subtree_ids(session, category)
    await session.execute(delete(DocumentCategory).where(DocumentCategory.category_id.in_(ids)))
    for category_id in reversed(ids):  # children first, on engines that do not cascade within one statement
        await session.execute(delete(Category).where(Category.id == category_id))
    return done


async def merge_category(session: AsyncSession, principal: Principal, source: Category, into_id: uuid.UUID) -> Category:
    """Move `source`'s documents and subcategories into `into_id`, then delete `source`."""
    target = await get(session, principal, Category, into_id)
    if target.id in await _subtree_ids(session, source):
        raise UnprocessableEntity("A category cannot merge into itself or into one of its subcategories.")
    already = select(DocumentCategory.document_id).where(DocumentCategory.category_id == target.id).scalar_subquery()
    moved = await session.scalars(
        select(DocumentCategory.document_id).where(
            DocumentCategory.category_id == source.id, DocumentCategory.document_id.not_in(already)
        )
    )
    for document_id in list(moved):
        session.add(DocumentCategory(document_id=document_id, category_id=target.id))
    for child in list(await session.scalars(select(Category).where(Category.parent_id == source.id))):
        await move_category(session, principal, child, target.id)
    await session.execute(delete(DocumentCategory).where(DocumentCategory.category_id == source.id))
    await session.delete(source)
    await session.flush()
    return target

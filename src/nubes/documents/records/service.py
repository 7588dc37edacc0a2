"""Rules of documents: a file of the tree plus metadata, seen and changed by whoever may see and change the file.

A document's access is its file's (`files.tree.service.readable`): the owner, and whoever a share reaches, at the
share's level; a document in the trash (its file is) is hidden until restored. Every change of metadata is kept in
the document's history with its author and the values before and after.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Select, and_, case, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.core.db import utcnow
from nubes.core.errors import Conflict, NotFound, UnprocessableEntity
from nubes.core.principal import Principal
from nubes.documents.extraction import service as extraction
from nubes.documents.fields import service as custom_fields
from nubes.documents.records.models import Document, DocumentCategory, DocumentChange, DocumentTag
from nubes.documents.records.schemas import DocumentRead, DocumentScope, DocumentSort, DocumentUpdate, Extraction, Ref
from nubes.documents.vocabulary import service as vocabulary
from nubes.documents.vocabulary.models import Category, Correspondent, DocumentType, Tag
from nubes.documents.vocabulary.schemas import TagRead
from nubes.files.thumbnails import service as thumbnails
from nubes.files.tree import service as files
from nubes.identity.users import directory

_SORTS: dict[str, Any] = {
    "added": Document.added_at,
    "created": Document.created_on,
    "title": Document.title,
    "modified": Document.modified_at,
}


@dataclass(frozen=True, slots=True)
class DocumentFilter:
    """What the documents list is narrowed to (each `None`: any)."""

    type_id: uuid.UUID | None = None
    correspondent_id: uuid.UUID | None = None
    tag_id: uuid.UUID | None = None
    category_id: uuid.UUID | None = None
    text: str | None = None
    scope: DocumentScope = "mine"
    custom_field: custom_fields.CustomFieldFilter | None = None


def _title_of(name: str) -> str:
    stem, dot, _ = name.rpartition(".")
    return stem if dot and stem else name


async def add(session: AsyncSession, principal: Principal, file_id: uuid.UUID) -> Document:
    """Make a file the principal may change a document (owned by the file's owner); 409 when it already is one."""
    file = await files.readable(session=session, principal=principal, file_id=file_id, edit=True)
    existing = await session.scalar(select(Document.id).where(Document.file_id == file.id))
    if existing is not None:
        raise Conflict(f"{file.name!r} is already a document ({existing}).")
    now = utcnow()
    document = Document(
        tenant_id=principal.tenant_id, file_id=file.id, owner_id=file.owner_id, title=_title_of(file.name)[:255],
        added_at=now, modified_at=now,
    )  # fmt: skip
    session.add(document)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:  # a parallel request made it a document first
        raise Conflict(f"{file.name!r} is already a document.") from None
    if file.sha256 is not None:
        extraction.schedule(session, document_id=document.id, tenant_id=principal.tenant_id, sha256=file.sha256)
    return document


async def duplicates(session: AsyncSession, principal: Principal, sha256: str, *, besides: uuid.UUID) -> list[Document]:
    """The principal's documents whose file has the content `sha256`, other than the file `besides`."""
    file_ids = [
        file_id
        for file_id in await files.owned_with_content(session=session, principal=principal, sha256=sha256)
        if file_id != besides
    ]
    if not file_ids:
        return []
    return list(await session.scalars(select(Document).where(Document.file_id.in_(file_ids))))


async def get(session: AsyncSession, principal: Principal, document_id: uuid.UUID, *, edit: bool = False) -> Document:
    """A document the principal may see (or, with `edit`, change): 404 when they may not see it, 403 when only see."""
    document = await session.scalar(select(Document).where(Document.id == document_id, Document.tenant_id == principal.tenant_id))
    if document is None:
        raise NotFound(f"No document {document_id}.")
    try:
        await files.readable(session=session, principal=principal, file_id=document.file_id, edit=edit)
    except NotFound:
        raise NotFound(f"No document {document_id}.") from None
    return document


async def _count(
    session: AsyncSession, principal: Principal, wanted: DocumentFilter, query: Select[Any], narrowing: list[Any]
) -> int:
    """How many documents `query` lists. Your own are counted without looking up each one's file: all of them (an
    index range), less those whose file is in your trash (read from the trash down) — 25,000 files looked up one by
    one took 45 ms on SQLite (bench/bench_documents.py)."""
    if wanted.scope != "mine":
        return int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    every = _listing(principal, wanted, live=False).with_only_columns(Document.id).where(*narrowing)
    bin_ = files.trashed(principal).subquery("bin")
    binned = every.join(bin_, bin_.c.id == Document.file_id)  # from the trash to its documents, by their file's index
    all_of_them = select(func.count()).select_from(every.subquery()).scalar_subquery()
    in_trash = select(func.count()).select_from(binned.subquery()).scalar_subquery()
    counted, trashed = (await session.execute(select(all_of_them, in_trash))).one()
    return int(counted or 0) - int(trashed or 0)


def _listing(principal: Principal, wanted: DocumentFilter, *, live: bool = True) -> Select[Any]:
    mine = Document.owner_id == principal.user_id
    shared = and_(Document.owner_id != principal.user_id, Document.file_id.in_(files.shared_with(principal)))
    whose = {"mine": mine, "shared": shared, "all": or_(mine, shared)}[wanted.scope]
    query = select(Document).where(Document.tenant_id == principal.tenant_id, whose)
    if live:
        query = query.where(files.is_live(Document.file_id))
    if wanted.type_id is not None:
        query = query.where(Document.type_id == wanted.type_id)
    if wanted.correspondent_id is not None:
        query = query.where(Document.correspondent_id == wanted.correspondent_id)
    if wanted.tag_id is not None:
        query = query.where(Document.id.in_(select(DocumentTag.document_id).where(DocumentTag.tag_id == wanted.tag_id)))
    if wanted.category_id is not None:
        in_category = select(DocumentCategory.document_id).where(DocumentCategory.category_id == wanted.category_id)
        query = query.where(Document.id.in_(in_category))
    if wanted.text:
        escaped = wanted.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(
            or_(Document.title.ilike(f"%{escaped}%", escape="\\"), Document.notes.ilike(f"%{escaped}%", escape="\\"))
        )
    return query


async def list_documents(
    session: AsyncSession, principal: Principal, wanted: DocumentFilter, *, sort: DocumentSort, limit: int, offset: int
) -> tuple[list[Document], int]:
    """The principal's documents (`scope`: their own, those shared with them by their owners, or both; live files
    only), filtered and sorted, a page at a time, with the total."""
    narrowing: list[Any] = []
    if wanted.custom_field is not None:
        narrowing.append(Document.id.in_(await custom_fields.matching(session, principal, wanted.custom_field)))
    query = _listing(principal, wanted).where(*narrowing)
    total = await _count(session, principal, wanted, query, narrowing)
    column = _SORTS[sort.removeprefix("-")]
    order = [column.desc() if sort.startswith("-") else column.asc(), Document.id]
    documents = list(await session.scalars(query.order_by(*order).limit(limit).offset(offset)))
    return documents, int(total or 0)


def _value(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return sorted(str(item) for item in value)
    return value


async def _check(session: AsyncSession, principal: Principal, document: Document, given: dict[str, Any]) -> None:
    """422 for a type or correspondent of another tenant, 409 for an archive serial number another document has."""
    if given.get("type_id") is not None:
        await vocabulary.check_ids(session, principal, DocumentType, [given["type_id"]])
    if given.get("correspondent_id") is not None:
        await vocabulary.check_ids(session, principal, Correspondent, [given["correspondent_id"]])
    serial = given.get("archive_serial")
    if serial is not None and serial != document.archive_serial:
        query = select(Document.id).where(Document.tenant_id == principal.tenant_id, Document.archive_serial == serial)
        if await session.scalar(query) is not None:
            raise Conflict(f"Archive serial number {serial} is taken by another document; pick another.")


async def update(session: AsyncSession, principal: Principal, document: Document, change: DocumentUpdate) -> None:
    """Apply the fields given; record what changed (nothing recorded when nothing did)."""
    given = change.model_dump(exclude_unset=True)
    if "title" in given and given["title"] is None:
        del given["title"]  # a title cannot be cleared
    await _check(session, principal, document, given)
    changes: dict[str, list[object]] = {}
    for field in ("title", "type_id", "correspondent_id", "archive_serial", "created_on", "notes"):
        if field in given:
            before, after = getattr(document, field), given[field] if field != "notes" else given[field] or ""
            if before != after:
                changes[field] = [_value(before), _value(after)]
                setattr(document, field, after)
    for field, link, model, column in (
        ("tag_ids", DocumentTag, Tag, DocumentTag.tag_id),
        ("category_ids", DocumentCategory, Category, DocumentCategory.category_id),
    ):
        if given.get(field) is None:
            continue
        wanted = list(dict.fromkeys(given[field]))
        await vocabulary.check_ids(session, principal, model, wanted)
        current = list(await session.scalars(select(column).where(link.document_id == document.id)))
        if set(current) != set(wanted):
            changes[field] = [_value(current), _value(wanted)]
            await session.execute(delete(link).where(link.document_id == document.id))
            key = column.key
            session.add_all(link(document_id=document.id, **{key: value}) for value in wanted)
    if change.custom_fields is not None:
        changes |= await _set_custom_fields(session, principal, document, change)
    if not changes:
        return
    document.modified_at = utcnow()
    session.add(DocumentChange(document_id=document.id, actor_id=principal.user_id, changes=changes))
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict(f"Archive serial number {document.archive_serial} is taken by another document.") from None


async def _set_custom_fields(
    session: AsyncSession, principal: Principal, document: Document, change: DocumentUpdate
) -> dict[str, list[object]]:
    """The custom fields the document carries become exactly those given; a new document link must reach another
    document the principal can read (a link kept as it was stays, even to a document gone since)."""
    values = await custom_fields.parse(session, principal, change.custom_fields or [])
    kept = await custom_fields.links_of(session, document.id)
    for value in values:
        target = value.linked_id
        if target is None or kept.get(value.field.id) == target:
            continue
        if target == document.id:
            raise UnprocessableEntity(f"Custom field {value.field.name!r}: a document cannot link to itself.")
        try:
            await get(session, principal, target)
        except NotFound:
            raise UnprocessableEntity(
                f"Custom field {value.field.name!r}: no document {target} that you can read in your organization."
            ) from None
    return await custom_fields.replace(session, document.id, values)


async def remove(session: AsyncSession, document: Document) -> None:
    """The document's metadata goes; its file stays where it is."""
    await session.delete(document)
    await session.flush()


async def history(session: AsyncSession, principal: Principal, document: Document) -> list[dict[str, Any]]:
    """The document's changes, newest first, each with its author's name."""
    changes = list(
        await session.scalars(
            select(DocumentChange).where(DocumentChange.document_id == document.id).order_by(DocumentChange.at.desc())
        )
    )
    actors = {change.actor_id for change in changes if change.actor_id is not None}
    names = await directory.user_names(session=session, tenant_id=principal.tenant_id, ids=list(actors))
    return [
        {
            "at": change.at,
            "actor": {"id": change.actor_id, "name": names.get(change.actor_id, "(deleted)")} if change.actor_id else None,
            "changes": change.changes,
        }
        for change in changes
    ]


async def reads(
    session: AsyncSession, principal: Principal, documents: Sequence[Document], *, live_only: bool = True
) -> list[DocumentRead]:
    """Documents as the API shows them: a few queries for the whole page, none per document."""
    if not documents:
        return []
    ids = [document.id for document in documents]
    file_ids = [d.file_id for d in documents]
    summaries = await files.summaries(session=session, tenant_id=principal.tenant_id, file_ids=file_ids, live_only=live_only)
    tenant = principal.tenant_id
    types = {
        row.id: row.name
        for row in await session.execute(select(DocumentType.id, DocumentType.name).where(DocumentType.tenant_id == tenant))
    }
    people = {
        row.id: row.name
        for row in await session.execute(select(Correspondent.id, Correspondent.name).where(Correspondent.tenant_id == tenant))
    }
    tags: dict[uuid.UUID, list[TagRead]] = {}
    for document_id, tag_id, name, color in await session.execute(
        select(DocumentTag.document_id, Tag.id, Tag.name, Tag.color)
        .join(Tag, Tag.id == DocumentTag.tag_id)
        .where(DocumentTag.document_id.in_(ids))
    ):
        tags.setdefault(document_id, []).append(TagRead(id=tag_id, name=name, color=color))
    categories: dict[uuid.UUID, list[Ref]] = {}
    for document_id, category_id, name in await session.execute(
        select(DocumentCategory.document_id, Category.id, Category.name)
        .join(Category, Category.id == DocumentCategory.category_id)
        .where(DocumentCategory.document_id.in_(ids))
    ):
        categories.setdefault(document_id, []).append(Ref(id=category_id, name=name))
    contents = await extraction.of(session, ids)
    previews = await thumbnails.states(
        session=session, tenant_id=tenant, contents={file_id: file.sha256 for file_id, file in summaries.items()}
    )
    values = await custom_fields.values_of(session, tenant, ids)
    linked = await _visible_titles(
        session, principal, {value.linked_id for each in values.values() for value in each if value.linked_id is not None}
    )
    result = []
    for document in documents:
        file = summaries.get(document.file_id)
        content = contents.get(document.id)
        result.append(
            DocumentRead(
                id=document.id,
                file_id=document.file_id,
                owner_id=document.owner_id,
                title=document.title,
                file_name=file.name if file else "",
                size=file.size if file else 0,
                content_type=file.content_type if file else "",
                type=Ref(id=document.type_id, name=types[document.type_id]) if document.type_id in types else None,
                correspondent=(
                    Ref(id=document.correspondent_id, name=people[document.correspondent_id])
                    if document.correspondent_id in people
                    else None
                ),
                tags=sorted(tags.get(document.id, []), key=lambda tag: tag.name.casefold()),
                categories=sorted(categories.get(document.id, []), key=lambda ref: ref.name.casefold()),
                archive_serial=document.archive_serial,
                created_on=document.created_on,
                notes=document.notes,
                added_at=document.added_at,
                modified_at=document.modified_at,
                extraction=Extraction.model_validate(content, from_attributes=True) if content else None,
                custom_fields=[custom_fields.value_read(value, linked) for value in values.get(document.id, [])],
                mine=document.owner_id == principal.user_id,
                sha256=file.sha256 if file else None,
                preview=previews.get(document.file_id, "none"),
            )
        )
    return result


async def _visible_titles(session: AsyncSession, principal: Principal, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The titles of those of these documents the principal can see (as the list shows them: live, own or shared)."""
    if not ids:
        return {}
    visible = _listing(principal, DocumentFilter(scope="all")).where(Document.id.in_(ids)).subquery()
    return {row.id: row.title for row in await session.execute(select(visible.c.id, visible.c.title))}


# --- for the search index: what changed, with everything it indexes ------------------------------------------------


@dataclass(frozen=True, slots=True)
class IndexSource:
    """One document as the search index holds it: who may find it, and its words."""

    document_id: uuid.UUID
    tenant_id: uuid.UUID
    owner_id: uuid.UUID
    file_id: uuid.UUID
    title: str
    body: str
    changed_at: datetime


def change_feed() -> Select[Any]:
    """A SELECT of every document's id and when its metadata or text last changed (`id`, `changed_at`), for the
    search index to compare with what it holds (exactly: a change is never missed for committing late)."""
    content_time = func.coalesce(extraction.content_updated_at(Document.id), Document.modified_at)
    changed = case((content_time > Document.modified_at, content_time), else_=Document.modified_at)
    return select(Document.id.label("id"), changed.label("changed_at"))


async def index_sources(session: AsyncSession, document_ids: Sequence[uuid.UUID]) -> list[IndexSource]:
    """These documents as the search index holds them (the gone ones left out)."""
    if not document_ids:
        return []
    feed = change_feed().subquery()
    query = select(Document, feed.c.changed_at).join(feed, feed.c.id == Document.id).where(Document.id.in_(set(document_ids)))
    rows = list(await session.execute(query))
    if not rows:
        return []
    documents = [row[0] for row in rows]
    reads = {read.id: read for read in await _reads_for_index(session, documents)}
    texts = await extraction.texts_of(session, [document.id for document in documents])
    sources = []
    for document, changed_at in rows:
        read = reads[document.id]
        words = [
            texts.get(document.id, ""), document.notes, read.file_name,
            read.type.name if read.type else "", read.correspondent.name if read.correspondent else "",
            " ".join(tag.name for tag in read.tags), " ".join(category.name for category in read.categories),
            custom_fields.indexed_words(read.custom_fields),
        ]  # fmt: skip
        sources.append(
            IndexSource(
                document_id=document.id, tenant_id=document.tenant_id, owner_id=document.owner_id, file_id=document.file_id,
                title=document.title, body="\n".join(part for part in words if part), changed_at=changed_at,
            )
        )  # fmt: skip
    return sources


async def _reads_for_index(session: AsyncSession, documents: list[Document]) -> list[DocumentRead]:
    """`reads` for documents of any tenants (each page's documents read with their own tenant's vocabulary)."""
    result: list[DocumentRead] = []
    by_tenant: dict[uuid.UUID, list[Document]] = {}
    for document in documents:
        by_tenant.setdefault(document.tenant_id, []).append(document)
    for tenant_id, batch in by_tenant.items():
        reader = Principal(user_id=uuid.UUID(int=0), tenant_id=tenant_id, username="search-index", permissions=frozenset())
        result += await reads(session, reader, batch, live_only=False)
    return result


def file_ids() -> Select[uuid.UUID]:
    """A SELECT of the ids of every file that is a document (the search index reads those as documents)."""
    return select(Document.file_id)


async def count_all(session: AsyncSession) -> int:
    """How many documents the install holds (the search index's progress)."""
    return int(await session.scalar(select(func.count()).select_from(Document)) or 0)


def matching_filters(principal: Principal, filters: dict[str, list[str]]) -> Select[Any] | None:
    """A SELECT of the ids of the tenant's documents matching every `field: [values]` (tag, type, correspondent, year
    — names compared as the vocabularies compare them); None when there is no filter. A year not a number matches
    nothing."""
    if not filters:
        return None
    query = select(Document.id).where(Document.tenant_id == principal.tenant_id)
    for value in filters.get("tag", []):
        tagged = select(DocumentTag.document_id).join(Tag, Tag.id == DocumentTag.tag_id)
        query = query.where(
            Document.id.in_(tagged.where(Tag.tenant_id == principal.tenant_id, Tag.name_key == vocabulary.name_key(value)))
        )
    for value in filters.get("type", []):
        named = select(DocumentType.id).where(
            DocumentType.tenant_id == principal.tenant_id, DocumentType.name_key == vocabulary.name_key(value)
        )
        query = query.where(Document.type_id.in_(named))
    for value in filters.get("correspondent", []):
        named = select(Correspondent.id).where(
            Correspondent.tenant_id == principal.tenant_id, Correspondent.name_key == vocabulary.name_key(value)
        )
        query = query.where(Document.correspondent_id.in_(named))
    for value in filters.get("year", []):
        if not value.isdigit() or not 1 <= int(value) <= 9999:
            return query.where(Document.id.is_(None))
        start, end = date(int(value), 1, 1), date(int(value) + 1, 1, 1) if int(value) < 9999 else date(9999, 12, 31)
        dated = and_(Document.created_on >= start, Document.created_on < end)
        first, after = (datetime(moment.year, moment.month, moment.day, tzinfo=UTC) for moment in (start, end))
        added = and_(Document.created_on.is_(None), Document.added_at >= first, Document.added_at < after)
        query = query.where(or_(dated, added))
    return query

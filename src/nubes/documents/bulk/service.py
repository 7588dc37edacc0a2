"""Rules of bulk actions: every document or none.

The documents are checked first, all of them: one the principal cannot see is "not found" (whatever it is), one they
may see but not change is "forbidden", and the problem names them all; nothing changes then. A failure while acting
(a file the principal may not move to the trash or share) names its document and, the request failing, undoes the
changes made before it. Each change lands in each document's history.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.core.audit import Origin
from nubes.core.db import utcnow
from nubes.core.errors import Forbidden, NotFound, NubesError
from nubes.core.principal import Principal
from nubes.documents.bulk.schemas import (
    AddCategories,
    AddTags,
    BulkResult,
    RemoveCategories,
    RemoveDocuments,
    RemoveTags,
    SetCorrespondent,
    SetType,
    ShareDocuments,
    TrashDocuments,
)
from nubes.documents.records.models import Document, DocumentCategory, DocumentChange, DocumentTag
from nubes.documents.vocabulary import service as vocabulary
from nubes.documents.vocabulary.models import Category, Correspondent, DocumentType, Tag
from nubes.files.sharing import service as sharing
from nubes.files.sharing.schemas import ShareUpdate, ShareWithGroup, ShareWithUser
from nubes.files.tree import service as files
from nubes.identity.users import directory

if TYPE_CHECKING:
    from nubes.files.tree.models import FileNode

Action = (
    AddTags | RemoveTags | SetType | SetCorrespondent | AddCategories | RemoveCategories | RemoveDocuments | TrashDocuments
    | ShareDocuments
)  # fmt: skip

_NAMED = 5
"""How many documents a problem names before it says how many more."""


def _listed(items: Sequence[str]) -> str:
    shown = ", ".join(items[:_NAMED])
    return shown if len(items) <= _NAMED else f"{shown} and {len(items) - _NAMED} more"


async def documents_of(
    session: AsyncSession, principal: Principal, document_ids: Sequence[uuid.UUID], *, edit: bool
) -> list[Document]:
    """The documents, in the order given (each once), when the principal may see every one (and, with `edit`,
    change it): otherwise 404 naming the ids they cannot see, else 403 naming the ones they may only read."""
    ids = list(dict.fromkeys(document_ids))
    query = select(Document).where(Document.tenant_id == principal.tenant_id, Document.id.in_(ids))
    found = {document.id: document for document in await session.scalars(query)}
    live = await files.summaries(
        session=session, tenant_id=principal.tenant_id, file_ids=[document.file_id for document in found.values()]
    )
    missing: list[uuid.UUID] = []
    read_only: list[Document] = []
    for document_id in ids:
        document = found.get(document_id)
        file = live.get(document.file_id) if document is not None else None
        if document is None or file is None:
            missing.append(document_id)
        elif file.owner_id != principal.user_id:
            try:
                await files.readable(session=session, principal=principal, file_id=document.file_id, edit=edit)
            except NotFound:
                missing.append(document_id)
            except Forbidden:
                read_only.append(document)
    if missing:
        raise NotFound(
            f"No document {_listed([str(value) for value in missing])}; nothing was changed.",
            extensions={"document_ids": [str(value) for value in missing]},
        )
    if read_only:
        raise Forbidden(
            f"You may only read {_listed([repr(document.title) for document in read_only])}; nothing was changed.",
            extensions={"document_ids": [str(document.id) for document in read_only]},
        )
    return [found[document_id] for document_id in ids]


def _record(session: AsyncSession, principal: Principal, document: Document, changes: dict[str, list[object]]) -> None:
    document.modified_at = utcnow()
    session.add(DocumentChange(document_id=document.id, actor_id=principal.user_id, changes=changes))


async def _links(
    session: AsyncSession,
    principal: Principal,
    documents: list[Document],
    wanted: Sequence[uuid.UUID],
    *,
    add: bool,
    categories: bool,
) -> list[uuid.UUID]:
    """Add or remove tags (or categories) on each document; the ids of those that changed."""
    link: Any = DocumentCategory if categories else DocumentTag
    column = link.category_id if categories else link.tag_id
    field = "category_ids" if categories else "tag_ids"
    terms = list(dict.fromkeys(wanted))
    await vocabulary.check_ids(session, principal, Category if categories else Tag, terms)
    current: dict[uuid.UUID, set[uuid.UUID]] = {document.id: set() for document in documents}
    rows = await session.execute(select(link.document_id, column).where(link.document_id.in_(list(current))))
    for document_id, term_id in rows:
        current[document_id].add(term_id)
    changed: list[uuid.UUID] = []
    for document in documents:
        before = current[document.id]
        after = before | set(terms) if add else before - set(terms)
        if after == before:
            continue
        if add:
            session.add_all(link(document_id=document.id, **{column.key: term}) for term in terms if term not in before)
        _record(session, principal, document, {field: [sorted(map(str, before)), sorted(map(str, after))]})
        changed.append(document.id)
    if not add and changed:
        await session.execute(delete(link).where(link.document_id.in_(changed), column.in_(terms)))
    return changed


async def _set(
    session: AsyncSession, principal: Principal, documents: list[Document], field: str, value: uuid.UUID | None
) -> list[uuid.UUID]:
    """Set the type or the correspondent of each document; the ids of those that changed."""
    if value is not None:
        await vocabulary.check_ids(session, principal, DocumentType if field == "type_id" else Correspondent, [value])
    changed: list[uuid.UUID] = []
    for document in documents:
        before = getattr(document, field)
        if before == value:
            continue
        setattr(document, field, value)
        _record(session, principal, document, {field: [str(before) if before else None, str(value) if value else None]})
        changed.append(document.id)
    return changed


def _again(exc: NubesError, document: Document) -> NubesError:
    """The same problem, naming the document it happened to."""
    return type(exc)(f"{document.title!r}: {exc.detail or exc.title} Nothing was changed.", headers=exc.headers)


async def _trash(session: AsyncSession, principal: Principal, documents: list[Document], origin: Origin) -> list[uuid.UUID]:
    if not principal.can("files.write"):
        raise Forbidden("Moving files to the trash takes the permission files.write; ask an admin.")
    for document in documents:
        try:
            await files.trash(session=session, principal=principal, node_id=document.file_id, origin=origin)
        except NubesError as exc:
            raise _again(exc, document) from None
        _record(session, principal, document, {"trashed": [False, True]})
    return [document.id for document in documents]


async def _share(
    session: AsyncSession, principal: Principal, documents: list[Document], action: ShareDocuments, origin: Origin
) -> list[uuid.UUID]:
    """Share each document's file; a share the recipient holds already gets the permission asked."""
    if not principal.can("files.share"):
        raise Forbidden("Sharing takes the permission files.share; ask an admin.")
    if action.user_id is not None:
        names = await directory.user_names(session=session, tenant_id=principal.tenant_id, ids=[action.user_id])
        recipient = names.get(action.user_id)
        share_in: ShareWithUser | ShareWithGroup = ShareWithUser(user_id=action.user_id, permission=action.permission)
    else:
        names = await directory.group_names(session=session, tenant_id=principal.tenant_id, ids=[action.group_id])
        recipient = names.get(action.group_id) if action.group_id else None
        share_in = ShareWithGroup(group_id=action.group_id, permission=action.permission)
    if recipient is None:
        raise NotFound(f"No {'user' if action.user_id else 'group'} {action.user_id or action.group_id} in your organization.")
    changed: list[uuid.UUID] = []
    for document in documents:
        try:
            shares = await sharing.list_shares(session=session, principal=principal, node_id=document.file_id)
            held = next(
                (
                    share
                    for share, _ in shares
                    if (action.user_id is not None and share.user_id == action.user_id)
                    or (action.group_id is not None and share.group_id == action.group_id)
                ),
                None,
            )
            if held is None:
                await sharing.create_share(
                    session=session, principal=principal, node_id=document.file_id, share_in=share_in, origin=origin
                )
                before = None
            elif held.permission != action.permission:
                before = f"{recipient} ({held.permission})"
                await sharing.update_share(
                    session=session, principal=principal, node_id=document.file_id, share_id=held.id,
                    share_in=ShareUpdate(permission=action.permission), origin=origin,
                )  # fmt: skip
            else:
                continue
        except NubesError as exc:
            raise _again(exc, document) from None
        _record(session, principal, document, {"shared_with": [before, f"{recipient} ({action.permission})"]})
        changed.append(document.id)
    return changed


async def apply(session: AsyncSession, principal: Principal, action: Action, *, origin: Origin) -> BulkResult:
    """Do the action to every document (all or none, see the module's docstring)."""
    documents = await documents_of(session, principal, action.document_ids, edit=True)
    changed: list[uuid.UUID]
    if isinstance(action, AddTags | RemoveTags):
        changed = await _links(session, principal, documents, action.tag_ids, add=isinstance(action, AddTags), categories=False)
    elif isinstance(action, AddCategories | RemoveCategories):
        add = isinstance(action, AddCategories)
        changed = await _links(session, principal, documents, action.category_ids, add=add, categories=True)
    elif isinstance(action, SetType):
        changed = await _set(session, principal, documents, "type_id", action.type_id)
    elif isinstance(action, SetCorrespondent):
        changed = await _set(session, principal, documents, "correspondent_id", action.correspondent_id)
    elif isinstance(action, RemoveDocuments):
        changed = [document.id for document in documents]
        await session.execute(delete(Document).where(Document.id.in_(changed)))
    elif isinstance(action, TrashDocuments):
        changed = await _trash(session, principal, documents, origin)
    else:
        changed = await _share(session, principal, documents, action, origin)
    await session.flush()
    done = set(changed)
    return BulkResult(
        action=action.action, changed=changed, unchanged=[document.id for document in documents if document.id not in done]
    )


async def zip_entries(
    session: AsyncSession, principal: Principal, document_ids: Sequence[uuid.UUID]
) -> list[tuple[str, FileNode]]:
    """(name in the zip, file) of each document, when the principal may read every one; names made unique."""
    documents = await documents_of(session, principal, document_ids, edit=False)
    taken: set[str] = set()
    entries: list[tuple[str, FileNode]] = []
    for document in documents:
        node = await files.get_or_raise(session=session, principal=principal, node_id=document.file_id)
        stem, dot, extension = node.name.rpartition(".")
        if not dot or not stem:
            stem, dot, extension = node.name, "", ""
        name, number = node.name, 1
        while name.casefold() in taken:
            number += 1
            name = f"{stem} ({number}){dot}{extension}"
        taken.add(name.casefold())
        entries.append((name, node))
    return entries

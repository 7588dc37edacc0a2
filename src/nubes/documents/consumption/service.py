"""Rules of the inbox: a file put directly in a user's `Documents/Inbox` folder, by any way files arrive, is made a
document of its owner and moved up into `Documents` (the inbox empties as Paperless-ngx's consumption folder does).

A file the organization's settings refuse (its type, its size) is moved into `Documents/Inbox/Refused` instead,
with the reason in the log, so it is not tried again and its owner sees it was not taken. The chore reads the inbox
folders from the users' roots down (no scan of every file) and is safe to run again: a file already a document is
only moved.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.core.errors import NubesError
from nubes.core.principal import Principal
from nubes.documents.records import service as records
from nubes.documents.records.models import Document
from nubes.documents.settings import service as settings
from nubes.files.tree import service as files
from nubes.files.tree.schemas import FileUpdate

log = structlog.get_logger("nubes.documents")

DOCUMENTS_FOLDER = "Documents"
"""Where uploads into Documents go, at the top of the uploader's files."""
INBOX_FOLDER = "Inbox"
"""The folder inside Documents whose files become documents."""
REFUSED_FOLDER = "Refused"
"""Inside the inbox: where files the organization's settings refuse are put."""
BATCH = 50


@dataclass(frozen=True, slots=True)
class Consumed:
    added: int
    refused: int


def _owner(tenant_id: uuid.UUID, owner_id: uuid.UUID) -> Principal:
    """The inbox's owner, as the chore acts for them (what they could do to their own files)."""
    return Principal(user_id=owner_id, tenant_id=tenant_id, username="documents-inbox", permissions=frozenset())


async def consume(session: AsyncSession, *, limit: int = BATCH) -> Consumed:
    """Take up to `limit` files waiting in inboxes; the caller commits."""
    waiting = files.files_at((DOCUMENTS_FOLDER, INBOX_FOLDER)).limit(limit)
    added = refused = 0
    for file_id, tenant_id, owner_id, name, size in list(await session.execute(waiting)):
        owner = _owner(tenant_id, owner_id)
        documents_folder = await files.folder_in_root(session=session, principal=owner, name=DOCUMENTS_FOLDER)
        try:
            async with session.begin_nested():
                await settings.check_upload(session, tenant_id, name=name, size=size)
                if await session.scalar(select(Document.id).where(Document.file_id == file_id)) is None:
                    await records.add(session, owner, file_id)
                target = documents_folder.id
                added += 1
        except NubesError as refusal:
            inbox = await files.folder_in(session=session, principal=owner, parent_id=documents_folder.id, name=INBOX_FOLDER)
            target = (await files.folder_in(session=session, principal=owner, parent_id=inbox.id, name=REFUSED_FOLDER)).id
            log.info("documents.inbox_refused", file_id=str(file_id), reason=refusal.detail)
            refused += 1
        free = await files.free_name_in(session=session, principal=owner, folder_id=target, name=name)
        await files.update(session=session, principal=owner, node_id=file_id, node_in=FileUpdate(name=free, parent_id=target))
    return Consumed(added=added, refused=refused)

"""The top bar's search: one query over files (by name), documents (full text), containers and people (by name).

Each kind is asked of its own domain's service, under that domain's rules, and only when the caller holds the
permission that domain asks for (for a personal access token: its scopes too); a kind the caller may not see is
left out of the answer (null), not refused, so one search box serves every role and token. Each group lists its
first few matches and says whether there are more.
"""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession

from nubes.compute.containers import service as containers
from nubes.core.errors import FieldError, UnprocessableEntity
from nubes.core.principal import Principal
from nubes.files.tree import service as files
from nubes.identity.users import directory
from nubes.search import service as documents
from nubes.search.schemas import (
    ContainerFound,
    ContainerGroup,
    DocumentFound,
    DocumentGroup,
    Everything,
    FileFound,
    FileGroup,
    PersonFound,
    PersonGroup,
    SnippetPart,
)

GROUP_LIMIT = 5
MAX_QUERY = 200
_NAME_SEPARATORS = re.compile(r"[\s._-]+")


def initials(name: str) -> str:
    """A person's avatar letters: the first letters of their first and last words, or the first two letters."""
    words = [word for word in _NAME_SEPARATORS.split(name.strip()) if word]
    letters = words[0][0] + words[-1][0] if len(words) > 1 else name.strip()[:2]
    return letters.upper() or "?"


async def _files(session: AsyncSession, principal: Principal, q: str, limit: int) -> FileGroup:
    rows = await files.search(session=session, principal=principal, query=q)
    found = [
        FileFound(
            id=row.id, kind="folder" if row.kind == "folder" else "file", name=row.name, parent_id=row.parent_id,
            content_type=row.content_type, size=row.size, updated_at=row.updated_at,
        )
        for row in rows[:limit]
    ]  # fmt: skip
    more = len(rows) > limit
    if len(found) < limit:  # then files of yours whose content holds the words (a shared one opens from Shared)
        answer = await documents.search(session, principal, q, limit=limit, kind="file")
        seen = {item.id for item in found}
        hits = [hit for hit in answer.hits if hit.file_id not in seen]
        known = await files.summaries(session=session, tenant_id=principal.tenant_id, file_ids=[hit.file_id for hit in hits])
        for hit in hits:
            file = known.get(hit.file_id)
            if file is None or file.owner_id != principal.user_id:
                continue
            if len(found) == limit:
                more = True
                break
            found.append(
                FileFound(
                    id=file.id, kind="file", name=file.name, parent_id=file.parent_id, content_type=file.content_type,
                    size=file.size, updated_at=file.updated_at,
                    snippet=[SnippetPart(**part) for part in documents.snippet_parts(hit.snippet)],
                )
            )  # fmt: skip
    return FileGroup(items=found, more=more)


async def _documents(session: AsyncSession, principal: Principal, q: str, limit: int) -> DocumentGroup:
    answer = await documents.search(session, principal, q, limit=limit, kind="document")
    hits, total = answer.hits, answer.total
    found = [
        DocumentFound(
            document_id=hit.document_id, file_id=hit.file_id, title=hit.title,
            snippet=[SnippetPart(**part) for part in documents.snippet_parts(hit.snippet)],
        )
        for hit in hits
    ]  # fmt: skip
    return DocumentGroup(items=found, more=total > len(found), total=total)


async def _containers(session: AsyncSession, principal: Principal, q: str, limit: int) -> ContainerGroup:
    rows = await containers.find_by_name(session=session, principal=principal, query=q, limit=limit + 1)
    found = [ContainerFound(id=row.id, name=row.name, state=row.state) for row in rows[:limit]]
    return ContainerGroup(items=found, more=len(rows) > limit)


async def _people(session: AsyncSession, principal: Principal, q: str, limit: int) -> PersonGroup:
    # The sharing picker's directory, and only what it shows: names and usernames of active members, never emails.
    entries = await directory.search(session=session, principal=principal, query=q, limit=limit + 1)
    users = [entry for entry in entries if entry.kind == "user"]
    found = [
        PersonFound(id=entry.id, name=entry.name, username=entry.detail, initials=initials(entry.name)) for entry in users[:limit]
    ]
    return PersonGroup(items=found, more=len(users) > limit)


async def search(*, session: AsyncSession, principal: Principal, q: str, limit: int = GROUP_LIMIT) -> Everything:
    """The first `limit` matches of `q` of each kind the principal may see (a kind it may not see is None)."""
    words = q.strip()
    if not words:
        raise UnprocessableEntity(
            "Type a word to search for.", errors=[FieldError(loc=["query", "q"], msg="only spaces", type="blank")]
        )
    return Everything(
        q=q,
        files=await _files(session, principal, words, limit) if principal.can("files.read") else None,
        documents=await _documents(session, principal, words, limit) if principal.can("documents.read") else None,
        containers=await _containers(session, principal, words, limit) if principal.can("containers.read") else None,
        people=await _people(session, principal, words, limit) if principal.can("files.share") else None,
    )

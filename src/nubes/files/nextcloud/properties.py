"""The `oc:` and `nc:` properties Nextcloud's clients ask PROPFIND for, as WebDAV live properties.

Registered with `dav.service.register_live` when this module is imported (the Nextcloud routes import it): file ids,
permissions by the caller's access, sizes, SHA256 checksums, favorites, the owner, no previews and no shares shown;
and a folder's `DAV:getetag` (RFC 4918 gives folders none), which changes when anything below it changes.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from nubes.core.principal import Principal
from nubes.files.dav import service as dav
from nubes.files.dav import xml
from nubes.files.tree import service as tree
from nubes.files.tree.models import FileNode
from nubes.identity.users import directory

OC = "http://owncloud.org/ns"
NC = "http://nextcloud.org/ns"

FILEID, ID, PERMISSIONS, SIZE = (OC, "fileid"), (OC, "id"), (OC, "permissions"), (OC, "size")
CHECKSUMS, FAVORITE, OWNER_ID = (OC, "checksums"), (OC, "favorite"), (OC, "owner-id")
OWNER_DISPLAY_NAME, SHARE_TYPES = (OC, "owner-display-name"), (OC, "share-types")
HAS_PREVIEW = (NC, "has-preview")
NAMES = frozenset(
    {FILEID, ID, PERMISSIONS, SIZE, CHECKSUMS, FAVORITE, OWNER_ID, OWNER_DISPLAY_NAME, SHARE_TYPES, HAS_PREVIEW, dav.GETETAG}
)


@dataclass(frozen=True, slots=True)
class Page:
    """What a page of entries needs: which of them the caller starred, and the caller's display name."""

    favorites: frozenset[uuid.UUID]
    owner_name: str
    folder_etags: dict[uuid.UUID, str]


async def prepare(session: AsyncSession, principal: Principal, node_ids: Sequence[uuid.UUID]) -> Page:
    """One query for the page's favorites, one for the owner's name (WebDAV serves only the caller's own tree)."""
    favorites = await tree.favorite_ids(session=session, principal=principal, node_ids=node_ids)
    names = await directory.user_names(session=session, tenant_id=principal.tenant_id, ids=[principal.user_id])
    return Page(
        favorites=frozenset(favorites),
        owner_name=names.get(principal.user_id, principal.username),
        folder_etags=await folder_etags(session=session, principal=principal, node_ids=node_ids),
    )


async def folder_etags(*, session: AsyncSession, principal: Principal, node_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """An ETag for each folder among `node_ids` that changes when anything below it changes (sync clients descend only
    into folders whose ETag moved): a digest of how many live nodes its subtree holds, their latest change, total size
    and versions. One recursive statement for the whole page; it reads every node below, so it costs the subtree's size.
    """
    top = (
        select(FileNode.id.label("top"), FileNode.id.label("id"))
        .where(
            FileNode.id.in_(list(node_ids)),
            FileNode.tenant_id == principal.tenant_id,
            FileNode.owner_id == principal.user_id,
            FileNode.kind != "file",
        )
        .cte("subtree", recursive=True)
    )
    child = aliased(FileNode)
    walk = top.union_all(select(top.c.top, child.id).where(child.parent_id == top.c.id, child.in_trash.is_(False)))
    node = aliased(FileNode)
    rows = await session.execute(
        select(walk.c.top, func.count(), func.max(node.updated_at), func.sum(node.size), func.sum(node.version_no))
        .join(node, node.id == walk.c.id)
        .group_by(walk.c.top)
    )
    etags: dict[uuid.UUID, str] = {}
    for top_id, count, changed, size, versions in rows:
        digest = hashlib.sha256(f"{top_id}:{count}:{changed}:{size}:{versions}".encode()).hexdigest()[:32]
        etags[top_id if isinstance(top_id, uuid.UUID) else uuid.UUID(str(top_id))] = f'"{digest}"'  # a CTE may lose the type
    return etags


def permissions(kind: str, principal: Principal) -> str:
    """Nextcloud's permission letters for an entry of the caller's own tree, narrowed by what the credential may do.

    G read, R reshare, D delete, N rename, V move, W write (files), C and K create files and folders (folders).
    """
    letters = "G" if principal.can("files.read") else ""
    if principal.can("files.share"):
        letters = "R" + letters
    if principal.can("files.write"):
        if kind == "root":
            letters += "CK"
        elif kind == "file":
            letters += "DNVW"
        else:
            letters += "DNVCK"
    return letters


def file_id(node_id: uuid.UUID) -> str:
    """The id clients keep for a file (`oc:fileid`, `oc:id`, the `OC-FileId` header)."""
    return node_id.hex


def _checksums(entry: dav.Entry) -> str | None:
    return f"<checksum>SHA256:{entry.sha256}</checksum>" if entry.kind == "file" and entry.sha256 else None


def _folder_etag(entry: dav.Entry, page: Page) -> str | None:
    etag = page.folder_etags.get(entry.id) if entry.kind != "file" else None
    return None if etag is None else xml.text(etag)


_RENDER: dict[xml.QName, Callable[[dav.Entry, Principal, Page], str | None]] = {
    dav.GETETAG: lambda entry, _principal, page: _folder_etag(entry, page),
    FILEID: lambda entry, _principal, _page: file_id(entry.id),
    ID: lambda entry, _principal, _page: file_id(entry.id),
    PERMISSIONS: lambda entry, principal, _page: permissions(entry.kind, principal),
    SIZE: lambda entry, _principal, _page: str(entry.size),
    CHECKSUMS: lambda entry, _principal, _page: _checksums(entry),
    FAVORITE: lambda entry, _principal, page: "1" if entry.id in page.favorites else "0",
    OWNER_ID: lambda _entry, principal, _page: xml.text(principal.username),
    OWNER_DISPLAY_NAME: lambda _entry, _principal, page: xml.text(page.owner_name),
    HAS_PREVIEW: lambda _entry, _principal, _page: "false",
    SHARE_TYPES: lambda _entry, _principal, _page: "",
}


def render(name: xml.QName, entry: dav.Entry, principal: Principal, page: Any) -> str | None:
    """One property's inner XML for an entry (None when it does not apply)."""
    assert isinstance(page, Page)  # noqa: S101 - `prepare` made it
    renderer = _RENDER.get(name)
    return None if renderer is None else renderer(entry, principal, page)


dav.register_live(dav.LiveExtension(names=NAMES, prepare=prepare, render=render))

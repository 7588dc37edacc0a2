"""Rules of thumbnails: reading the ready thumbnail of a file (an image, or a PDF's first page)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.core.errors import NotFound
from nubes.core.principal import Principal
from nubes.files.thumbnails.models import FileThumbnail
from nubes.files.tree import service as tree
from nubes.files.tree.models import FileNode


class ThumbnailNotReady(NotFound):
    """The thumbnail is being made; ask again in a moment (`Retry-After`)."""

    code, title = "thumbnail-not-ready", "Thumbnail not ready yet"


class ThumbnailUnavailable(NotFound):
    """This file has no thumbnail: not an image or a PDF, or one that could not be read safely."""

    code, title = "thumbnail-unavailable", "No thumbnail for this file"


async def get_thumbnail(*, session: AsyncSession, principal: Principal, node_id: uuid.UUID) -> tuple[FileNode, FileThumbnail]:
    """A ready thumbnail of one of the principal's files; 404 problems say why there is none (yet)."""
    node = await tree.get_or_raise(session=session, principal=principal, node_id=node_id)
    row = await session.scalar(
        select(FileThumbnail).where(FileThumbnail.file_id == node.id, FileThumbnail.tenant_id == principal.tenant_id)
    )
    if row is None or row.source_sha256 != node.sha256:
        raise ThumbnailUnavailable(
            f"{node.name!r} is not a kind that gets a thumbnail (PNG, JPEG, GIF, WebP, BMP, TIFF images; PDF documents)."
        )
    if row.state == "failed":
        raise ThumbnailUnavailable(f"No thumbnail could be made of {node.name!r}: {row.error or 'unreadable content'}.")
    if row.state != "ready" or row.blob_key is None:
        raise ThumbnailNotReady(f"The thumbnail of {node.name!r} is being made; ask again shortly.", headers={"Retry-After": "2"})
    return node, row


ThumbnailState = Literal["ready", "pending", "none"]


async def states(
    *, session: AsyncSession, tenant_id: uuid.UUID, contents: Mapping[uuid.UUID, str | None]
) -> dict[uuid.UUID, ThumbnailState]:
    """Where the thumbnail of each file's current content stands (for lists in other domains; one query).

    `contents` maps file ids to their content's SHA-256 (access is the caller's business: check it first). `none`:
    the file gets no thumbnail, or it could not be made (GET .../thumbnail says why).
    """
    found: dict[uuid.UUID, ThumbnailState] = dict.fromkeys(contents, "none")
    if not contents:
        return found
    rows = await session.execute(
        select(FileThumbnail.file_id, FileThumbnail.source_sha256, FileThumbnail.state).where(
            FileThumbnail.tenant_id == tenant_id, FileThumbnail.file_id.in_(list(contents))
        )
    )
    for file_id, sha256, state in rows:
        if sha256 == contents.get(file_id) and state in {"ready", "pending"}:
            found[file_id] = "ready" if state == "ready" else "pending"
    return found

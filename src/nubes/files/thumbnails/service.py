"""Rules of thumbnails: reading the ready thumbnail of a file."""

from __future__ import annotations

import uuid

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
    """This file has no thumbnail: not an image, or an image that could not be read safely."""

    code, title = "thumbnail-unavailable", "No thumbnail for this file"


async def get_thumbnail(*, session: AsyncSession, principal: Principal, node_id: uuid.UUID) -> tuple[FileNode, FileThumbnail]:
    """A ready thumbnail of one of the principal's files; 404 problems say why there is none (yet)."""
    node = await tree.get_or_raise(session=session, principal=principal, node_id=node_id)
    row = await session.scalar(
        select(FileThumbnail).where(FileThumbnail.file_id == node.id, FileThumbnail.tenant_id == principal.tenant_id)
    )
    if row is None or row.source_sha256 != node.sha256:
        raise ThumbnailUnavailable(f"{node.name!r} is not an image kind that gets a thumbnail (PNG, JPEG, GIF, WebP, BMP, TIFF).")
    if row.state == "failed":
        raise ThumbnailUnavailable(f"No thumbnail could be made of {node.name!r}: {row.error or 'unreadable image'}.")
    if row.state != "ready" or row.blob_key is None:
        raise ThumbnailNotReady(f"The thumbnail of {node.name!r} is being made; ask again shortly.", headers={"Retry-After": "2"})
    return node, row

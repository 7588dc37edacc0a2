"""Tables of WebDAV: the dead properties clients store on files and folders (RFC 4918 section 4)."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from nubes.core.db import Base


class DavProperty(Base):
    """One dead property of a node: its qualified name and its value, the property element as the client sent it.

    Deleted with the node (the foreign key cascades when a purge deletes it); a node in the trash keeps its properties,
    so a restore brings them back. COPY copies them.
    """

    __tablename__ = "file_dav_properties"

    node_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("file_nodes.id", ondelete="CASCADE"), primary_key=True)
    namespace: Mapped[str] = mapped_column(String(512), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    value: Mapped[str] = mapped_column(Text)  # the whole property element, serialized, with its namespace declarations

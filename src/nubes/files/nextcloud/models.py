"""Tables of the Nextcloud compatibility layer: Login Flow v2 requests and chunked-upload transfers."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from nubes.core.db import Base, utcnow


class LoginFlow(Base):
    """A client waiting for the browser to grant it an app password (Nextcloud Login Flow v2).

    Two random tokens, stored only hashed: the poll token, which only the client knows (it collects the password
    with it), and the login token in the URL the user opens. Pending until the user grants or denies; a granted
    flow holds the new app password sealed with the server key until the client collects it once, then the row goes.
    """

    __tablename__ = "nextcloud_login_flows"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    poll_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    login_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_name: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(10), default="pending")  # pending | granted | denied
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), default=None)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), default=None)
    login_name: Mapped[str] = mapped_column(String(255), default="")
    password_sealed: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class ChunkedTransfer(Base):
    """A chunked upload's folder (`/remote.php/dav/uploads/<user>/<name>`): its staged bytes are a `FileUpload`'s.

    Chunks that arrive in ascending order are appended to the upload's staging object as they come, so the final
    MOVE only seals it (a rename on disk): no assembly copy. A chunk that arrives out of order is staged on its own
    (`TransferChunk.staging_key`) and the MOVE then assembles once.
    """

    __tablename__ = "nextcloud_transfers"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    upload_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("file_uploads.id", ondelete="CASCADE"), unique=True)
    destination: Mapped[str] = mapped_column(Text, default="")  # the Destination given at MKCOL (v2), "" for v1
    total_length: Mapped[int | None] = mapped_column(BigInteger, default=None)  # OC-Total-Length, when given
    in_order: Mapped[bool] = mapped_column(Boolean, default=True)  # every chunk so far appended to the upload's bytes
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TransferChunk(Base):
    """One chunk of a transfer: its number (the name the client gave it), size, and where its bytes are."""

    __tablename__ = "nextcloud_transfer_chunks"

    transfer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("nextcloud_transfers.id", ondelete="CASCADE"), primary_key=True)
    number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(32))  # as the client spelled it (zero padded), for PROPFIND
    size: Mapped[int] = mapped_column(BigInteger)
    start: Mapped[int] = mapped_column(BigInteger, default=0)  # offset in the upload's bytes (appended chunks)
    staging_key: Mapped[str | None] = mapped_column(String(64), default=None)  # its own bytes (out of order)

"""The sessions, refresh tokens, personal access tokens and the access tokens' signing keys."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from nubes.core.db import Base, utcnow


class Session(Base):
    """A signed-in device: one refresh-token family. Revoking it ends every token of the family."""

    __tablename__ = "sessions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    revoke_reason: Mapped[str | None] = mapped_column(String(50), default=None)
    user_agent: Mapped[str] = mapped_column(String(500), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
    # When the user last proved who they are in this session (sign-in, or POST /api/auth/sudo): credential
    # changes need it recent ("sudo mode"), so a stolen cookie alone cannot take over the account.
    reauthenticated_at: Mapped[datetime | None] = mapped_column(default=None)


class RefreshToken(Base):
    """One refresh token of a session, stored as a hash; `used_at` is set when it is rotated."""

    __tablename__ = "refresh_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class PersonalAccessToken(Base):
    """A token a user makes for scripts and API clients: scoped, expiring, stored as a hash, shown once.

    `kind` "app" is an app password: a device's password for WebDAV and sync clients (HTTP Basic auth), made and
    revoked in the account page. It is a token like the others (scopes, hash, revocation, last use), so one lookup
    and one cache invalidation serve both; only where it is accepted differs. `kind` "oauth" is an app token: an
    access token the OAuth2 provider (nubes.apps.oauth) issued to `client_id` for the user, one hour long.
    """

    __tablename__ = "personal_access_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10), default="token", server_default="token")  # "token" | "app" | "oauth"
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # the first characters, to recognise a token in a list
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_ip: Mapped[str | None] = mapped_column(String(64), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    # Kind "oauth": the OAuth client (its public client_id) this app token was issued to, acting for the user.
    client_id: Mapped[str | None] = mapped_column(String(64), default=None, index=True)


class SigningKey(Base):
    """A key pair for access tokens; retired keys stay published until the tokens they signed expire."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(20))
    private_key: Mapped[str] = mapped_column(Text)  # PEM, encrypted with the server secret
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(default=None)


Index("ix_sessions_user_active", Session.user_id, Session.revoked_at)

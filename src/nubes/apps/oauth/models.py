"""Tables of the OAuth2/OpenID Connect provider: clients, pending authorizations, codes, grants (refresh-token
families), refresh tokens, client tokens and consents.

Access tokens for users are not here: they are `PersonalAccessToken` rows of kind "oauth" (with `client_id`), so
revocation, the principal cache and scope enforcement treat them as every other token.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nubes.core.db import Base, utcnow


class OAuthClient(Base):
    """An app that signs users in with Nubes (authorization code + PKCE) or calls it as itself (client credentials).

    `client_id` is public; the secret of a confidential client is stored as a hash and shown once. Redirect URIs are
    compared exactly.
    """

    __tablename__ = "oauth_clients"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    confidential: Mapped[bool] = mapped_column(Boolean)
    secret_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    redirect_uris: Mapped[list[str]] = mapped_column(JSON)
    post_logout_redirect_uris: Mapped[list[str]] = mapped_column(JSON)
    scopes: Mapped[list[str]] = mapped_column(JSON)  # the scopes it may ask for
    grant_types: Mapped[list[str]] = mapped_column(JSON)
    first_party: Mapped[bool] = mapped_column(Boolean, default=False)  # trusted: no consent screen
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    secret_rotated_at: Mapped[datetime | None] = mapped_column(default=None)


class OAuthAuthorizationRequest(Base):
    """An authorization waiting for its user's consent (the consent page reads it by id); 10 minutes."""

    __tablename__ = "oauth_authorization_requests"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # random: it names the request in the consent URL
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    client_pk: Mapped[uuid.UUID] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"), index=True)
    redirect_uri: Mapped[str] = mapped_column(String(2000))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    state: Mapped[str | None] = mapped_column(String(500), default=None)
    nonce: Mapped[str | None] = mapped_column(String(500), default=None)
    code_challenge: Mapped[str | None] = mapped_column(String(128), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class OAuthGrant(Base):
    """What one authorization gave one app for one user: a refresh-token family and the access tokens it issued.

    Revoking it (reuse of a spent refresh token, a replayed code, "Connected apps") ends every token of the family.
    """

    __tablename__ = "oauth_grants"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    client_pk: Mapped[uuid.UUID] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"), index=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    nonce: Mapped[str | None] = mapped_column(String(500), default=None)
    auth_time: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    revoke_reason: Mapped[str | None] = mapped_column(String(50), default=None)


class OAuthCode(Base):
    """An authorization code: single use, 60 seconds, stored as a hash; bound to its client, redirect URI and PKCE
    challenge. Redeeming it opens `grant_id`, so a replay can revoke what the first redemption issued."""

    __tablename__ = "oauth_codes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    client_pk: Mapped[uuid.UUID] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"), index=True)
    redirect_uri: Mapped[str] = mapped_column(String(2000))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    nonce: Mapped[str | None] = mapped_column(String(500), default=None)
    code_challenge: Mapped[str | None] = mapped_column(String(128), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    grant_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("oauth_grants.id", ondelete="SET NULL"), default=None)


class OAuthRefreshToken(Base):
    """One refresh token of a grant, stored as a hash; `used_at` is set when it is rotated. `access_token_id` is the
    app token issued with it (revoked with the family). A client without the refresh grant gets no refresh token: its
    row has no hash and only ties the app token to its grant."""

    __tablename__ = "oauth_refresh_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    grant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("oauth_grants.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    access_token_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("personal_access_tokens.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(default=None)


class OAuthClientToken(Base):
    """An access token of the client credentials grant: the client acting as itself, for no user.

    It is accepted by the provider's own endpoints (introspection) only, never by the API: a Principal is always a
    user, and a service token must not borrow one.
    """

    __tablename__ = "oauth_client_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    client_pk: Mapped[uuid.UUID] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class OAuthConsent(Base):
    """The scopes a user approved for an app; a later request within them needs no consent screen."""

    __tablename__ = "oauth_consents"
    __table_args__ = (UniqueConstraint("user_id", "client_pk"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    client_pk: Mapped[uuid.UUID] = mapped_column(ForeignKey("oauth_clients.id", ondelete="CASCADE"), index=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


Index("ix_oauth_grants_user_client", OAuthGrant.user_id, OAuthGrant.client_pk)

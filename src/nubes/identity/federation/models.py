"""External identity providers (platform-wide), the accounts linked to them, and the spent states and tickets."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nubes.core.db import Base, utcnow


class IdentityProvider(Base):
    """An OpenID Connect provider (or a partner app's ticket exchange) users may sign in with, in its allowed tenants."""

    __tablename__ = "identity_providers"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))  # oidc | ticket
    # oidc: the issuer (discovery at <issuer>/.well-known/openid-configuration); ticket: the exchange URL.
    issuer: Mapped[str] = mapped_column(String(500), default="")
    ticket_url: Mapped[str] = mapped_column(String(500), default="")
    client_id: Mapped[str] = mapped_column(String(255))
    client_secret: Mapped[str] = mapped_column(Text, default="")  # sealed with the server secret; never returned
    scopes: Mapped[str] = mapped_column(String(500), default="openid profile email")
    username_claim: Mapped[str] = mapped_column(String(100), default="preferred_username")
    email_claim: Mapped[str] = mapped_column(String(100), default="email")
    name_claim: Mapped[str] = mapped_column(String(100), default="name")
    groups_claim: Mapped[str] = mapped_column(String(100), default="groups")
    tenant_claim: Mapped[str] = mapped_column(String(100), default="")  # names the tenant (slug) when several are allowed
    allowed_tenant_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    jit_provisioning: Mapped[bool] = mapped_column(Boolean, default=False)
    jit_role: Mapped[str] = mapped_column(String(100), default="member")
    group_sync: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    button_label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FederatedIdentity(Base):
    """A Nubes account linked to one subject of one provider: the only way a provider's sign-in finds an account."""

    __tablename__ = "federated_identities"
    __table_args__ = (UniqueConstraint("provider_id", "subject"), UniqueConstraint("provider_id", "user_id"))

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_providers.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(String(255))
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)
    # The groups the provider's claim put the user in: sync takes the user out of these only, never out of others.
    synced_group_ids: Mapped[list[str]] = mapped_column(JSON, default=list)


class SpentFederationToken(Base):
    """A sign-in state or partner ticket already used (its hash): the same callback or ticket never works twice."""

    __tablename__ = "federation_spent_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)

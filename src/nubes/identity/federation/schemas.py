"""Request and response bodies for identity providers, linked accounts and the sign-in flow."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from nubes.identity.schemas import Slug

HttpUrl = Annotated[str, Field(max_length=500, pattern=r"^https?://[^\s/?#]+[^\s#]*$", description="An http(s) URL.")]
Claim = Annotated[str, Field(max_length=100, pattern=r"^[A-Za-z0-9_.:/-]*$", description="A claim name ('' to ignore).")]
ProviderKind = Literal["oidc", "ticket"]


class ProviderFields(BaseModel):
    """What an admin sets on a provider (the secret is write-only)."""

    name: str = Field(min_length=1, max_length=100)
    issuer: HttpUrl | Literal[""] = Field(default="", description="oidc: the issuer; its discovery document is fetched.")
    ticket_url: HttpUrl | Literal[""] = Field(default="", description="ticket: where tickets are exchanged for claims.")
    client_id: str = Field(min_length=1, max_length=255)
    scopes: str = Field(default="openid profile email", max_length=500, pattern=r"^[\x21-\x7e ]*$")
    username_claim: Claim = "preferred_username"
    email_claim: Claim = "email"
    name_claim: Claim = "name"
    groups_claim: Claim = "groups"
    tenant_claim: Claim = Field(default="", description="Names the tenant (its slug) when several are allowed.")
    allowed_tenant_ids: list[uuid.UUID] = Field(default_factory=list, max_length=100)
    jit_provisioning: bool = Field(default=False, strict=True)
    jit_role: str = Field(default="member", min_length=1, max_length=100)
    group_sync: bool = Field(default=False, strict=True, description="Put users in the tenant's existing groups the claim names.")
    enabled: bool = Field(default=True, strict=True)
    button_label: str = Field(default="", max_length=100)


class ProviderCreate(ProviderFields):
    """A new provider."""

    slug: Slug
    kind: ProviderKind = "oidc"
    client_secret: str = Field(default="", max_length=1000)


class ProviderUpdate(BaseModel):
    """Changes to a provider; a field left out stays; `client_secret` replaces the stored one when given."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    issuer: HttpUrl | Literal[""] | None = None
    ticket_url: HttpUrl | Literal[""] | None = None
    client_id: str | None = Field(default=None, min_length=1, max_length=255)
    client_secret: str | None = Field(default=None, max_length=1000)
    scopes: str | None = Field(default=None, max_length=500, pattern=r"^[\x21-\x7e ]*$")
    username_claim: Claim | None = None
    email_claim: Claim | None = None
    name_claim: Claim | None = None
    groups_claim: Claim | None = None
    tenant_claim: Claim | None = None
    allowed_tenant_ids: list[uuid.UUID] | None = Field(default=None, max_length=100)
    jit_provisioning: bool | None = Field(default=None, strict=True)
    jit_role: str | None = Field(default=None, min_length=1, max_length=100)
    group_sync: bool | None = Field(default=None, strict=True)
    enabled: bool | None = Field(default=None, strict=True)
    button_label: str | None = Field(default=None, max_length=100)


class ProviderRead(BaseModel):
    """A provider as admins see it: everything but the secret (only whether one is set)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    slug: str
    name: str
    kind: str
    issuer: str
    ticket_url: str
    client_id: str
    has_client_secret: bool
    scopes: str
    username_claim: str
    email_claim: str
    name_claim: str
    groups_claim: str
    tenant_claim: str
    allowed_tenant_ids: list[uuid.UUID]
    jit_provisioning: bool
    jit_role: str
    group_sync: bool
    enabled: bool
    button_label: str
    created_at: datetime
    redirect_uri: str = Field(description="What to register at the provider as this client's redirect URI.")


class ProviderButton(BaseModel):
    """A provider the sign-in page offers."""

    slug: str
    name: str
    label: str
    kind: str


class DiscoveryRequest(BaseModel):
    """An issuer to try before saving it."""

    issuer: HttpUrl


class DiscoveryRead(BaseModel):
    """What the issuer's discovery document says (or why it could not be read)."""

    ok: bool
    issuer: str = ""
    authorization_endpoint: str = ""
    token_endpoint: str = ""
    userinfo_endpoint: str = ""
    jwks_uri: str = ""
    error: str = ""


class LinkedProviderRead(BaseModel):
    """A provider on the account page: linked or not, with when."""

    slug: str
    name: str
    label: str
    kind: str
    linked: bool
    linked_at: datetime | None = None
    last_login_at: datetime | None = None


class LinkStart(BaseModel):
    """Where to send the browser to link a provider (the flow is bound to this session by a cookie)."""

    authorize_url: str


class LinkRequest(BaseModel):
    """Where to come back after linking."""

    next: str = Field(default="/account", max_length=500)

"""What the OAuth provider's /api routes read and answer: clients (admins), pending authorizations (the consent
page) and connected apps (the account page)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from nubes.apps.oauth import scopes as scope_table

GrantType = Literal["authorization_code", "refresh_token", "client_credentials"]
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})


def _redirect_uri(value: str) -> str:
    parts = urlsplit(value)
    if parts.fragment or "#" in value:
        raise ValueError("a redirect URI has no fragment (#...)")
    if parts.scheme == "https" and parts.hostname:
        return value
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return value
    raise ValueError("use https://, or http:// on localhost or 127.0.0.1 only")


def _scope(value: str) -> str:
    if not scope_table.is_known(value):
        raise ValueError(f"unknown scope {value!r}")
    return value


def _default_grant_types() -> list[GrantType]:
    return ["authorization_code", "refresh_token"]


RedirectUri = Annotated[str, Field(min_length=8, max_length=2000), AfterValidator(_redirect_uri)]
Scope = Annotated[str, Field(min_length=1, max_length=scope_table.MAX_SCOPE_LENGTH), AfterValidator(_scope)]


class ClientBase(BaseModel):
    """What an admin sets on an OAuth client."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    redirect_uris: list[RedirectUri] = Field(default_factory=list, max_length=20)
    post_logout_redirect_uris: list[RedirectUri] = Field(default_factory=list, max_length=20)
    scopes: list[Scope] = Field(default_factory=lambda: ["openid", "profile", "email"], max_length=scope_table.MAX_SCOPES)
    grant_types: list[GrantType] = Field(default_factory=_default_grant_types, min_length=1, max_length=3)
    first_party: bool = Field(
        default=False, strict=True, description="A trusted app of this install: its users see no consent screen."
    )


class ClientCreate(ClientBase):
    """A new client; a confidential one gets a secret (shown once), a public one (a SPA, a mobile app) must use PKCE."""

    confidential: bool = Field(default=True, strict=True)


class ClientUpdate(BaseModel):
    """The fields an admin may change (the kind of client stays)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100)
    redirect_uris: list[RedirectUri] | None = Field(default=None, max_length=20)
    post_logout_redirect_uris: list[RedirectUri] | None = Field(default=None, max_length=20)
    scopes: list[Scope] | None = Field(default=None, max_length=scope_table.MAX_SCOPES)
    grant_types: list[GrantType] | None = Field(default=None, min_length=1, max_length=3)
    first_party: bool | None = Field(default=None, strict=True)


class ClientRead(BaseModel):
    """An OAuth client as admins see it (never its secret)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    client_id: str
    name: str
    confidential: bool
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    scopes: list[str]
    grant_types: list[str]
    first_party: bool
    created_at: datetime
    secret_rotated_at: datetime | None


class ClientCreated(ClientRead):
    """A client just made (or its secret just rotated): `client_secret` is shown this once."""

    client_secret: str | None = None


class ScopeRead(BaseModel):
    """One scope and what it lets an app do, in plain words."""

    scope: str
    description: str


class AuthorizationRead(BaseModel):
    """A pending authorization, as the consent page shows it."""

    id: str
    client_name: str
    client_id: str
    first_party: bool
    redirect_host: str
    scopes: list[ScopeRead]
    expires_at: datetime


class AuthorizationDecision(BaseModel):
    """Where the browser goes next: the app's redirect URI with a code, or with `error=access_denied`."""

    redirect_to: str


class ConnectedAppRead(BaseModel):
    """An app the user connected to their account."""

    id: uuid.UUID = Field(description="The OAuth client's id (the revoke route's parameter).")
    client_id: str
    name: str
    scopes: list[ScopeRead]
    connected_at: datetime
    last_used_at: datetime | None

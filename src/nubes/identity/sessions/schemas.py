"""Request and response bodies for sign-in, sessions, personal access tokens and sudo mode."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from nubes.identity.mfa.schemas import PasskeyLogin
from nubes.identity.roles.schemas import PermissionCode
from nubes.identity.schemas import Password


class LoginRequest(BaseModel):
    """Sign in with a username (or email) and password."""

    username: str = Field(min_length=1, max_length=320, description="Username or email address.")
    password: Password


class RefreshRequest(BaseModel):
    """Trade a refresh token for a new pair; browsers send it as a cookie and leave this empty."""

    refresh_token: str | None = Field(default=None, max_length=200)


class TokenPair(BaseModel):
    """What a successful sign-in or refresh returns (browsers also get the same tokens as httpOnly cookies)."""

    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int = Field(description="Seconds until the access token expires.")


class SessionRead(BaseModel):
    """A signed-in device."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    user_agent: str
    ip: str
    current: bool = False


class AccessTokenCreate(BaseModel):
    """A personal access token: what it may do (a subset of your permissions) and for how long."""

    name: str = Field(min_length=1, max_length=100, description="What it is for, e.g. 'backup script'.")
    scopes: list[PermissionCode] = Field(min_length=1, description="Permissions the token carries (never more than yours).")
    expires_in_days: int | None = Field(default=90, ge=1, le=3650, description="Null for a token that does not expire.")


class AccessTokenRead(BaseModel):
    """A personal access token as listed (never the token itself)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


class AccessTokenCreated(AccessTokenRead):
    """A new token: `token` is shown this once; store it now."""

    token: str


APP_PASSWORD_SCOPES: list[str] = ["files.read", "files.write"]


class AppPasswordCreate(BaseModel):
    """An app password for one device: its name and what it may do (files by default; never more than you may)."""

    name: str = Field(min_length=1, max_length=100, description="The device or client, e.g. 'laptop (Nextcloud client)'.")
    scopes: list[PermissionCode] = Field(
        default_factory=lambda: list(APP_PASSWORD_SCOPES),
        min_length=1,
        description="Permissions the app password carries (never more than yours).",
    )


class AppPasswordRead(BaseModel):
    """An app password as listed (never the password itself)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    last_used_ip: str | None


class AppPasswordCreated(AppPasswordRead):
    """A new app password: `password` is shown this once; paste it with `username` and `webdav_url` into the client."""

    password: str
    username: str
    webdav_url: str = Field(description="The address of your files over WebDAV, for the client's server field.")


class AuthOptions(BaseModel):
    """What the sign-in page may offer on this server."""

    registration_enabled: bool
    email_verification_required: bool = Field(description="New accounts confirm their address before they can sign in.")
    password_reset: bool = Field(description="Reset links go out by mail (or to the server log when no SMTP is set).")
    passkeys: bool = True


class SudoRequest(BaseModel):
    """One proof that it is you: your password, a passkey assertion, or a code from your authenticator app."""

    password: Password | None = None
    passkey: PasskeyLogin | None = None
    code: str | None = Field(default=None, min_length=6, max_length=32, description="A TOTP or recovery code.")

    @model_validator(mode="after")
    def _exactly_one(self) -> SudoRequest:
        given = [name for name in ("password", "passkey", "code") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("Give exactly one of password, passkey or code.")
        return self


class SudoRead(BaseModel):
    """Until when credential changes are allowed in this session without confirming again."""

    expires_at: datetime

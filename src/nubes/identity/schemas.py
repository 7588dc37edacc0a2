"""Pydantic shapes of the identity API."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,62}")
_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def _username(value: str) -> str:
    value = value.strip().lower()
    if not _USERNAME.fullmatch(value):
        raise ValueError("use 2-63 characters: letters, digits, '.', '_' or '-', starting with a letter or digit")
    return value


def _slug(value: str) -> str:
    if not _SLUG.fullmatch(value):
        raise ValueError("use 1-63 lower-case letters, digits and '-', not starting or ending with '-'")
    return value


def _email(value: str) -> str:
    try:
        # No DNS look-ups (a self-hosted install may have no resolver for the domain); `.test` allowed.
        checked = validate_email(value, check_deliverability=False, test_environment=True, globally_deliverable=False)
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid email address: {exc}") from None
    return checked.normalized.lower()


def _iso_datetime(value: object) -> object:
    """Only ISO 8601 text (what the schema promises); a bare number is not a time. Naive means UTC."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError("use an ISO 8601 date-time such as 2026-11-22T08:00:00Z")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("use an ISO 8601 date-time such as 2026-11-22T08:00:00Z") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


Username = Annotated[str, AfterValidator(_username)]
Email = Annotated[str, Field(max_length=320, json_schema_extra={"format": "email"}), AfterValidator(_email)]
NewPassword = Annotated[str, Field(min_length=12, max_length=1024, description="At least 12 characters, not a common password.")]
IsoDateTime = Annotated[datetime, BeforeValidator(_iso_datetime)]
Slug = Annotated[str, AfterValidator(_slug)]
Password = Annotated[str, Field(min_length=1, max_length=1024)]


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


class TenantRead(BaseModel):
    """A tenant as users see it."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    slug: str
    name: str
    status: str


class RoleRef(BaseModel):
    """A role by id and name."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str


class UserRead(BaseModel):
    """A user as admins and the user see them (never the password hash)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    tenant_id: uuid.UUID
    username: str
    email: str | None
    display_name: str
    is_active: bool
    is_superadmin: bool
    created_at: datetime
    last_login_at: datetime | None


class Me(BaseModel):
    """The signed-in user, their tenant, roles and effective permissions."""

    user: UserRead
    tenant: TenantRead
    roles: list[RoleRef]
    permissions: list[str]


class UserCreate(BaseModel):
    """A new user; super-admins may place them in another tenant."""

    username: Username
    email: Email | None = None
    display_name: str = Field(default="", max_length=200)
    password: NewPassword
    roles: list[str] = Field(default_factory=lambda: ["member"], description="Role names in the user's tenant.")
    tenant_id: uuid.UUID | None = Field(default=None, description="Super-admins only; default: your tenant.")


class UserUpdate(BaseModel):
    """Changes to a user; `is_active: false` deactivates them and ends all their sessions at once."""

    display_name: str | None = Field(default=None, max_length=200)
    email: Email | None = None
    is_active: bool | None = None
    roles: list[str] | None = None


class UserPage(BaseModel):
    """One page of users."""

    items: list[UserRead]
    total: int


class PasswordChange(BaseModel):
    """Change your own password; every other session of yours ends."""

    current_password: Password
    new_password: NewPassword


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


class PermissionRead(BaseModel):
    """One entry of the permission catalog."""

    code: str
    description: str


class AuditEventRead(BaseModel):
    """One audit row."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    created_at: datetime
    tenant_id: uuid.UUID | None
    actor_id: uuid.UUID | None
    actor_name: str
    action: str
    target_type: str
    target_id: str
    outcome: str
    ip: str
    user_agent: str
    detail: dict[str, object]


class AuditPage(BaseModel):
    """One page of audit rows, newest first."""

    items: list[AuditEventRead]
    total: int

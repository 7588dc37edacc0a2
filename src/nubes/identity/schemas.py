"""Pydantic shapes of the identity API."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, model_validator

from nubes.identity import permissions

# The schema states these patterns exactly, so clients (and schemathesis) know what is accepted.
USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{1,62}$"
SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"


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


Username = Annotated[
    str,
    Field(pattern=USERNAME_PATTERN, description="2-63 letters, digits, '.', '_' or '-'; stored lower-case."),
    AfterValidator(str.lower),
]
Email = Annotated[str, Field(max_length=320, json_schema_extra={"format": "email"}), AfterValidator(_email)]
NewPassword = Annotated[str, Field(min_length=12, max_length=1024, description="At least 12 characters, not a common password.")]
IsoDateTime = Annotated[datetime, BeforeValidator(_iso_datetime)]
Slug = Annotated[str, Field(pattern=SLUG_PATTERN, description="1-63 lower-case letters, digits and '-'.")]
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
    email_verified_at: datetime | None = None
    created_at: datetime
    last_login_at: datetime | None


class UserAdminRead(UserRead):
    """A user as tenant admins see them: with the roles assigned to them directly."""

    roles: list[str] = Field(default_factory=list, description="Names of the roles assigned to the user (not via groups).")


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

    items: list[UserAdminRead]
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


class TenantCreate(BaseModel):
    """A new tenant (organization); it gets the built-in roles."""

    name: str = Field(min_length=1, max_length=200)
    slug: Slug


class TenantUpdate(BaseModel):
    """Rename a tenant or suspend it (suspension ends its users' sessions)."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    status: Literal["active", "suspended"] | None = None


class TenantDetail(TenantRead):
    """A tenant with its size."""

    created_at: datetime
    users: int = 0


RoleName = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9_.-]*$")]


def _known_permission(value: str) -> str:
    if value not in permissions.CODES:
        raise ValueError("unknown permission; GET /api/admin/permissions lists them")
    return value


PermissionCode = Annotated[str, Field(json_schema_extra={"enum": sorted(permissions.CODES)}), AfterValidator(_known_permission)]


class RoleRead(BaseModel):
    """A role: its own permissions, the role it inherits, whether it is built in."""

    id: uuid.UUID
    name: str
    description: str
    parent_id: uuid.UUID | None
    builtin: bool
    permissions: list[str] = Field(description="Granted by this role itself (inherited ones not repeated).")
    effective_permissions: list[str] = Field(description="Everything holding this role grants, inherited included.")


class RoleCreate(BaseModel):
    """A custom role."""

    name: RoleName
    description: str = Field(default="", max_length=500)
    parent: RoleName | None = Field(default=None, description="Name of a role to inherit from.")
    permissions: list[PermissionCode] = Field(default_factory=list)


class RoleUpdate(BaseModel):
    """Changes to a custom role (built-in roles cannot change)."""

    description: str | None = Field(default=None, max_length=500)
    parent: RoleName | None = None
    permissions: list[PermissionCode] | None = None


class GroupRead(BaseModel):
    """A group with its roles and how many members it has."""

    id: uuid.UUID
    name: str
    description: str
    roles: list[RoleRef]
    members: int


class GroupCreate(BaseModel):
    """A new group."""

    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=500)
    roles: list[RoleName] = Field(default_factory=list)


class GroupUpdate(BaseModel):
    """Changes to a group."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    roles: list[RoleName] | None = None


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


# --- account security: registration, mailed links, second factor, passkeys -----------------------

OneTimeToken = Annotated[str, Field(min_length=1, max_length=200, description="The token from the link or the previous step.")]


class AuthOptions(BaseModel):
    """What the sign-in page may offer on this server."""

    registration_enabled: bool
    email_verification_required: bool = Field(description="New accounts confirm their address before they can sign in.")
    password_reset: bool = Field(description="Reset links go out by mail (or to the server log when no SMTP is set).")
    passkeys: bool = True


class RegistrationSettings(BaseModel):
    """Whether people may create their own account, and where new accounts land."""

    enabled: StrictBool = Field(default=False, description="Off by default: only admins create accounts.")
    tenant_slug: str = Field(default="default", min_length=1, max_length=63, description="The tenant new accounts join.")
    role: str = Field(default="member", min_length=1, max_length=100, description="The role new accounts get there.")
    require_email_verification: StrictBool = Field(
        default=True, description="New accounts sign in only after opening the link mailed to them."
    )


class RegisterRequest(BaseModel):
    """Create your own account (when an admin has turned registration on)."""

    username: Username
    email: Email
    password: NewPassword
    display_name: str = Field(default="", max_length=200)


class EmailRequest(BaseModel):
    """An address to mail a link to; the answer is the same whether an account uses it or not."""

    email: Email


class TokenRequest(BaseModel):
    """A one-time token from a mailed link."""

    token: OneTimeToken


class PasswordReset(BaseModel):
    """A new password, with the token from the reset link."""

    token: OneTimeToken
    new_password: NewPassword


class MfaLogin(BaseModel):
    """The second sign-in step: the token from the first and a code from the app (or a recovery code)."""

    mfa_token: OneTimeToken
    code: str = Field(min_length=6, max_length=32, description="6 digits from the authenticator app, or a recovery code.")


class TotpEnrollmentRead(BaseModel):
    """A new authenticator secret: scan the QR code (or type the secret), then confirm with a code."""

    secret: str
    otpauth_uri: str
    qr_svg_data_uri: str


class TotpCode(BaseModel):
    code: str = Field(min_length=6, max_length=6, pattern=r"^\d{6}$", description="6 digits from the authenticator app.")


class TotpStatus(BaseModel):
    enabled: bool
    recovery_codes_left: int


class RecoveryCodes(BaseModel):
    """One-time codes for when the authenticator is lost; shown only now, keep them somewhere safe."""

    codes: list[str]


class CurrentPassword(BaseModel):
    """Your current password, to confirm a sensitive change."""

    password: Password


class PasskeyOptions(BaseModel):
    """WebAuthn options for the browser (`PublicKeyCredential.parse*OptionsFromJSON`) and the token to send back."""

    token: str
    public_key: dict[str, object]


class PasskeyCreate(BaseModel):
    """The credential the browser created (`credential.toJSON()`), with a name to recognise it by."""

    token: OneTimeToken
    name: str = Field(default="Passkey", min_length=1, max_length=100)
    credential: dict[str, object]


class PasskeyLogin(BaseModel):
    """The assertion the browser made (`credential.toJSON()`)."""

    token: OneTimeToken
    credential: dict[str, object]


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


class PasskeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    created_at: datetime
    last_used_at: datetime | None


class PasskeyUpdate(BaseModel):
    name: str = Field(min_length=1, max_length=100)

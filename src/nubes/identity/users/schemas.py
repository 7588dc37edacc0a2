"""Request and response bodies for users, sign-up, mailed links and the directory."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from nubes.identity.roles.schemas import RoleRef
from nubes.identity.schemas import Email, NewPassword, OneTimeToken, Password, Username
from nubes.identity.tenants.schemas import TenantRead


class DirectoryEntry(BaseModel):
    """A user or group of your organization you can share with."""

    id: uuid.UUID
    kind: Literal["user", "group"]
    name: str
    detail: str = Field(description="The username of a user, the description of a group.")


class DirectoryPage(BaseModel):
    """People and groups matching a search."""

    items: list[DirectoryEntry]


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
    pending_email: str | None = Field(
        default=None, description="A new address waiting for its owner to confirm it; `email` stays in use until then."
    )
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
    email: Email | None = Field(
        default=None,
        description="A new address: it waits in `pending_email` until a link mailed to it is opened; the old one is told.",
    )
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


class CurrentPassword(BaseModel):
    """Your current password, to confirm a sensitive change."""

    password: Password

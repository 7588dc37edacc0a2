"""Routes for the current user, user administration, sign-up, mailed links and the directory."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query, Request

from nubes.core.db import SessionDep
from nubes.core.pagination import Limit, Offset
from nubes.core.principal import Principal
from nubes.core.ratelimit import RateLimiter
from nubes.core.routing import api_router
from nubes.identity.deps import (
    AnyPrincipal,
    LimiterDep,
    MailDep,
    OriginDep,
    SessionPrincipal,
    SettingsDep,
    SudoPrincipal,
    SuperAdmin,
    browser_only_from_here,
    require,
    send_mail_after_commit,
)
from nubes.identity.roles import catalog
from nubes.identity.roles import service as roles_service
from nubes.identity.roles.schemas import RoleRef
from nubes.identity.sessions import service as sessions_service
from nubes.identity.tenants.schemas import TenantRead
from nubes.identity.users import service
from nubes.identity.users.directory import search
from nubes.identity.users.models import User
from nubes.identity.users.schemas import (
    DirectoryPage,
    EmailRequest,
    Me,
    PasswordChange,
    PasswordReset,
    RegisterRequest,
    RegistrationSettings,
    TokenRequest,
    UserAdminRead,
    UserCreate,
    UserPage,
    UserRead,
    UserUpdate,
)

router = api_router()


@router.get("/users/me", operation_id="users-me", response_model=Me, tags=["users"], summary="Who am I")
async def me(request: Request, principal: AnyPrincipal) -> Me:
    """The signed-in user, their tenant, roles and effective permissions."""
    identity: sessions_service.Identity = request.state.identity
    return Me(
        user=UserRead.model_validate(identity.user),
        tenant=TenantRead.model_validate(identity.tenant),
        roles=[RoleRef(id=role_id, name=name) for role_id, name in identity.roles],
        permissions=sorted(principal.permissions | (catalog.CODES if principal.is_superadmin else frozenset())),
    )


@router.post(
    "/users/me/password", operation_id="users-me-password", status_code=204, tags=["users"], summary="Change my password"
)
async def change_my_password(
    change: PasswordChange, session: SessionDep, settings: SettingsDep, principal: SudoPrincipal, origin: OriginDep
) -> None:
    """Set a new password (the current one is required); every other session of yours ends."""
    await service.change_password(session=session, settings=settings, principal=principal, change=change, origin=origin)


AdminUsers = Annotated[Principal, Depends(require("admin.users"))]


@router.get("/admin/users", operation_id="admin-users-list", response_model=UserPage, tags=["admin"], summary="List users")
async def list_users(
    session: SessionDep,
    principal: AdminUsers,
    q: Annotated[str | None, Query(max_length=100, description="Part of a username, email or name.")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> UserPage:
    """Users of your tenant, by username."""
    users, total = await service.list_users(session=session, principal=principal, query=q, limit=limit, offset=offset)
    return UserPage(items=await _admin_reads(session, users), total=total)


async def _admin_reads(session: SessionDep, users: list[User]) -> list[UserAdminRead]:
    roles = await roles_service.role_names(session=session, user_ids=[user.id for user in users])
    # Built from UserRead, not from the row: the row's `roles` relationship is never lazy-loaded.
    return [UserAdminRead(**UserRead.model_validate(user).model_dump(), roles=roles[user.id]) for user in users]


@router.post(
    "/admin/users",
    operation_id="admin-users-create",
    response_model=UserAdminRead,
    status_code=201,
    tags=["admin"],
    summary="Create a user",
)
async def create_user(
    user_in: UserCreate, session: SessionDep, settings: SettingsDep, principal: AdminUsers, origin: OriginDep
) -> UserAdminRead:
    """A new user in your tenant with the roles named (super-admins may name another tenant)."""
    user = await service.create_user(session=session, settings=settings, principal=principal, user_in=user_in, origin=origin)
    return (await _admin_reads(session, [user]))[0]


@router.get(
    "/admin/users/{user_id}", operation_id="admin-users-get", response_model=UserAdminRead, tags=["admin"], summary="One user"
)
async def get_user(user_id: uuid.UUID, session: SessionDep, principal: AdminUsers) -> UserAdminRead:
    """A user of your tenant."""
    user = await service.get_user(session=session, principal=principal, user_id=user_id)
    return (await _admin_reads(session, [user]))[0]


@router.patch(
    "/admin/users/{user_id}",
    operation_id="admin-users-update",
    response_model=UserAdminRead,
    tags=["admin"],
    summary="Change a user",
)
async def update_user(
    user_id: uuid.UUID,
    user_in: UserUpdate,
    session: SessionDep,
    settings: SettingsDep,
    principal: AdminUsers,
    origin: OriginDep,
    mail: MailDep,
) -> UserAdminRead:
    """Change a user you outrank: name, roles, status, or email (pending until the new address confirms it)."""
    user = await service.update_user(
        session=session, settings=settings, principal=principal, user_id=user_id, user_in=user_in, origin=origin
    )
    send_mail_after_commit(session, mail)
    return (await _admin_reads(session, [user]))[0]


async def _count_mail_request(limiter: RateLimiter, settings: SettingsDep, origin: OriginDep, email: str) -> None:
    """Mail requests count per IP and per address (nobody floods one mailbox from many addresses)."""
    await limiter.hit("mail-ip", origin.ip, settings.login_rate_limit)
    await limiter.hit("mail-address", email, settings.login_rate_limit)


@router.post(
    "/auth/register",
    operation_id="auth-register",
    response_model=UserRead,
    status_code=201,
    tags=["auth"],
    summary="Create your own account (when registration is on)",
)
async def register(
    body: RegisterRequest,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    origin: OriginDep,
    limiter: LimiterDep,
    mail: MailDep,
) -> UserRead:
    """A new account in the tenant the admin chose; a link to confirm the address goes out by mail."""
    browser_only_from_here(request, settings, "Sign-up")
    await limiter.hit("register-ip", origin.ip, settings.login_rate_limit)
    user = await service.register(
        session=session,
        settings=settings,
        username=body.username,
        email=body.email,
        password=body.password,
        display_name=body.display_name,
        origin=origin,
    )
    send_mail_after_commit(session, mail)
    return UserRead.model_validate(user)


@router.post(
    "/auth/verify-email",
    operation_id="auth-verify-email",
    status_code=204,
    tags=["auth"],
    summary="Confirm an email address with the mailed token",
)
async def verify_email(
    body: TokenRequest, session: SessionDep, origin: OriginDep, limiter: LimiterDep, settings: SettingsDep
) -> None:
    await limiter.hit("link-ip", origin.ip, settings.login_rate_limit)
    await service.verify_email(session=session, token=body.token, origin=origin)


@router.post(
    "/auth/verify-email/request",
    operation_id="auth-verify-email-request",
    status_code=202,
    tags=["auth"],
    summary="Mail a new confirmation link",
)
async def request_verification(
    body: EmailRequest,
    session: SessionDep,
    settings: SettingsDep,
    origin: OriginDep,
    limiter: LimiterDep,
    mail: MailDep,
) -> None:
    """Answers 202 whether or not an account uses the address (nobody learns which addresses exist)."""
    await _count_mail_request(limiter, settings, origin, body.email)
    await service.request_email_verification(session=session, settings=settings, email=body.email, origin=origin)
    send_mail_after_commit(session, mail)


@router.post(
    "/auth/password-reset/request",
    operation_id="auth-password-reset-request",
    status_code=202,
    tags=["auth"],
    summary="Mail a password reset link",
)
async def request_reset(
    body: EmailRequest,
    session: SessionDep,
    settings: SettingsDep,
    origin: OriginDep,
    limiter: LimiterDep,
    mail: MailDep,
) -> None:
    """Answers 202 whether or not an account uses the address (nobody learns which addresses exist)."""
    await _count_mail_request(limiter, settings, origin, body.email)
    await service.request_password_reset(session=session, settings=settings, email=body.email, origin=origin)
    send_mail_after_commit(session, mail)


@router.post(
    "/auth/password-reset",
    operation_id="auth-password-reset",
    status_code=204,
    tags=["auth"],
    summary="Set a new password with the mailed token",
)
async def reset_password(
    body: PasswordReset, session: SessionDep, settings: SettingsDep, origin: OriginDep, limiter: LimiterDep
) -> None:
    """Sets the password and ends every session of the account (sign in again with the new password)."""
    await limiter.hit("link-ip", origin.ip, settings.login_rate_limit)
    await service.reset_password(
        session=session, settings=settings, token=body.token, new_password=body.new_password, origin=origin
    )


@router.post(
    "/users/me/email/verify",
    operation_id="users-me-email-verify",
    status_code=202,
    tags=["users"],
    summary="Mail me a link to confirm my address",
)
async def send_my_verification(session: SessionDep, settings: SettingsDep, principal: SessionPrincipal, mail: MailDep) -> None:
    await service.send_my_verification(session=session, settings=settings, principal=principal)
    send_mail_after_commit(session, mail)


@router.get(
    "/admin/settings/registration",
    operation_id="admin-settings-registration",
    response_model=RegistrationSettings,
    tags=["admin"],
    summary="Self-registration policy",
)
async def get_registration(session: SessionDep, _: SuperAdmin) -> RegistrationSettings:
    return await service.registration_settings(session=session)


@router.put(
    "/admin/settings/registration",
    operation_id="admin-settings-registration-update",
    response_model=RegistrationSettings,
    tags=["admin"],
    summary="Turn self-registration on or off",
)
async def put_registration(
    body: RegistrationSettings, session: SessionDep, principal: SuperAdmin, origin: OriginDep
) -> RegistrationSettings:
    return await service.set_registration_settings(session=session, principal=principal, value=body, origin=origin)


@router.get(
    "/directory",
    operation_id="directory-search",
    response_model=DirectoryPage,
    tags=["users"],
    summary="Find people and groups of your organization (to share with)",
)
async def directory(
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("files.share"))],
    q: Annotated[str, Query(max_length=100, description="Part of a username, display name or group name.")] = "",
) -> DirectoryPage:
    return DirectoryPage(items=await search(session=session, principal=principal, query=q))

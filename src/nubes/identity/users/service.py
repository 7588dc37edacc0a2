"""Users: creating and changing them, the password policy, self-registration and the mailed one-time links
(verify an address, reset a password).

Every mailed token is stored hashed and consumed by one conditional UPDATE, so it works exactly once even under
concurrent use."""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core import audit, mail
from nubes.core.audit import Origin
from nubes.core.db import like_contains, utcnow
from nubes.core.errors import Conflict, FieldError, Forbidden, NotFound, Unauthorized, UnprocessableEntity
from nubes.core.principal import Principal
from nubes.identity.roles.models import Role, UserRole
from nubes.identity.roles.service import (
    bump_roles_version,
    check_can_grant,
    check_rank_over_user,
    granted_by,
    keep_an_owner,
    owner_ids,
    roles_by_name,
)
from nubes.identity.sessions import service as sessions_service
from nubes.identity.sessions.service import audit_self, revoke_user_sessions, rowcount
from nubes.identity.sessions.tokens import hash_token
from nubes.identity.tenants.models import Tenant
from nubes.identity.users import passwords
from nubes.identity.users.models import AccountToken, User
from nubes.identity.users.schemas import PasswordChange, RegistrationSettings, UserCreate, UserUpdate
from nubes.ops import service as ops


def check_password_policy(password: str, *, username: str, email: str | None) -> None:
    """422 naming every rule `password` breaks."""
    _password_rules(password, username=username, email=email)


def _password_rules(password: str, *, username: str, email: str | None) -> None:
    problems = passwords.policy_problems(password, username=username, email=email or "")
    if problems:
        raise UnprocessableEntity(
            " ".join(problems),
            errors=[FieldError(loc=["body", "password"], msg=problem, type="password_policy") for problem in problems],
        )


async def _ensure_free(session: AsyncSession, *, username: str | None = None, email: str | None = None) -> None:
    if username and await session.scalar(select(User.id).where(User.username == username)):
        raise Conflict(f"The username {username!r} is taken; choose another.")
    if email and await session.scalar(select(User.id).where(User.email == email)):
        raise Conflict("That email address belongs to another account.")


async def create_user(
    *, session: AsyncSession, settings: Settings, principal: Principal | None, user_in: UserCreate, origin: Origin
) -> User:
    """A new user in the principal's tenant (or, for super-admins, the tenant they name)."""
    tenant_id = user_in.tenant_id or (principal.tenant_id if principal else None)
    if tenant_id is None:
        raise UnprocessableEntity("Say which tenant the user belongs to (tenant_id).")
    if principal is not None and tenant_id != principal.tenant_id and not principal.is_superadmin:
        raise NotFound("No such tenant.")
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound("No such tenant.")
    email = user_in.email.lower() if user_in.email else None
    _password_rules(user_in.password, username=user_in.username, email=email)
    await _ensure_free(session, username=user_in.username, email=email)
    roles = await roles_by_name(session, tenant.id, user_in.roles)
    if principal is not None and not principal.is_superadmin:
        check_can_grant(principal, await granted_by(session, tenant.id, roles))
    user = User(
        tenant_id=tenant.id,
        username=user_in.username,
        email=email,
        display_name=user_in.display_name,
        password_hash=await passwords.hash_password(settings, user_in.password),
    )
    session.add(user)
    await session.flush()
    session.add_all(UserRole(user_id=user.id, role_id=role.id) for role in roles)
    await session.flush()
    if roles:
        await bump_roles_version(session=session, tenant_id=tenant.id)
    await audit.record(
        session=session,
        action="user.create",
        origin=origin,
        principal=principal,
        tenant_id=tenant.id,
        target_type="user",
        target_id=user.id,
        detail={"username": user.username, "roles": [role.name for role in roles]},
    )
    return user


async def get_user_to_change(*, session: AsyncSession, principal: Principal, user_id: uuid.UUID) -> User:
    """A user the principal may change (their tenant, and not above their rank); 404 or 403 otherwise."""
    user = await get_user(session=session, principal=principal, user_id=user_id)
    await check_rank_over_user(session=session, principal=principal, user=user)
    return user


async def get_user(*, session: AsyncSession, principal: Principal, user_id: uuid.UUID) -> User:
    """A user of the principal's tenant (any tenant for super-admins); 404 otherwise."""
    user = await session.get(User, user_id)
    if user is None or (user.tenant_id != principal.tenant_id and not principal.is_superadmin):
        raise NotFound("No such user.")
    return user


async def list_users(
    *, session: AsyncSession, principal: Principal, query: str | None, limit: int, offset: int
) -> tuple[list[User], int]:
    """Users of the principal's tenant, by username."""
    statement = select(User).where(User.tenant_id == principal.tenant_id)
    if query:
        wanted = query.lower()
        statement = statement.where(
            or_(
                like_contains(User.username, wanted),
                like_contains(User.email, wanted),
                like_contains(User.display_name, wanted, ignore_case=True),
            )
        )
    total = await session.scalar(select(func.count()).select_from(statement.subquery()))
    rows = await session.scalars(statement.order_by(User.username).limit(limit).offset(offset))
    return list(rows), int(total or 0)


async def _change_user(
    *, session: AsyncSession, principal: Principal, user_id: uuid.UUID, user_in: UserUpdate, origin: Origin
) -> User:
    """Change a user the principal outranks; a new email waits for its confirmation, deactivating ends every session."""
    user = await get_user_to_change(session=session, principal=principal, user_id=user_id)
    owners = await owner_ids(session, user.tenant_id)
    changes: dict[str, object] = {}
    if user_in.display_name is not None:
        user.display_name = user_in.display_name
        changes["display_name"] = user_in.display_name
    if user_in.email is not None:
        # The address is not used (sign-in, resets) until the new mailbox confirms it (update_user mails it).
        wanted = user_in.email.lower()
        pending = None if wanted == user.email else wanted
        if pending is not None:
            await _ensure_free(session, email=pending)
        if pending != user.pending_email:
            user.pending_email = changes["pending_email"] = pending
    if user_in.roles is not None:
        roles = await roles_by_name(session, user.tenant_id, user_in.roles)
        if not principal.is_superadmin:
            granted = await granted_by(session, user.tenant_id, roles)
            check_can_grant(principal, granted)
            if user.id == principal.user_id and "admin.users" not in granted:
                raise Conflict("These roles would take away your right to manage users; ask another admin to change them.")
        await session.execute(delete(UserRole).where(UserRole.user_id == user.id))
        session.add_all(UserRole(user_id=user.id, role_id=role.id) for role in roles)
        await bump_roles_version(session=session, tenant_id=user.tenant_id)
        changes["roles"] = [role.name for role in roles]
    if user_in.is_active is not None and user_in.is_active != user.is_active:
        if user.id == principal.user_id and not user_in.is_active:
            raise Conflict("You cannot deactivate yourself; ask another admin.")
        user.is_active = user_in.is_active
        changes["is_active"] = user.is_active
        if not user.is_active:
            revoked = await revoke_user_sessions(session=session, user_id=user.id, reason="user_deactivated")
            changes["sessions_revoked"] = revoked
    await keep_an_owner(session, user.tenant_id, owners)
    if changes:
        await audit.record(
            session=session,
            action="user.update",
            origin=origin,
            principal=principal,
            tenant_id=user.tenant_id,
            target_type="user",
            target_id=user.id,
            detail=changes,
        )
    return user


async def change_password(
    *, session: AsyncSession, settings: Settings, principal: Principal, change: PasswordChange, origin: Origin
) -> int:
    """Set a new password after checking the current one; every other session ends. Returns how many ended."""
    user = await session.get(User, principal.user_id)
    if user is None:
        raise Unauthorized("Your account no longer exists.")
    if not await passwords.verify_password(settings, user.password_hash, change.current_password):
        await audit.record(session=session, action="user.password_change", origin=origin, principal=principal, outcome="failure")
        raise Forbidden("The current password is wrong.", keep_changes=True)
    _password_rules(change.new_password, username=user.username, email=user.email)
    user.password_hash = await passwords.hash_password(settings, change.new_password)
    ended = await revoke_user_sessions(
        session=session, user_id=user.id, reason="password_changed", keep_session_id=principal.session_id
    )
    await audit.record(
        session=session,
        action="user.password_change",
        origin=origin,
        principal=principal,
        target_type="user",
        target_id=user.id,
        detail={"sessions_revoked": ended},
    )
    return ended


async def find_account(*, session: AsyncSession, login: str) -> User | None:
    """The user a sign-in names, by username or email (case-insensitive)."""
    login = login.strip().lower()
    column = User.email if "@" in login else User.username
    return await session.scalar(select(User).where(column == login))


MAIL_TOKEN_TTL = {"verify_email": timedelta(hours=48), "reset_password": timedelta(hours=1)}
REGISTRATION_SETTING = "identity.registration"


async def registration_settings(*, session: AsyncSession) -> RegistrationSettings:
    stored = await ops.get_setting(session=session, key=REGISTRATION_SETTING, default={})
    return RegistrationSettings.model_validate(stored or {})


async def set_registration_settings(
    *, session: AsyncSession, principal: Principal, value: RegistrationSettings, origin: Origin
) -> RegistrationSettings:
    """Store the registration policy after checking its tenant and role exist."""
    tenant = await session.scalar(select(Tenant).where(Tenant.slug == value.tenant_slug))
    if tenant is None:
        raise UnprocessableEntity(f"There is no tenant {value.tenant_slug!r}; pick an existing tenant's slug.")
    role = await session.scalar(select(Role.id).where(Role.tenant_id == tenant.id, Role.name == value.role))
    if role is None:
        raise UnprocessableEntity(f"Tenant {value.tenant_slug!r} has no role {value.role!r}.")
    await ops.set_setting(session=session, key=REGISTRATION_SETTING, value=value.model_dump())
    await audit.record(
        session=session,
        action="settings.registration",
        origin=origin,
        principal=principal,
        target_type="setting",
        target_id=REGISTRATION_SETTING,
        detail=value.model_dump(),
    )
    return value


async def register(
    *, session: AsyncSession, settings: Settings, username: str, email: str, password: str, display_name: str, origin: Origin
) -> User:
    """A new account from the sign-up form, when registration is on; a verification link goes out by mail."""
    policy = await registration_settings(session=session)
    if not policy.enabled:
        raise Forbidden("Registration is closed on this server; ask an admin for an account.")
    tenant = await session.scalar(select(Tenant).where(Tenant.slug == policy.tenant_slug))
    if tenant is None or tenant.status != "active":
        raise Forbidden("Registration is not available right now; ask an admin for an account.")
    user = await create_user(
        session=session,
        settings=settings,
        principal=None,
        user_in=UserCreate(
            username=username,
            email=email,
            password=password,
            display_name=display_name,
            roles=[policy.role],
            tenant_id=tenant.id,
        ),
        origin=origin,
    )
    user.email_verification_required = policy.require_email_verification
    await audit.record(
        session=session,
        action="auth.register",
        origin=origin,
        tenant_id=tenant.id,
        actor_id=user.id,
        actor_name=user.username,
        target_type="user",
        target_id=user.id,
    )
    await _send_link(session=session, settings=settings, user=user, purpose="verify_email")
    return user


_MAIL_TEXT = {
    "verify_email": (
        "Confirm your email address for Nubes",
        "Hello {name},\n\nopen this link to confirm that {email} is your address:\n\n{link}\n\n"
        "The link works once and expires in 48 hours. If you did not ask for this, ignore this message.\n",
        "/verify-email",
    ),
    "confirm_email": (
        "Confirm your new email address for Nubes",
        "Hello {name},\n\n{actor} asked to make {email} the address of the Nubes account {username}.\n"
        "Open this link to confirm that this mailbox is yours:\n\n{link}\n\n"
        "Until then the account keeps its old address. The link works once and expires in 48 hours. "
        "If you did not expect this, ignore this message.\n",
        "/verify-email",
    ),
    "confirm_before_reset": (
        "Confirm your email address before resetting your Nubes password",
        "Hello {name},\n\nsomeone asked to reset the password of the Nubes account {username}, but {email} "
        "has not been confirmed as its address yet, so no reset link can go to it.\n"
        "Open this link to confirm the address, then ask for the reset again:\n\n{link}\n\n"
        "The link works once and expires in 48 hours. If you did not ask for this, ignore this message.\n",
        "/verify-email",
    ),
    "reset_password": (
        "Reset your Nubes password",
        "Hello {name},\n\nsomeone (hopefully you) asked to reset the password of the Nubes account {username}.\n"
        "Open this link to choose a new one:\n\n{link}\n\n"
        "The link works once and expires in 1 hour. If you did not ask for this, ignore this message: "
        "your password stays as it is.\n",
        "/reset-password",
    ),
}


# Which token each mail carries: the confirmations are all `verify_email` links, checked against the address.
_PURPOSE = {"confirm_email": "verify_email", "confirm_before_reset": "verify_email"}


async def _send_link(
    *, session: AsyncSession, settings: Settings, user: User, purpose: str, to: str | None = None, actor: str = ""
) -> None:
    """Mail a one-time link of `purpose` (a key of _MAIL_TEXT) to `to`, by default the account's address."""
    address = to or user.email
    if not address:
        return
    token = secrets.token_urlsafe(32)
    kind = _PURPOSE.get(purpose, purpose)
    session.add(
        AccountToken(
            tenant_id=user.tenant_id,
            user_id=user.id,
            purpose=kind,
            token_hash=hash_token(token),
            email=address,
            expires_at=utcnow() + MAIL_TOKEN_TTL[kind],
        )
    )
    subject, text, path = _MAIL_TEXT[purpose]
    # The token travels in the fragment: it never reaches a server log or a Referer header.
    link = f"{settings.base_url}{path}#token={token}"
    name = user.display_name or user.username
    body = text.format(name=name, email=address, username=user.username, link=link, actor=actor)
    await mail.enqueue(session=session, to=address, subject=subject, body=body)


_CHANGE_NOTICE = (
    "Your Nubes account's email address is being changed",
    "Hello {name},\n\n{actor} asked to change the email address of the Nubes account {username} "
    "from {old} to {new}.\nThe change takes effect only when someone opens the link sent to {new}; "
    "until then, mail and password resets keep coming here.\n"
    "If you did not expect this, tell your administrator now.\n",
)


async def update_user(
    *, session: AsyncSession, settings: Settings, principal: Principal, user_id: uuid.UUID, user_in: UserUpdate, origin: Origin
) -> User:
    """An admin's change to a user; a new address gets a confirmation link and the old one a notice."""
    before = (await get_user(session=session, principal=principal, user_id=user_id)).pending_email
    user = await _change_user(session=session, principal=principal, user_id=user_id, user_in=user_in, origin=origin)
    asked = user_in.email.lower() if user_in.email else None
    if asked is None or user.pending_email != asked:
        return user
    await _send_link(session=session, settings=settings, user=user, purpose="confirm_email", to=asked, actor=principal.username)
    if user.email and before != asked:
        subject, text = _CHANGE_NOTICE
        name = user.display_name or user.username
        body = text.format(name=name, actor=principal.username, username=user.username, old=user.email, new=asked)
        await mail.enqueue(session=session, to=user.email, subject=subject, body=body)
    return user


async def request_email_verification(*, session: AsyncSession, settings: Settings, email: str, origin: Origin) -> None:
    """Mail a new verification link when `email` belongs to an unverified account; silent otherwise."""
    user = await session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or user.email_verified_at is not None or not user.is_active:
        return
    await _send_link(session=session, settings=settings, user=user, purpose="verify_email")


async def send_my_verification(*, session: AsyncSession, settings: Settings, principal: Principal) -> None:
    """Mail a new confirmation link: for the address waiting to become yours if there is one, else for yours."""
    user = await session.get(User, principal.user_id)
    if user is not None and user.pending_email:
        await _send_link(
            session=session, settings=settings, user=user, purpose="confirm_email", to=user.pending_email, actor=user.username
        )
        return
    if user is None or not user.email:
        raise UnprocessableEntity("Your account has no email address; add one to your profile first.")
    if user.email_verified_at is not None:
        raise Conflict("Your email address is already confirmed.")
    await _send_link(session=session, settings=settings, user=user, purpose="verify_email")


async def _claim_link(session: AsyncSession, *, token: str, purpose: str) -> AccountToken:
    """Use a mailed token once; every failure says the same (nothing is learned by guessing)."""
    now = utcnow()
    result = await session.execute(
        update(AccountToken)
        .where(
            AccountToken.token_hash == hash_token(token),
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
            AccountToken.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        raise UnprocessableEntity("This link is not valid any more (used, expired or mistyped); ask for a new one.")
    claimed = await session.scalar(select(AccountToken).where(AccountToken.token_hash == hash_token(token)))
    if claimed is None:  # deleted with its user between the two statements
        raise UnprocessableEntity("This link is not valid any more; ask for a new one.")
    return claimed


async def verify_email(*, session: AsyncSession, token: str, origin: Origin) -> User:
    """Mark the address the token was sent to as confirmed; a pending new address becomes the account's address."""
    claimed = await _claim_link(session, token=token, purpose="verify_email")
    user = await session.get(User, claimed.user_id)
    if user is not None and user.pending_email is not None and user.pending_email == claimed.email:
        if await session.scalar(select(User.id).where(User.email == claimed.email, User.id != user.id)):
            raise Conflict("That address now belongs to another account; ask for another change.", keep_changes=True)
        previous, user.email, user.pending_email = user.email, claimed.email, None
        user.email_verified_at = utcnow()
        await audit_self(
            session,
            "user.email_changed",
            origin,
            user,
            target_type="user",
            target_id=user.id,
            detail={"from": previous, "to": user.email},
        )
        return user
    if user is None or user.email != claimed.email:
        raise UnprocessableEntity("This link was for an address the account no longer uses; ask for a new one.")
    user.email_verified_at = utcnow()
    await audit_self(session, "user.email_verified", origin, user, target_type="user", target_id=user.id)
    return user


async def request_password_reset(*, session: AsyncSession, settings: Settings, email: str, origin: Origin) -> None:
    """Mail a reset link when `email` is an active account's confirmed address; answer the same either way.

    An address nobody has confirmed gets a confirmation link instead: a reset link only ever goes to a
    mailbox that proved it belongs to the account (else whoever set the address could take the account).
    """
    user = await session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.is_active:
        await audit.record(session=session, action="auth.reset_request", origin=origin, actor_name=email[:150], outcome="failure")
        return
    if user.email_verified_at is None:
        await _send_link(session=session, settings=settings, user=user, purpose="confirm_before_reset")
        await audit_self(
            session, "auth.reset_request", origin, user, target_type="user", target_id=user.id, outcome="denied",
            detail={"reason": "email_unconfirmed"},
        )  # fmt: skip
        return
    await _send_link(session=session, settings=settings, user=user, purpose="reset_password")
    await audit_self(session, "auth.reset_request", origin, user, target_type="user", target_id=user.id)


async def reset_password(*, session: AsyncSession, settings: Settings, token: str, new_password: str, origin: Origin) -> User:
    """Set a new password from a mailed link; every session of the account ends."""
    candidate = await session.scalar(select(AccountToken).where(AccountToken.token_hash == hash_token(token)))
    if candidate is not None:
        owner = await session.get(User, candidate.user_id)
        if owner is not None:  # check the policy first, so a weak password does not burn the link
            check_password_policy(new_password, username=owner.username, email=owner.email)
    claimed = await _claim_link(session, token=token, purpose="reset_password")
    user = await session.get(User, claimed.user_id)
    if user is None or not user.is_active:
        raise UnprocessableEntity("This link is not valid any more (used, expired or mistyped); ask for a new one.")
    if user.email != claimed.email or user.email_verified_at is None:
        raise UnprocessableEntity("This link was for an address the account no longer uses; ask for a new one.")
    user.password_hash = await passwords.hash_password(settings, new_password)
    ended = await sessions_service.revoke_user_sessions(session=session, user_id=user.id, reason="password_reset")
    await audit_self(
        session, "user.password_reset", origin, user, target_type="user", target_id=user.id, detail={"sessions_revoked": ended}
    )
    return user

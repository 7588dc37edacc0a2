"""Rules of the identity domain: tenants, users, roles, sign-in, sessions and refresh-token rotation."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import ConfigError, Settings
from nubes.core import audit
from nubes.core.audit import Origin
from nubes.core.db import like_contains, utcnow
from nubes.core.errors import Conflict, FieldError, Forbidden, NotFound, Unauthorized, UnprocessableEntity
from nubes.core.principal import Principal
from nubes.identity import passwords, permissions
from nubes.identity.models import (
    Group,
    GroupMember,
    GroupRole,
    PersonalAccessToken,
    RefreshToken,
    Role,
    RolePermission,
    Session,
    Tenant,
    User,
    UserRole,
)
from nubes.identity.schemas import (
    AccessTokenCreate,
    GroupCreate,
    GroupUpdate,
    PasswordChange,
    RoleCreate,
    RoleUpdate,
    TenantCreate,
    TenantUpdate,
    UserCreate,
    UserUpdate,
)
from nubes.identity.tokens import hash_token, new_personal_token, new_refresh_token

DEFAULT_TENANT = "default"


# --- tenants and roles -------------------------------------------------------------------------


async def create_tenant(*, session: AsyncSession, slug: str, name: str) -> Tenant:
    """A tenant with its built-in roles (owner, admin, member, viewer)."""
    if await session.scalar(select(Tenant.id).where(Tenant.slug == slug)):
        raise Conflict(f"A tenant with the slug {slug!r} exists; choose another slug.")
    tenant = Tenant(slug=slug, name=name)
    session.add(tenant)
    await session.flush()
    created: dict[str, Role] = {}
    for role_name, (description, parent, _codes) in permissions.BUILTIN_ROLES.items():
        # No grant rows: a built-in role's permissions are read from BUILTIN_ROLES (see role_graph).
        role = Role(
            tenant_id=tenant.id,
            name=role_name,
            description=description,
            parent_id=created[parent].id if parent else None,
            builtin=True,
        )
        session.add(role)
        await session.flush()
        created[role_name] = role
    return tenant


async def _roles_by_name(session: AsyncSession, tenant_id: uuid.UUID, names: list[str]) -> list[Role]:
    wanted = sorted(set(names))
    roles = list(await session.scalars(select(Role).where(Role.tenant_id == tenant_id, Role.name.in_(wanted))))
    missing = sorted(set(wanted) - {role.name for role in roles})
    if missing:
        raise UnprocessableEntity(
            f"No such role in this tenant: {', '.join(missing)}.",
            errors=[FieldError(loc=["body", "roles"], msg=f"unknown role {name!r}", type="unknown_role") for name in missing],
        )
    return roles


@dataclass(frozen=True, slots=True)
class RoleGraph:
    """A tenant's roles in one query: parent links and own permissions, plus which ones a user holds."""

    parents: dict[uuid.UUID, uuid.UUID | None]
    grants: dict[uuid.UUID, set[str]]
    names: dict[uuid.UUID, str]
    held: frozenset[uuid.UUID]

    def permissions_of(self, role_ids: Iterable[uuid.UUID]) -> frozenset[str]:
        """Every permission the roles grant, following parents (a cycle cannot loop forever)."""
        codes: set[str] = set()
        for role_id in role_ids:
            seen: set[uuid.UUID] = set()
            current: uuid.UUID | None = role_id
            while current is not None and current not in seen and current in self.parents:
                seen.add(current)
                codes |= self.grants[current]
                current = self.parents[current]
        return frozenset(codes & permissions.CODES)


async def role_graph(session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID | None = None) -> RoleGraph:
    """Load the tenant's role graph (and the roles `user_id` holds) in a single query.

    A built-in role's own permissions come from the code (`permissions.BUILTIN_ROLES`), not from its rows, so a
    permission added there reaches every existing tenant without a data migration.
    """
    direct = select(UserRole.role_id).where(UserRole.user_id == user_id)
    via_groups = (
        select(GroupRole.role_id)
        .join(GroupMember, GroupMember.group_id == GroupRole.group_id)
        .where(GroupMember.user_id == user_id)
    )
    holds = Role.id.in_(direct.union(via_groups)) if user_id is not None else literal(None)
    rows = await session.execute(
        select(Role.id, Role.name, Role.parent_id, Role.builtin, RolePermission.permission, holds)
        .outerjoin(RolePermission, RolePermission.role_id == Role.id)
        .where(Role.tenant_id == tenant_id)
    )
    parents: dict[uuid.UUID, uuid.UUID | None] = {}
    grants: dict[uuid.UUID, set[str]] = {}
    names: dict[uuid.UUID, str] = {}
    held: set[uuid.UUID] = set()
    for role_id, name, parent_id, builtin, permission, holder in rows:
        parents[role_id], names[role_id] = parent_id, name
        if builtin and name in permissions.BUILTIN_ROLES:
            grants[role_id] = set(permissions.BUILTIN_ROLES[name][2])
        else:
            grants.setdefault(role_id, set())
            if permission is not None:
                grants[role_id].add(permission)
        if holder:
            held.add(role_id)
    return RoleGraph(parents=parents, grants=grants, names=names, held=frozenset(held))


async def _granted(session: AsyncSession, tenant_id: uuid.UUID, roles: list[Role]) -> frozenset[str]:
    graph = await role_graph(session, tenant_id)
    return graph.permissions_of(role.id for role in roles)


async def effective_permissions(*, session: AsyncSession, user: User) -> tuple[list[tuple[uuid.UUID, str]], frozenset[str]]:
    """The user's roles (id, name) and every permission they grant, inherited ones included."""
    graph = await role_graph(session, user.tenant_id, user.id)
    roles = sorted(((role_id, graph.names[role_id]) for role_id in graph.held), key=lambda role: role[1])
    return roles, graph.permissions_of(graph.held)


# --- users ---------------------------------------------------------------------------------------


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
    roles = await _roles_by_name(session, tenant.id, user_in.roles)
    if principal is not None and not principal.is_superadmin:
        _check_can_grant(principal, await _granted(session, tenant.id, roles))
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


def _check_can_grant(principal: Principal, codes: frozenset[str]) -> None:
    """Nobody hands out a permission they do not hold themselves (no escalation through role assignment)."""
    beyond = sorted(codes - principal.permissions)
    if beyond:
        raise Forbidden(f"You cannot grant permissions you do not hold: {', '.join(beyond)}.")


class OutRanked(Forbidden):
    """The target holds a permission (or the super-admin status) the actor lacks."""

    code, title = "outranked", "Above your rank"


def _check_outranks(principal: Principal, codes: frozenset[str], target: str) -> None:
    """Refuse to act on `target` unless the principal holds every permission it holds or grants."""
    if principal.is_superadmin:
        return
    beyond = sorted(codes - principal.permissions)
    if beyond:
        raise OutRanked(
            f"You cannot change {target}: it holds permissions you do not ({', '.join(beyond)}); ask someone who holds them."
        )


async def check_rank_over_user(*, session: AsyncSession, principal: Principal, user: User) -> None:
    """403 unless the principal may act on `user`: super-admins only by super-admins, others by who holds all they hold."""
    if principal.is_superadmin:
        return
    if user.is_superadmin:
        raise OutRanked(f"You cannot change {user.username}: only a platform super-admin can change a super-admin.")
    _, codes = await effective_permissions(session=session, user=user)
    _check_outranks(principal, codes, f"the user {user.username}")


async def get_user_to_change(*, session: AsyncSession, principal: Principal, user_id: uuid.UUID) -> User:
    """A user the principal may change (their tenant, and not above their rank); 404 or 403 otherwise."""
    user = await get_user(session=session, principal=principal, user_id=user_id)
    await check_rank_over_user(session=session, principal=principal, user=user)
    return user


class LastOwner(Conflict):
    """The change would leave a tenant without an active owner."""

    code, title = "last-owner", "A tenant keeps an owner"


async def _owners(session: AsyncSession, tenant_id: uuid.UUID) -> set[uuid.UUID]:
    """Active users of the tenant who hold its built-in `owner` role, directly or through a group."""
    owner = select(Role.id).where(Role.tenant_id == tenant_id, Role.name == "owner", Role.builtin.is_(True))
    direct = select(UserRole.user_id).where(UserRole.role_id.in_(owner))
    via_groups = (
        select(GroupMember.user_id)
        .join(GroupRole, GroupRole.group_id == GroupMember.group_id)
        .where(GroupRole.role_id.in_(owner))
    )
    rows = await session.scalars(
        select(User.id).where(User.tenant_id == tenant_id, User.is_active.is_(True), User.id.in_(direct.union(via_groups)))
    )
    return set(rows)


async def _keep_an_owner(session: AsyncSession, tenant_id: uuid.UUID, before: set[uuid.UUID]) -> None:
    """After a change (flushed): refuse it when the tenant had an owner and now has none."""
    await session.flush()
    if before and not await _owners(session, tenant_id):
        raise LastOwner("This would leave the tenant without an owner; make another user owner first.")


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


async def role_names(*, session: AsyncSession, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """The names of the roles assigned directly to each user, sorted."""
    names: dict[uuid.UUID, list[str]] = {user_id: [] for user_id in user_ids}
    if user_ids:
        rows = await session.execute(
            select(UserRole.user_id, Role.name).join(Role, Role.id == UserRole.role_id).where(UserRole.user_id.in_(user_ids))
        )
        for user_id, name in rows:
            names[user_id].append(name)
    return {user_id: sorted(found) for user_id, found in names.items()}


async def update_user(
    *, session: AsyncSession, principal: Principal, user_id: uuid.UUID, user_in: UserUpdate, origin: Origin
) -> User:
    """Change a user the principal outranks; a new email waits for its confirmation, deactivating ends every session."""
    user = await get_user_to_change(session=session, principal=principal, user_id=user_id)
    owners = await _owners(session, user.tenant_id)
    changes: dict[str, object] = {}
    if user_in.display_name is not None:
        user.display_name = user_in.display_name
        changes["display_name"] = user_in.display_name
    if user_in.email is not None:
        # The address is not used (sign-in, resets) until the new mailbox confirms it (security.update_user mails it).
        wanted = user_in.email.lower()
        pending = None if wanted == user.email else wanted
        if pending is not None:
            await _ensure_free(session, email=pending)
        if pending != user.pending_email:
            user.pending_email = changes["pending_email"] = pending
    if user_in.roles is not None:
        roles = await _roles_by_name(session, user.tenant_id, user_in.roles)
        if not principal.is_superadmin:
            granted = await _granted(session, user.tenant_id, roles)
            _check_can_grant(principal, granted)
            if user.id == principal.user_id and "admin.users" not in granted:
                raise Conflict("These roles would take away your right to manage users; ask another admin to change them.")
        await session.execute(delete(UserRole).where(UserRole.user_id == user.id))
        session.add_all(UserRole(user_id=user.id, role_id=role.id) for role in roles)
        changes["roles"] = [role.name for role in roles]
    if user_in.is_active is not None and user_in.is_active != user.is_active:
        if user.id == principal.user_id and not user_in.is_active:
            raise Conflict("You cannot deactivate yourself; ask another admin.")
        user.is_active = user_in.is_active
        changes["is_active"] = user.is_active
        if not user.is_active:
            revoked = await revoke_user_sessions(session=session, user_id=user.id, reason="user_deactivated")
            changes["sessions_revoked"] = revoked
    await _keep_an_owner(session, user.tenant_id, owners)
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


# --- sign-in and sessions ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A session just started or refreshed, with the refresh token to hand out (shown once)."""

    user: User
    session: Session
    refresh_token: str


async def find_account(*, session: AsyncSession, login: str) -> User | None:
    """The user a sign-in names, by username or email (case-insensitive)."""
    login = login.strip().lower()
    column = User.email if "@" in login else User.username
    return await session.scalar(select(User).where(column == login))


async def authenticate(
    *, session: AsyncSession, settings: Settings, login: str, user: User | None, password: str, origin: Origin
) -> User:
    """`user` (found by `find_account(login)`) if the password matches; every failure says the same and is audited."""
    login = login.strip().lower()
    if user is None:
        await passwords.burn_verification(settings)
        await audit.record(session=session, action="auth.login", origin=origin, actor_name=login[:150], outcome="failure")
        raise Unauthorized("Wrong username or password.", keep_changes=True)
    ok = await passwords.verify_password(settings, user.password_hash, password)
    if not ok:
        await _login_failed(session, user, origin, "bad_password")
        raise Unauthorized("Wrong username or password.", keep_changes=True)
    await check_can_sign_in(session=session, user=user, origin=origin)
    if passwords.needs_rehash(settings, user.password_hash):
        user.password_hash = await passwords.hash_password(settings, password)
    return user


async def _login_failed(session: AsyncSession, user: User, origin: Origin, reason: str) -> None:
    await audit.record(
        session=session,
        action="auth.login",
        origin=origin,
        tenant_id=user.tenant_id,
        actor_id=user.id,
        actor_name=user.username,
        outcome="failure",
        detail={"reason": reason},
    )


class EmailUnverified(Forbidden):
    """The password is right but the account's address is not confirmed yet."""

    code, title = "email-unverified", "Email address not confirmed"


async def check_can_sign_in(*, session: AsyncSession, user: User, origin: Origin) -> None:
    """Refuse (and audit) a user who proved who they are but may not sign in: inactive, suspended, unverified."""
    tenant = await session.get(Tenant, user.tenant_id)
    if not user.is_active:
        reason = "user_inactive"
    elif tenant is None or tenant.status != "active":
        reason = "tenant_suspended"
    elif user.email_verification_required and user.email_verified_at is None:
        await _login_failed(session, user, origin, "email_unverified")
        raise EmailUnverified(
            f"Confirm your email address first: open the link we sent to {user.email}, or ask for a new link.",
            keep_changes=True,
        )
    else:
        return
    await _login_failed(session, user, origin, reason)
    raise Unauthorized("This account cannot sign in; ask an admin.", keep_changes=True)


async def start_session(*, session: AsyncSession, settings: Settings, user: User, origin: Origin) -> SignedIn:
    """A new session (refresh-token family) for a user who just proved who they are."""
    now = utcnow()
    device = Session(
        tenant_id=user.tenant_id,
        user_id=user.id,
        created_at=now,
        last_used_at=now,
        expires_at=now + timedelta(days=settings.session_ttl_days),
        user_agent=origin.user_agent[:500],
        ip=origin.ip[:64],
        reauthenticated_at=now,  # signing in is proving who you are
    )
    session.add(device)
    await session.flush()
    token, token_hash = new_refresh_token()
    session.add(RefreshToken(session_id=device.id, token_hash=token_hash))
    user.last_login_at = now
    await session.flush()
    await audit.record(
        session=session,
        action="auth.login",
        origin=origin,
        tenant_id=user.tenant_id,
        actor_id=user.id,
        actor_name=user.username,
        target_type="session",
        target_id=device.id,
    )
    return SignedIn(user=user, session=device, refresh_token=token)


async def refresh(*, session: AsyncSession, settings: Settings, token: str, origin: Origin) -> SignedIn:
    """Rotate a refresh token. Presenting one that was already used revokes its whole family, the newest included."""
    stored = await session.scalar(select(RefreshToken).where(RefreshToken.token_hash == hash_token(token)))
    if stored is None:
        raise Unauthorized("This refresh token is not valid; sign in again.")
    device = await session.get(Session, stored.session_id)
    if device is None:
        raise Unauthorized("This refresh token is not valid; sign in again.")
    now = utcnow()
    if device.revoked_at is not None or device.expires_at <= now:
        # An ended session: not a reuse (nothing to revoke), just no longer valid.
        raise Unauthorized("This session has ended; sign in again.")
    # Claim the token atomically: of two requests racing with the same token, exactly one wins.
    claimed = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == stored.id, RefreshToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if cast("CursorResult[Any]", claimed).rowcount != 1:
        if device.revoked_at is None:
            device.revoked_at, device.revoke_reason = now, "refresh_token_reuse"
        await audit.record(
            session=session,
            action="auth.refresh_reuse",
            origin=origin,
            tenant_id=device.tenant_id,
            actor_id=device.user_id,
            outcome="denied",
            target_type="session",
            target_id=device.id,
        )
        raise Unauthorized(
            "This refresh token was already used, so this session has been ended for safety; sign in again.",
            keep_changes=True,
        )
    user = await session.get(User, device.user_id)
    tenant = await session.get(Tenant, device.tenant_id)
    if device.revoked_at is not None or device.expires_at <= now:
        raise Unauthorized("This session has ended; sign in again.", keep_changes=True)
    if user is None or not user.is_active or tenant is None or tenant.status != "active":
        raise Unauthorized("This account cannot sign in; ask an admin.", keep_changes=True)
    new_token, new_hash = new_refresh_token()
    session.add(RefreshToken(session_id=device.id, token_hash=new_hash))
    device.last_used_at = now
    device.expires_at = now + timedelta(days=settings.session_ttl_days)
    device.ip, device.user_agent = origin.ip[:64] or device.ip, origin.user_agent[:500] or device.user_agent
    await session.flush()
    return SignedIn(user=user, session=device, refresh_token=new_token)


async def end_session_by_token(*, session: AsyncSession, token: str, origin: Origin) -> None:
    """Sign out: revoke the family of this refresh token (a token that matches nothing is ignored)."""
    stored = await session.scalar(select(RefreshToken).where(RefreshToken.token_hash == hash_token(token)))
    device = await session.get(Session, stored.session_id) if stored else None
    if device is None or device.revoked_at is not None:
        return
    device.revoked_at, device.revoke_reason = utcnow(), "logout"
    await session.flush()
    await audit.record(
        session=session,
        action="auth.logout",
        origin=origin,
        tenant_id=device.tenant_id,
        actor_id=device.user_id,
        target_type="session",
        target_id=device.id,
    )


async def revoke_session(*, session: AsyncSession, principal: Principal, session_id: uuid.UUID, origin: Origin) -> None:
    """End one of the principal's own sessions."""
    device = await session.get(Session, session_id)
    if device is None or device.user_id != principal.user_id:
        raise NotFound("No such session.")
    if device.revoked_at is None:
        device.revoked_at, device.revoke_reason = utcnow(), "revoked_by_user"
        await session.flush()
    await audit.record(
        session=session, action="session.revoke", origin=origin, principal=principal, target_type="session", target_id=device.id
    )


async def revoke_user_sessions(
    *, session: AsyncSession, user_id: uuid.UUID, reason: str, keep_session_id: uuid.UUID | None = None
) -> int:
    """End every live session of a user (but `keep_session_id`); returns how many ended."""
    statement = (
        update(Session)
        .where(Session.user_id == user_id, Session.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoke_reason=reason)
        .execution_options(synchronize_session=False)
    )
    if keep_session_id is not None:
        statement = statement.where(Session.id != keep_session_id)
    result = await session.execute(statement)
    count: int = cast("CursorResult[Any]", result).rowcount
    return count


async def list_sessions(*, session: AsyncSession, principal: Principal) -> list[Session]:
    """The principal's live sessions, most recently used first."""
    rows = await session.scalars(
        select(Session)
        .where(Session.user_id == principal.user_id, Session.revoked_at.is_(None), Session.expires_at > utcnow())
        .order_by(Session.last_used_at.desc())
    )
    return list(rows)


@dataclass(frozen=True, slots=True)
class Identity:
    """Everything one request learned about its caller: the principal and the rows behind it."""

    principal: Principal
    user: User
    tenant: Tenant
    roles: list[tuple[uuid.UUID, str]]
    # When the user last proved who they are in this session (None for a personal access token).
    reauthenticated_at: datetime | None = None


async def load_identity(*, session: AsyncSession, user_id: uuid.UUID, session_id: uuid.UUID) -> Identity:
    """The caller behind a verified access token, if its user, tenant and session are all still valid (two queries)."""
    row = (
        await session.execute(
            select(User, Session, Tenant)
            .join(Session, Session.user_id == User.id)
            .join(Tenant, Tenant.id == User.tenant_id)
            .where(User.id == user_id, Session.id == session_id)
        )
    ).first()
    if row is None:
        raise Unauthorized("This sign-in is no longer valid; sign in again.")
    user, device, tenant = row
    if device.revoked_at is not None or device.expires_at <= utcnow():
        raise Unauthorized("This session has ended; sign in again.")
    if not user.is_active:
        raise Unauthorized("This account has been deactivated.")
    if tenant.status != "active":
        raise Unauthorized("This organization is suspended; ask your administrator.")
    roles, codes = await effective_permissions(session=session, user=user)
    group_ids = frozenset(await session.scalars(select(GroupMember.group_id).where(GroupMember.user_id == user.id)))
    principal = Principal(
        user_id=user.id,
        tenant_id=user.tenant_id,
        username=user.username,
        permissions=codes,
        is_superadmin=user.is_superadmin,
        session_id=device.id,
        group_ids=group_ids,
    )
    return Identity(principal=principal, user=user, tenant=tenant, roles=roles, reauthenticated_at=device.reauthenticated_at)


# --- personal access tokens ------------------------------------------------------------------------


async def create_access_token(
    *, session: AsyncSession, principal: Principal, token_in: AccessTokenCreate, origin: Origin
) -> tuple[PersonalAccessToken, str]:
    """A scoped token for the principal; it never carries a permission the principal lacks."""
    if principal.credential == "token":
        raise Forbidden("A personal access token cannot make more tokens; sign in to do this.")
    scopes = sorted(set(token_in.scopes))
    if not principal.is_superadmin:
        _check_can_grant(principal, frozenset(scopes))
    token, token_hash = new_personal_token()
    expires_at = utcnow() + timedelta(days=token_in.expires_in_days) if token_in.expires_in_days else None
    row = PersonalAccessToken(
        tenant_id=principal.tenant_id,
        user_id=principal.user_id,
        name=token_in.name,
        token_hash=token_hash,
        prefix=token[:12],
        scopes=scopes,
        expires_at=expires_at,
    )
    session.add(row)
    await session.flush()
    await audit.record(
        session=session,
        action="token.create",
        origin=origin,
        principal=principal,
        target_type="token",
        target_id=row.id,
        detail={"name": row.name, "scopes": scopes, "expires_at": expires_at.isoformat() if expires_at else None},
    )
    return row, token


async def list_access_tokens(*, session: AsyncSession, principal: Principal) -> list[PersonalAccessToken]:
    """The principal's live tokens, newest first."""
    rows = await session.scalars(
        select(PersonalAccessToken)
        .where(PersonalAccessToken.user_id == principal.user_id, PersonalAccessToken.revoked_at.is_(None))
        .order_by(PersonalAccessToken.created_at.desc())
    )
    return list(rows)


async def revoke_access_token(*, session: AsyncSession, principal: Principal, token_id: uuid.UUID, origin: Origin) -> None:
    """Revoke one of the principal's tokens; it stops working at once."""
    row = await session.get(PersonalAccessToken, token_id)
    if row is None or row.user_id != principal.user_id:
        raise NotFound("No such token.")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        await session.flush()
    await audit.record(
        session=session, action="token.revoke", origin=origin, principal=principal, target_type="token", target_id=row.id
    )


async def identity_from_access_token(*, session: AsyncSession, token: str) -> Identity:
    """The caller behind a personal access token: the user's permissions narrowed to the token's scopes."""
    row = await session.scalar(select(PersonalAccessToken).where(PersonalAccessToken.token_hash == hash_token(token)))
    now = utcnow()
    if row is None or row.revoked_at is not None:
        raise Unauthorized("This access token is not valid (revoked or mistyped).")
    if row.expires_at is not None and row.expires_at <= now:
        raise Unauthorized("This access token has expired; make a new one.")
    found = (
        await session.execute(select(User, Tenant).join(Tenant, Tenant.id == User.tenant_id).where(User.id == row.user_id))
    ).first()
    if found is None:
        raise Unauthorized("This access token is not valid.")
    user, tenant = found
    if not user.is_active or tenant.status != "active":
        raise Unauthorized("This account cannot sign in; ask an admin.")
    roles, codes = await effective_permissions(session=session, user=user)
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        row.last_used_at = now  # at most once a minute: a busy script should not write on every call
    principal = Principal(
        user_id=user.id,
        tenant_id=user.tenant_id,
        username=user.username,
        permissions=codes & frozenset(row.scopes),
        is_superadmin=False,  # a token never carries platform administration
        credential="token",
    )
    return Identity(principal=principal, user=user, tenant=tenant, roles=roles)


# --- tenants (super-admins) --------------------------------------------------------------------------


async def list_tenants(*, session: AsyncSession) -> list[tuple[Tenant, int]]:
    """Every tenant with its number of users."""
    users = select(func.count(User.id)).where(User.tenant_id == Tenant.id).scalar_subquery()
    rows = await session.execute(select(Tenant, users).order_by(Tenant.slug))
    return [(tenant, count) for tenant, count in rows]


async def count_users(*, session: AsyncSession, tenant_id: uuid.UUID) -> int:
    """How many users a tenant has."""
    return int(await session.scalar(select(func.count(User.id)).where(User.tenant_id == tenant_id)) or 0)


async def get_tenant(*, session: AsyncSession, tenant_id: uuid.UUID) -> Tenant:
    """A tenant, or 404."""
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound("No such tenant.")
    return tenant


async def add_tenant(*, session: AsyncSession, principal: Principal, tenant_in: TenantCreate, origin: Origin) -> Tenant:
    """A tenant with its built-in roles, audited."""
    tenant = await create_tenant(session=session, slug=tenant_in.slug, name=tenant_in.name)
    await audit.record(
        session=session,
        action="tenant.create",
        origin=origin,
        principal=principal,
        target_type="tenant",
        target_id=tenant.id,
        detail={"slug": tenant.slug},
    )
    return tenant


async def update_tenant(
    *, session: AsyncSession, principal: Principal, tenant_id: uuid.UUID, tenant_in: TenantUpdate, origin: Origin
) -> Tenant:
    """Rename or suspend/reactivate a tenant; suspending ends every session of its users at once."""
    tenant = await get_tenant(session=session, tenant_id=tenant_id)
    changes: dict[str, object] = {}
    if tenant_in.name is not None and tenant_in.name != tenant.name:
        tenant.name = changes["name"] = tenant_in.name
    if tenant_in.status is not None and tenant_in.status != tenant.status:
        if tenant.id == principal.tenant_id and tenant_in.status == "suspended":
            raise Conflict("You cannot suspend your own tenant.")
        tenant.status = changes["status"] = tenant_in.status
        if tenant.status == "suspended":
            ended = await session.execute(
                update(Session)
                .where(Session.tenant_id == tenant.id, Session.revoked_at.is_(None))
                .values(revoked_at=utcnow(), revoke_reason="tenant_suspended")
                .execution_options(synchronize_session=False)
            )
            changes["sessions_revoked"] = cast("CursorResult[Any]", ended).rowcount
    await session.flush()
    if changes:
        await audit.record(
            session=session,
            action="tenant.update",
            origin=origin,
            principal=principal,
            target_type="tenant",
            target_id=tenant.id,
            detail=changes,
        )
    return tenant


async def delete_tenant(
    *, session: AsyncSession, principal: Principal, tenant_id: uuid.UUID, confirm: str, origin: Origin
) -> None:
    """Remove a tenant and everything it owns; `confirm` must repeat its slug."""
    tenant = await get_tenant(session=session, tenant_id=tenant_id)
    if tenant.id == principal.tenant_id:
        raise Conflict("You cannot delete your own tenant.")
    if confirm != tenant.slug:
        raise UnprocessableEntity(
            f"To delete this tenant and all its data, repeat its slug: ?confirm={tenant.slug}",
            errors=[FieldError(loc=["query", "confirm"], msg="must equal the tenant's slug", type="confirmation")],
        )
    await audit.record(
        session=session,
        action="tenant.delete",
        origin=origin,
        principal=principal,
        tenant_id=principal.tenant_id,
        target_type="tenant",
        target_id=tenant.id,
        detail={"slug": tenant.slug, "name": tenant.name},
    )
    # Rows that point at the tenant go with it (ON DELETE CASCADE); SQLite needs the users' own first.
    user_ids = select(User.id).where(User.tenant_id == tenant.id)
    await session.execute(delete(Session).where(Session.user_id.in_(user_ids)))
    await session.execute(delete(Group).where(Group.tenant_id == tenant.id))
    await session.execute(delete(User).where(User.tenant_id == tenant.id))
    await session.execute(delete(Role).where(Role.tenant_id == tenant.id))
    await session.delete(tenant)
    await session.flush()


# --- roles -----------------------------------------------------------------------------------------


async def list_roles(*, session: AsyncSession, principal: Principal) -> tuple[list[Role], RoleGraph]:
    """The tenant's roles, by name, with the graph that explains their permissions."""
    graph = await role_graph(session, principal.tenant_id)
    roles = list(await session.scalars(select(Role).where(Role.tenant_id == principal.tenant_id).order_by(Role.name)))
    return roles, graph


async def get_role(*, session: AsyncSession, principal: Principal, role_id: uuid.UUID) -> Role:
    """A role of the principal's tenant, or 404."""
    role = await session.get(Role, role_id)
    if role is None or role.tenant_id != principal.tenant_id:
        raise NotFound("No such role.")
    return role


async def _check_rank_over_role(session: AsyncSession, principal: Principal, role: Role) -> None:
    """Changing or deleting a role takes from its holders: only someone holding all it grants may."""
    graph = await role_graph(session, role.tenant_id)
    _check_outranks(principal, graph.permissions_of([role.id]), f"the role {role.name}")


def _known_codes(codes: list[str]) -> list[str]:
    unknown = sorted(set(codes) - permissions.CODES)
    if unknown:
        raise UnprocessableEntity(
            f"Unknown permission: {', '.join(unknown)}; GET /api/admin/permissions lists them.",
            errors=[
                FieldError(loc=["body", "permissions"], msg=f"unknown permission {c!r}", type="unknown_permission")
                for c in unknown
            ],
        )
    return sorted(set(codes))


async def _parent_id(
    session: AsyncSession, principal: Principal, parent: str | None, role_id: uuid.UUID | None
) -> uuid.UUID | None:
    if parent is None:
        return None
    (found,) = await _roles_by_name(session, principal.tenant_id, [parent])
    graph = await role_graph(session, principal.tenant_id)
    current: uuid.UUID | None = found.id
    while current is not None:  # refuse a parent chain that would lead back to this role
        if current == role_id:
            raise UnprocessableEntity(f"A role cannot inherit from itself, even through {parent!r}.")
        current = graph.parents.get(current)
    return found.id


async def create_role(*, session: AsyncSession, principal: Principal, role_in: RoleCreate, origin: Origin) -> Role:
    """A custom role; nobody creates a role granting more than they hold."""
    if await session.scalar(select(Role.id).where(Role.tenant_id == principal.tenant_id, Role.name == role_in.name)):
        raise Conflict(f"A role named {role_in.name!r} exists.")
    codes = _known_codes(role_in.permissions)
    parent_id = await _parent_id(session, principal, role_in.parent, None)
    role = Role(
        tenant_id=principal.tenant_id,
        name=role_in.name,
        description=role_in.description,
        parent_id=parent_id,
        grants=[RolePermission(permission=code) for code in codes],
    )
    session.add(role)
    await session.flush()
    if not principal.is_superadmin:
        _check_can_grant(principal, await _granted(session, principal.tenant_id, [role]))
    await audit.record(
        session=session,
        action="role.create",
        origin=origin,
        principal=principal,
        target_type="role",
        target_id=role.id,
        detail={"name": role.name, "permissions": codes, "parent": role_in.parent},
    )
    return role


async def update_role(
    *, session: AsyncSession, principal: Principal, role_id: uuid.UUID, role_in: RoleUpdate, origin: Origin
) -> Role:
    """Change a custom role's description, parent or permissions."""
    role = await get_role(session=session, principal=principal, role_id=role_id)
    if role.builtin:
        raise Conflict("Built-in roles cannot change; create a custom role instead.")
    await _check_rank_over_role(session, principal, role)
    changes: dict[str, object] = {}
    if role_in.description is not None:
        role.description = changes["description"] = role_in.description
    if "parent" in role_in.model_fields_set:
        role.parent_id = await _parent_id(session, principal, role_in.parent, role.id)
        changes["parent"] = role_in.parent
    if role_in.permissions is not None:
        codes = _known_codes(role_in.permissions)
        await session.execute(delete(RolePermission).where(RolePermission.role_id == role.id))
        session.add_all(RolePermission(role_id=role.id, permission=code) for code in codes)
        changes["permissions"] = codes
    await session.flush()
    if not principal.is_superadmin:
        _check_can_grant(principal, await _granted(session, principal.tenant_id, [role]))
    await audit.record(
        session=session,
        action="role.update",
        origin=origin,
        principal=principal,
        target_type="role",
        target_id=role.id,
        detail=changes,
    )
    return role


async def delete_role(*, session: AsyncSession, principal: Principal, role_id: uuid.UUID, origin: Origin) -> None:
    """Delete a custom role; its holders lose what it granted."""
    role = await get_role(session=session, principal=principal, role_id=role_id)
    if role.builtin:
        raise Conflict("Built-in roles cannot be deleted.")
    await _check_rank_over_role(session, principal, role)
    await audit.record(
        session=session,
        action="role.delete",
        origin=origin,
        principal=principal,
        target_type="role",
        target_id=role.id,
        detail={"name": role.name},
    )
    await session.execute(update(Role).where(Role.parent_id == role.id).values(parent_id=None))
    await session.delete(role)
    await session.flush()


# --- groups ----------------------------------------------------------------------------------------


async def get_group(*, session: AsyncSession, principal: Principal, group_id: uuid.UUID) -> Group:
    """A group of the principal's tenant, or 404."""
    group = await session.get(Group, group_id)
    if group is None or group.tenant_id != principal.tenant_id:
        raise NotFound("No such group.")
    return group


async def group_roles(session: AsyncSession, group_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[tuple[uuid.UUID, str]]]:
    """The roles of each group, by name."""
    found: dict[uuid.UUID, list[tuple[uuid.UUID, str]]] = {group_id: [] for group_id in group_ids}
    rows = await session.execute(
        select(GroupRole.group_id, Role.id, Role.name)
        .join(Role, Role.id == GroupRole.role_id)
        .where(GroupRole.group_id.in_(group_ids))
        .order_by(Role.name)
    )
    for group_id, role_id, name in rows:
        found[group_id].append((role_id, name))
    return found


async def member_counts(session: AsyncSession, group_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """How many members each group has."""
    rows = await session.execute(
        select(GroupMember.group_id, func.count()).where(GroupMember.group_id.in_(group_ids)).group_by(GroupMember.group_id)
    )
    counts = dict.fromkeys(group_ids, 0)
    counts.update((group_id, count) for group_id, count in rows.all())
    return counts


async def list_groups(*, session: AsyncSession, principal: Principal) -> list[Group]:
    """The tenant's groups, by name."""
    return list(await session.scalars(select(Group).where(Group.tenant_id == principal.tenant_id).order_by(Group.name)))


async def my_groups(*, session: AsyncSession, principal: Principal) -> list[Group]:
    """The groups the principal belongs to."""
    rows = await session.scalars(
        select(Group)
        .join(GroupMember, GroupMember.group_id == Group.id)
        .where(GroupMember.user_id == principal.user_id)
        .order_by(Group.name)
    )
    return list(rows)


async def _check_rank_over_group(session: AsyncSession, principal: Principal, group: Group) -> None:
    """A group is as high as the roles it gives: changing it, its members or its roles needs all of them."""
    graph = await role_graph(session, group.tenant_id)
    role_ids = await session.scalars(select(GroupRole.role_id).where(GroupRole.group_id == group.id))
    _check_outranks(principal, graph.permissions_of(role_ids), f"the group {group.name}")


async def _set_group_roles(session: AsyncSession, principal: Principal, group: Group, names: list[str]) -> list[str]:
    roles = await _roles_by_name(session, group.tenant_id, names)
    if not principal.is_superadmin:
        _check_can_grant(principal, await _granted(session, group.tenant_id, roles))
    await session.execute(delete(GroupRole).where(GroupRole.group_id == group.id))
    session.add_all(GroupRole(group_id=group.id, role_id=role.id) for role in roles)
    return [role.name for role in roles]


async def create_group(*, session: AsyncSession, principal: Principal, group_in: GroupCreate, origin: Origin) -> Group:
    """A new group with the roles named."""
    if await session.scalar(select(Group.id).where(Group.tenant_id == principal.tenant_id, Group.name == group_in.name)):
        raise Conflict(f"A group named {group_in.name!r} exists.")
    group = Group(tenant_id=principal.tenant_id, name=group_in.name, description=group_in.description)
    session.add(group)
    await session.flush()
    roles = await _set_group_roles(session, principal, group, group_in.roles)
    await session.flush()
    await audit.record(
        session=session,
        action="group.create",
        origin=origin,
        principal=principal,
        target_type="group",
        target_id=group.id,
        detail={"name": group.name, "roles": roles},
    )
    return group


async def update_group(
    *, session: AsyncSession, principal: Principal, group_id: uuid.UUID, group_in: GroupUpdate, origin: Origin
) -> Group:
    """Rename a group, change its description or roles (all it gives, before and after, must be the principal's)."""
    group = await get_group(session=session, principal=principal, group_id=group_id)
    await _check_rank_over_group(session, principal, group)
    owners = await _owners(session, group.tenant_id)
    changes: dict[str, object] = {}
    if group_in.name is not None and group_in.name != group.name:
        if await session.scalar(select(Group.id).where(Group.tenant_id == group.tenant_id, Group.name == group_in.name)):
            raise Conflict(f"A group named {group_in.name!r} exists.")
        group.name = changes["name"] = group_in.name
    if group_in.description is not None:
        group.description = changes["description"] = group_in.description
    if group_in.roles is not None:
        changes["roles"] = await _set_group_roles(session, principal, group, group_in.roles)
    await _keep_an_owner(session, group.tenant_id, owners)
    await audit.record(
        session=session,
        action="group.update",
        origin=origin,
        principal=principal,
        target_type="group",
        target_id=group.id,
        detail=changes,
    )
    return group


async def delete_group(*, session: AsyncSession, principal: Principal, group_id: uuid.UUID, origin: Origin) -> None:
    """Delete a group the principal outranks; its members lose the roles it gave them."""
    group = await get_group(session=session, principal=principal, group_id=group_id)
    await _check_rank_over_group(session, principal, group)
    owners = await _owners(session, group.tenant_id)
    await audit.record(
        session=session,
        action="group.delete",
        origin=origin,
        principal=principal,
        target_type="group",
        target_id=group.id,
        detail={"name": group.name},
    )
    await session.delete(group)
    await _keep_an_owner(session, group.tenant_id, owners)


async def list_members(*, session: AsyncSession, principal: Principal, group_id: uuid.UUID) -> list[User]:
    """The members of a group, by username."""
    group = await get_group(session=session, principal=principal, group_id=group_id)
    rows = await session.scalars(
        select(User)
        .join(GroupMember, GroupMember.user_id == User.id)
        .where(GroupMember.group_id == group.id)
        .order_by(User.username)
    )
    return list(rows)


async def add_member(
    *, session: AsyncSession, principal: Principal, group_id: uuid.UUID, user_id: uuid.UUID, origin: Origin
) -> None:
    """Put a user of the same tenant in a group (a no-op when already there): a grant of the group's roles."""
    group = await get_group(session=session, principal=principal, group_id=group_id)
    user = await get_user(session=session, principal=principal, user_id=user_id)
    if user.tenant_id != group.tenant_id:
        raise NotFound("No such user.")
    if not principal.is_superadmin:
        role_ids = list(await session.scalars(select(GroupRole.role_id).where(GroupRole.group_id == group.id)))
        _check_can_grant(principal, (await role_graph(session, group.tenant_id)).permissions_of(role_ids))
    await check_rank_over_user(session=session, principal=principal, user=user)
    if await session.get(GroupMember, (group.id, user.id)) is None:
        session.add(GroupMember(group_id=group.id, user_id=user.id))
        await session.flush()
        await audit.record(
            session=session,
            action="group.member_add",
            origin=origin,
            principal=principal,
            target_type="group",
            target_id=group.id,
            detail={"user": user.username},
        )


async def remove_member(
    *, session: AsyncSession, principal: Principal, group_id: uuid.UUID, user_id: uuid.UUID, origin: Origin
) -> None:
    """Take a user out of a group; the principal must outrank both, and the tenant keeps an owner."""
    group = await get_group(session=session, principal=principal, group_id=group_id)
    user = await get_user(session=session, principal=principal, user_id=user_id)
    await _check_rank_over_group(session, principal, group)
    await check_rank_over_user(session=session, principal=principal, user=user)
    membership = await session.get(GroupMember, (group.id, user.id))
    if membership is None:
        raise NotFound("That user is not in this group.")
    owners = await _owners(session, group.tenant_id)
    await session.delete(membership)
    await _keep_an_owner(session, group.tenant_id, owners)
    await audit.record(
        session=session,
        action="group.member_remove",
        origin=origin,
        principal=principal,
        target_type="group",
        target_id=group.id,
        detail={"user_id": str(user_id)},
    )


# --- first start -----------------------------------------------------------------------------------


async def bootstrap(*, session: AsyncSession, settings: Settings) -> str | None:
    """On an empty database: tenant `default` and the first super-admin. Returns a generated password, if any."""
    if await session.scalar(select(func.count()).select_from(Tenant)):
        return None
    tenant = await create_tenant(session=session, slug=DEFAULT_TENANT, name="Default")
    generated = None
    password = settings.admin_password
    username = settings.admin_username.strip().lower()
    if password:
        problems = passwords.policy_problems(password, username=username)
        if problems:
            raise ConfigError(f"NUBES_ADMIN_PASSWORD: {' '.join(problems)}")
    else:
        password = generated = secrets.token_urlsafe(18)
    owner = await session.scalar(select(Role).where(Role.tenant_id == tenant.id, Role.name == "owner"))
    admin = User(
        tenant_id=tenant.id,
        username=username,
        password_hash=await passwords.hash_password(settings, password),
        is_superadmin=True,
        display_name="Administrator",
    )
    session.add(admin)
    await session.flush()
    if owner is not None:
        session.add(UserRole(user_id=admin.id, role_id=owner.id))
    await audit.record(
        session=session,
        action="tenant.create",
        origin=Origin(ip="", user_agent="nubes bootstrap"),
        tenant_id=tenant.id,
        actor_name="system",
        target_type="tenant",
        target_id=tenant.id,
        detail={"slug": tenant.slug, "first_admin": admin.username},
    )
    await session.flush()
    return generated

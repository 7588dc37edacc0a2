"""Sign-in, sessions and refresh-token rotation, personal access tokens, and sudo mode (re-authentication)."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any, cast

import structlog
from sqlalchemy import CursorResult, Row, func, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core import audit
from nubes.core.audit import Origin
from nubes.core.db import READ_ONLY, utcnow
from nubes.core.errors import Forbidden, NotFound, Unauthorized
from nubes.core.principal import Principal
from nubes.core.ratelimit import RateLimiter
from nubes.identity.mfa.models import Passkey, TotpSecret
from nubes.identity.roles.service import GROUP, ROLE, cached_role_graph, check_can_grant, memberships
from nubes.identity.sessions.cache import PrincipalCache
from nubes.identity.sessions.models import PersonalAccessToken, RefreshToken, Session
from nubes.identity.sessions.schemas import AccessTokenCreate, AppPasswordCreate
from nubes.identity.sessions.tokens import (
    APP_PASSWORD_PREFIX,
    OAUTH_TOKEN_PREFIX,
    PAT_PREFIX,
    KeyRing,
    hash_token,
    new_app_password,
    new_oauth_token,
    new_personal_token,
    new_refresh_token,
)
from nubes.identity.sessions.usage import token_use
from nubes.identity.tenants.models import Tenant
from nubes.identity.users import passwords
from nubes.identity.users.models import User

log = structlog.get_logger("nubes.identity.sessions")


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A session just started or refreshed, with the refresh token to hand out (shown once)."""

    user: User
    session: Session
    refresh_token: str


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
    reason = await _sign_in_refusal(session, user)
    if reason is None:
        return
    await _login_failed(session, user, origin, reason)
    if reason == "email_unverified":
        raise EmailUnverified(
            f"Confirm your email address first: open the link we sent to {user.email}, or ask for a new link.",
            keep_changes=True,
        )
    raise Unauthorized("This account cannot sign in; ask an admin.", keep_changes=True)


async def _sign_in_refusal(session: AsyncSession, user: User) -> str | None:
    """Why a user who proved who they are may not sign in (inactive, tenant suspended, unverified), or None."""
    tenant = await session.get(Tenant, user.tenant_id)
    if not user.is_active:
        return "user_inactive"
    if tenant is None or tenant.status != "active":
        return "tenant_suspended"
    if user.email_verification_required and user.email_verified_at is None:
        return "email_unverified"
    return None


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
    """Everything one request learned about its caller: the principal and the columns GET /api/users/me shows."""

    principal: Principal
    user: dict[str, Any]  # the columns of USER_COLUMNS (never the password hash)
    tenant: dict[str, Any]  # id, slug, name, status
    roles: list[tuple[uuid.UUID, str]]
    # When the user last proved who they are in this session (None for a personal access token).
    reauthenticated_at: datetime | None = None
    # When the credential stops being valid by itself (the session's or token's expiry; None: never).
    valid_until: datetime | None = None
    token_id: uuid.UUID | None = None  # the personal access token's id, for its last-use time


# The user's and tenant's columns the caller's query reads: what the principal and GET /api/users/me need.
USER_COLUMNS = (
    User.id,
    User.tenant_id,
    User.username,
    User.email,
    User.display_name,
    User.is_active,
    User.is_superadmin,
    User.email_verified_at,
    User.pending_email,
    User.created_at,
    User.last_login_at,
)
TENANT_COLUMNS = (
    Tenant.slug.label("tenant_slug"),
    Tenant.name.label("tenant_name"),
    Tenant.status.label("tenant_status"),
    Tenant.roles_version.label("tenant_roles_version"),
)


@dataclass(frozen=True, slots=True)
class _Caller:
    """The caller's row (the first of the query's rows) and what the user belongs to (every row's membership)."""

    row: Row[Any]
    role_ids: frozenset[uuid.UUID]
    group_ids: frozenset[uuid.UUID]


def _caller(rows: Sequence[Row[Any]]) -> _Caller:
    role_ids = frozenset(row.ref for row in rows if row.kind == ROLE)
    group_ids = frozenset(row.ref for row in rows if row.kind == GROUP)
    return _Caller(row=rows[0], role_ids=role_ids, group_ids=group_ids)


async def _identity(
    session: AsyncSession, caller: _Caller, principal: Callable[[frozenset[str]], Principal], **credential: Any
) -> Identity:
    """The identity of a checked caller: its permissions from the tenant's (cached) role graph."""
    row = caller.row
    graph = await cached_role_graph(session=session, tenant_id=row.tenant_id, version=row.tenant_roles_version)
    held = [role_id for role_id in caller.role_ids if role_id in graph.names]
    roles = sorted(((role_id, graph.names[role_id]) for role_id in held), key=lambda role: role[1])
    return Identity(
        principal=principal(graph.permissions_of(held)),
        user={column.key: getattr(row, column.key) for column in USER_COLUMNS},
        tenant={"id": row.tenant_id, "slug": row.tenant_slug, "name": row.tenant_name, "status": row.tenant_status},
        roles=roles,
        **credential,
    )


async def load_identity(*, session: AsyncSession, user_id: uuid.UUID, session_id: uuid.UUID) -> Identity:
    """The caller behind a verified access token, if its user, tenant and session are all still valid.

    One statement (the user, session and tenant columns with the user's roles and groups), plus one to read the
    tenant's role graph when the cached copy is not at the tenant's `roles_version`.
    """
    held = memberships(user_id)
    rows = (
        await session.execute(
            select(*USER_COLUMNS, Session.revoked_at, Session.expires_at, Session.reauthenticated_at, *TENANT_COLUMNS)
            .add_columns(held.c.kind, held.c.ref)
            .select_from(User)
            .join(Session, Session.user_id == User.id)
            .join(Tenant, Tenant.id == User.tenant_id)
            .outerjoin(held, true())
            .where(User.id == user_id, Session.id == session_id)
        )
    ).all()
    if not rows:
        raise Unauthorized("This sign-in is no longer valid; sign in again.")
    caller = _caller(rows)
    row = caller.row
    if row.revoked_at is not None or row.expires_at <= utcnow():
        raise Unauthorized("This session has ended; sign in again.")
    if not row.is_active:
        raise Unauthorized("This account has been deactivated.")
    if row.tenant_status != "active":
        raise Unauthorized("This organization is suspended; ask your administrator.")

    def principal(codes: frozenset[str]) -> Principal:
        return Principal(
            user_id=row.id,
            tenant_id=row.tenant_id,
            username=row.username,
            permissions=codes,
            is_superadmin=row.is_superadmin,
            session_id=session_id,
            group_ids=caller.group_ids,
        )

    return await _identity(session, caller, principal, reauthenticated_at=row.reauthenticated_at, valid_until=row.expires_at)


async def create_access_token(
    *, session: AsyncSession, principal: Principal, token_in: AccessTokenCreate, origin: Origin
) -> tuple[PersonalAccessToken, str]:
    """A scoped token for the principal; it never carries a permission the principal lacks."""
    expires_at = utcnow() + timedelta(days=token_in.expires_in_days) if token_in.expires_in_days else None
    token, token_hash = new_personal_token()
    row = await _issue(
        session=session,
        principal=principal,
        kind="token",
        name=token_in.name,
        scopes=token_in.scopes,
        secret=(token, token_hash),
        expires_at=expires_at,
        origin=origin,
    )
    return row, token


async def _issue(
    *,
    session: AsyncSession,
    principal: Principal,
    kind: str,
    name: str,
    scopes: Iterable[str],
    secret: tuple[str, str],
    expires_at: datetime | None,
    origin: Origin,
) -> PersonalAccessToken:
    """A token row of `kind` for the principal, with scopes it holds (its secret shown once), audited."""
    if principal.credential == "token":
        raise Forbidden("A token or app password cannot make more of them; sign in to do this.")
    granted = sorted(set(scopes))
    if not principal.is_superadmin:
        check_can_grant(principal, frozenset(granted))
    plain, hashed = secret
    row = PersonalAccessToken(
        tenant_id=principal.tenant_id,
        user_id=principal.user_id,
        name=name,
        kind=kind,
        token_hash=hashed,
        prefix=plain[:12],
        scopes=granted,
        expires_at=expires_at,
    )
    session.add(row)
    await session.flush()
    detail: dict[str, Any] = {"name": name, "scopes": granted}
    if kind == "token":
        detail["expires_at"] = expires_at.isoformat() if expires_at else None
    await audit.record(
        session=session,
        action="app_password.create" if kind == "app" else "token.create",
        origin=origin,
        principal=principal,
        target_type="token",
        target_id=row.id,
        detail=detail,
    )
    return row


async def list_access_tokens(*, session: AsyncSession, principal: Principal, kind: str = "token") -> list[PersonalAccessToken]:
    """The principal's live tokens of `kind` ("token", or "app" for app passwords), newest first."""
    rows = await session.scalars(
        select(PersonalAccessToken)
        .where(
            PersonalAccessToken.user_id == principal.user_id,
            PersonalAccessToken.tenant_id == principal.tenant_id,
            PersonalAccessToken.kind == kind,
            PersonalAccessToken.revoked_at.is_(None),
        )
        .order_by(PersonalAccessToken.created_at.desc())
    )
    return list(rows)


async def revoke_access_token(
    *, session: AsyncSession, principal: Principal, token_id: uuid.UUID, origin: Origin, kind: str = "token"
) -> None:
    """Revoke one of the principal's tokens of `kind`; it stops working at once (on every replica)."""
    row = await session.get(PersonalAccessToken, token_id)
    if row is None or row.user_id != principal.user_id or row.tenant_id != principal.tenant_id or row.kind != kind:
        raise NotFound("No such app password." if kind == "app" else "No such token.")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        await session.flush()
    await audit.record(
        session=session,
        action="app_password.revoke" if kind == "app" else "token.revoke",
        origin=origin,
        principal=principal,
        target_type="token",
        target_id=row.id,
    )


async def create_app_password(
    *, session: AsyncSession, principal: Principal, app_password_in: AppPasswordCreate, origin: Origin
) -> tuple[PersonalAccessToken, str]:
    """An app password for one device (a WebDAV or sync client), with scopes the principal holds; shown once."""
    password, password_hash = new_app_password()
    row = await _issue(
        session=session,
        principal=principal,
        kind="app",
        name=app_password_in.name,
        scopes=app_password_in.scopes,
        secret=(password, password_hash),
        expires_at=None,
        origin=origin,
    )
    return row, password


async def create_oauth_token(
    *,
    session: AsyncSession,
    tenant_id: uuid.UUID,
    user_id: uuid.UUID,
    client_id: str,
    name: str,
    scopes: Iterable[str],
    expires_at: datetime,
) -> tuple[PersonalAccessToken, str]:
    """An app token (kind "oauth") the OAuth2 provider issues to `client_id` for a user; shown once.

    `scopes` are permission codes (narrowed again to what the user holds at every use, as for every token) and the
    app's other scopes (`openid`, `data:write:posts`, ...), which `identity_from_access_token` hands over as grants.
    The provider checked the user's consent and narrowed the codes to what the user holds before calling this.
    """
    token, token_hash = new_oauth_token()
    row = PersonalAccessToken(
        tenant_id=tenant_id,
        user_id=user_id,
        name=name[:100],
        kind="oauth",
        token_hash=token_hash,
        prefix=token[:12],
        scopes=sorted(set(scopes)),
        expires_at=expires_at,
        client_id=client_id,
    )
    session.add(row)
    await session.flush()
    return row, token


async def get_oauth_token(*, session: AsyncSession, token: str) -> PersonalAccessToken | None:
    """The app token row behind `token` (revoked or expired included), or None."""
    if not token.startswith(OAUTH_TOKEN_PREFIX):
        return None
    row: PersonalAccessToken | None = await session.scalar(
        select(PersonalAccessToken).where(
            PersonalAccessToken.token_hash == hash_token(token), PersonalAccessToken.kind == "oauth"
        )
    )
    return row


async def revoke_oauth_tokens(
    *,
    session: AsyncSession,
    tenant_id: uuid.UUID,
    client_id: str,
    user_id: uuid.UUID | None = None,
    token_ids: Iterable[uuid.UUID] | None = None,
) -> int:
    """Revoke the live app tokens of `client_id` in a tenant (of one user, or only `token_ids`); they stop at once."""
    statement = (
        update(PersonalAccessToken)
        .where(
            PersonalAccessToken.tenant_id == tenant_id,
            PersonalAccessToken.kind == "oauth",
            PersonalAccessToken.client_id == client_id,
            PersonalAccessToken.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if user_id is not None:
        statement = statement.where(PersonalAccessToken.user_id == user_id)
    if token_ids is not None:
        statement = statement.where(PersonalAccessToken.id.in_(list(token_ids)))
    return rowcount(await session.execute(statement))


async def oauth_last_use(*, session: AsyncSession, user_id: uuid.UUID) -> dict[str, datetime]:
    """When each app last used one of the user's app tokens, by client_id."""
    rows = await session.execute(
        select(PersonalAccessToken.client_id, func.max(PersonalAccessToken.last_used_at))
        .where(
            PersonalAccessToken.user_id == user_id,
            PersonalAccessToken.kind == "oauth",
            PersonalAccessToken.last_used_at.is_not(None),
        )
        .group_by(PersonalAccessToken.client_id)
    )
    return {client_id: used for client_id, used in rows.tuples() if client_id is not None and used is not None}


async def identity_from_access_token(
    *, session: AsyncSession, token: str, kinds: frozenset[str] = frozenset({"token"})
) -> Identity:
    """The caller behind a personal access token (or, with `kinds`, an app password): the user's permissions
    narrowed to the token's scopes.

    One statement (the token, its user and tenant, the user's roles), plus one for a role graph not cached.
    """
    token_hash = hash_token(token)
    owner = select(PersonalAccessToken.user_id).where(PersonalAccessToken.token_hash == token_hash).scalar_subquery()
    held = memberships(owner)
    rows = (
        await session.execute(
            select(
                PersonalAccessToken.id.label("token_id"),
                PersonalAccessToken.kind.label("token_kind"),
                PersonalAccessToken.revoked_at,
                PersonalAccessToken.expires_at,
                PersonalAccessToken.scopes,
                PersonalAccessToken.client_id,
                *USER_COLUMNS,
                *TENANT_COLUMNS,
            )
            .add_columns(held.c.kind, held.c.ref)
            .select_from(PersonalAccessToken)
            .join(User, User.id == PersonalAccessToken.user_id)
            .join(Tenant, Tenant.id == User.tenant_id)
            .outerjoin(held, true())
            .where(PersonalAccessToken.token_hash == token_hash)
        )
    ).all()
    now = utcnow()
    if not rows or rows[0].revoked_at is not None or rows[0].token_kind not in kinds:
        raise Unauthorized("This access token is not valid (revoked or mistyped).")
    caller = _caller(rows)
    row = caller.row
    if row.expires_at is not None and row.expires_at <= now:
        raise Unauthorized("This access token has expired; make a new one.")
    if not row.is_active or row.tenant_status != "active":
        raise Unauthorized("This account cannot sign in; ask an admin.")
    scopes = frozenset(row.scopes)

    def principal(codes: frozenset[str]) -> Principal:
        return Principal(
            user_id=row.id,
            tenant_id=row.tenant_id,
            username=row.username,
            permissions=codes & scopes,
            is_superadmin=False,  # a token never carries platform administration
            credential="token",
            client_id=row.client_id,
            # An app token's scopes that are not permission codes (`openid`, `data:write:posts`; codes have a dot).
            grants=frozenset(scope for scope in scopes if "." not in scope) if row.client_id else frozenset(),
        )

    return await _identity(session, caller, principal, valid_until=row.expires_at, token_id=row.token_id)


BASIC_CHALLENGE = {"WWW-Authenticate": 'Basic realm="Nubes", charset="UTF-8"'}
"""The header of every 401 of Basic auth: clients ask for credentials again."""
BASIC_PASSWORD_SECONDS = 60
"""At most this long a Basic verification of an account password is reused (the principal cache's TTL bounds it too)."""


class AppPasswordRequired(Unauthorized):
    """The account password was right, but the account has a second factor: clients need an app password."""

    code, title = "app-password-required", "App password required"


def basic_cache_key(settings: Settings, username: str, password: str) -> str:
    """The principal cache's key of a Basic credential: keyed with the server secret, so it reveals no password."""
    message = f"basic\0{username.strip().lower()}\0{password}".encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()


async def identity_from_basic(
    *,
    session: AsyncSession,
    settings: Settings,
    limiter: RateLimiter,
    username: str,
    password: str,
    origin: Origin,
    cache: PrincipalCache | None = None,
    writer: Callable[[], AsyncSession] | None = None,
) -> Identity:
    """The caller behind HTTP Basic credentials (WebDAV and sync clients), or 401 with a Basic challenge.

    The password is an app password (`nba_...`, or for now a personal access token `nbp_...`) of the user named
    `username` (their username or email), or the account password when the account has no second factor (TOTP or
    passkey); with one, the 401 (type `app-password-required`) says to make an app password. An account password
    counts against the sign-in limits (`login_rate_limit` per address and per account; 429 past them) as
    POST /api/auth/login does; a token counts only when it fails. Failures are audited (`auth.login`, failure).

    - `cache`: the app's principal cache (`request.app.state.principal_cache`). A verified credential is reused until
      its access changes (password change, deactivation, revocation, a new second factor; on every replica), the
      account password at most `BASIC_PASSWORD_SECONDS`: a sync client does not pay argon2 on every request.
    - `writer`: when `session` only reads (GET, HEAD, OPTIONS), sessions that may write
      (`request.app.state.db.writer_sessions`): a failure's audit row is committed there at once. Without one, a
      read-only request's failures are logged instead. A writable `session` records them itself (`keep_changes`).
    """
    load = partial(
        _verify_basic,
        session=session,
        settings=settings,
        limiter=limiter,
        username=username,
        password=password,
        origin=origin,
        writer=writer,
    )
    try:
        identity = await (load() if cache is None else cache.resolve(basic_cache_key(settings, username, password), load))
    except Unauthorized as exc:
        exc.headers = {**(exc.headers or {}), **BASIC_CHALLENGE}
        raise
    if identity.token_id is not None:
        token_use.note(identity.token_id, utcnow(), origin.ip)
    return identity


async def _verify_basic(
    *,
    session: AsyncSession,
    settings: Settings,
    limiter: RateLimiter,
    username: str,
    password: str,
    origin: Origin,
    writer: Callable[[], AsyncSession] | None,
) -> Identity:
    login = username.strip().lower()
    failed = partial(_basic_failed, session=session, writer=writer, login=login, origin=origin)
    if not login or not password:
        raise Unauthorized("Send your username and an app password (HTTP Basic).")
    if password.startswith((APP_PASSWORD_PREFIX, PAT_PREFIX)):
        try:
            identity = await identity_from_access_token(session=session, token=password, kinds=frozenset({"token", "app"}))
        except Unauthorized:
            identity = None
        if identity is not None and login in {identity.user["username"], (identity.user["email"] or "").lower()}:
            return identity
        account = await _account(session, login)
        # Counted after the check: valid app passwords never spend the sign-in budget of an office behind one address.
        await limiter.hit("login-ip", origin.ip, settings.login_rate_limit)
        await limiter.hit("login-account", login, settings.login_rate_limit)
        raise await failed(account, "bad_app_password", Unauthorized("Wrong username or app password."))
    await limiter.hit("login-ip", origin.ip, settings.login_rate_limit)
    await limiter.hit("login-account", login, settings.login_rate_limit)
    user = await _account(session, login)
    if user is None:
        await passwords.burn_verification(settings)
        raise await failed(None, "", Unauthorized("Wrong username or password."))
    if not await passwords.verify_password(settings, user.password_hash, password):
        raise await failed(user, "bad_password", Unauthorized("Wrong username or password."))
    refusal = await _sign_in_refusal(session, user)
    if refusal == "email_unverified":
        unconfirmed = Unauthorized("Confirm your email address first (open the link we sent you), then try again.")
        raise await failed(user, refusal, unconfirmed)
    if refusal is not None:
        raise await failed(user, refusal, Unauthorized("This account cannot sign in; ask an admin."))
    await limiter.clear("login-account", login, settings.login_rate_limit)
    if await _has_second_factor(session, user.id):
        raise await failed(
            user,
            "basic_with_second_factor",
            AppPasswordRequired(
                "This account signs in with a second factor, so its password does not work here: make an app password "
                "in your account page (Devices and app passwords) and use it as this client's password."
            ),
        )
    if not session.info.get(READ_ONLY) and passwords.needs_rehash(settings, user.password_hash):
        user.password_hash = await passwords.hash_password(settings, password)
    identity = await _user_identity(session, user.id)
    return replace(identity, valid_until=utcnow() + timedelta(seconds=BASIC_PASSWORD_SECONDS))


async def _basic_failed(
    user: User | None,
    reason: str,
    error: Unauthorized,
    *,
    session: AsyncSession,
    writer: Callable[[], AsyncSession] | None,
    login: str,
    origin: Origin,
) -> Unauthorized:
    """Audit a failed Basic attempt as a failed sign-in (where this request can write), and return `error` to raise."""
    detail = {"reason": reason, "via": "basic"} if reason else {"via": "basic"}
    fields: dict[str, Any] = {
        "action": "auth.login",
        "origin": origin,
        "tenant_id": user.tenant_id if user else None,
        "actor_id": user.id if user else None,
        "actor_name": user.username if user else login[:150],
        "outcome": "failure",
        "detail": detail,
    }
    if not session.info.get(READ_ONLY):
        await audit.record(session=session, **fields)
        error.keep_changes = True
    elif writer is not None:
        async with writer() as written, written.begin():
            await audit.record(session=written, **fields)
    else:
        log.warning("auth.basic_failed", login=login[:150], ip=origin.ip, **detail)
    return error


async def _account(session: AsyncSession, login: str) -> User | None:
    column = User.email if "@" in login else User.username
    return await session.scalar(select(User).where(column == login))


async def _has_second_factor(session: AsyncSession, user_id: uuid.UUID) -> bool:
    totp = await session.scalar(
        select(TotpSecret.user_id).where(TotpSecret.user_id == user_id, TotpSecret.confirmed_at.is_not(None))
    )
    passkey = await session.scalar(select(Passkey.id).where(Passkey.user_id == user_id).limit(1))
    return totp is not None or passkey is not None


async def _user_identity(session: AsyncSession, user_id: uuid.UUID) -> Identity:
    """The identity of a user who proved who they are without a session (Basic with the account password)."""
    held = memberships(user_id)
    rows = (
        await session.execute(
            select(*USER_COLUMNS, *TENANT_COLUMNS)
            .add_columns(held.c.kind, held.c.ref)
            .select_from(User)
            .join(Tenant, Tenant.id == User.tenant_id)
            .outerjoin(held, true())
            .where(User.id == user_id)
        )
    ).all()
    caller = _caller(rows)
    row = caller.row

    def principal(codes: frozenset[str]) -> Principal:
        # No session: like a token it cannot manage credentials, nor carry platform administration.
        return Principal(
            user_id=row.id,
            tenant_id=row.tenant_id,
            username=row.username,
            permissions=codes,
            group_ids=caller.group_ids,
            credential="token",
        )

    return await _identity(session, caller, principal)


async def identity_of(*, session: AsyncSession, keyring: KeyRing, token: str) -> Identity:
    """The caller behind an access token or a personal access token (401 for anything else), valid until it expires."""
    if token.startswith(PAT_PREFIX):
        return await identity_from_access_token(session=session, token=token)
    if token.startswith(OAUTH_TOKEN_PREFIX):
        return await identity_from_access_token(session=session, token=token, kinds=frozenset({"oauth"}))
    claims = await keyring.verify(session, token)
    identity = await load_identity(session=session, user_id=claims.user_id, session_id=claims.session_id)
    if claims.expires_at is not None and (identity.valid_until is None or claims.expires_at < identity.valid_until):
        identity = replace(identity, valid_until=claims.expires_at)
    return identity


async def get_me(session: AsyncSession, principal: Principal) -> User:
    """The signed-in principal's own user row, or 401 when the account is gone."""
    user = await session.get(User, principal.user_id)
    if user is None:
        raise Unauthorized("Your account no longer exists; sign in again.")
    return user


async def audit_self(session: AsyncSession, action: str, origin: Origin, user: User, **fields: Any) -> None:
    """An audit row for something a user did to their own account (signed in or not)."""
    await audit.record(
        session=session,
        action=action,
        origin=origin,
        tenant_id=user.tenant_id,
        actor_id=user.id,
        actor_name=user.username,
        **fields,
    )


def rowcount(result: object) -> int:
    """How many rows an UPDATE or DELETE result touched."""
    count: int = cast("CursorResult[Any]", result).rowcount
    return count

"""Routes of the identity domain: sign-in, sessions, the current user, user admin, permissions, audit."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.core import audit
from nubes.core.db import SessionDep
from nubes.core.errors import (
    PROBLEM_JSON,
    BadRequest,
    FieldError,
    Forbidden,
    Problem,
    Unauthorized,
    UnprocessableEntity,
    UnsupportedMediaType,
)
from nubes.core.jobs import after_commit
from nubes.core.mail import MailSender
from nubes.core.pagination import Limit, Offset
from nubes.core.principal import Principal
from nubes.core.ratelimit import RateLimiter
from nubes.core.routing import api_router
from nubes.identity import permissions, security, service
from nubes.identity.auth import (
    REFRESH_COOKIE,
    AnyPrincipal,
    KeyRingDep,
    OriginDep,
    SessionPrincipal,
    SettingsDep,
    SudoPrincipal,
    clear_session_cookies,
    require,
    require_superadmin,
    same_origin,
    set_session_cookies,
)
from nubes.identity.models import Group, Role, Tenant, User
from nubes.identity.schemas import (
    AccessTokenCreate,
    AccessTokenCreated,
    AccessTokenRead,
    AuditEventRead,
    AuditPage,
    GroupCreate,
    GroupRead,
    GroupUpdate,
    IsoDateTime,
    LoginRequest,
    Me,
    PasswordChange,
    PermissionRead,
    RefreshRequest,
    RoleCreate,
    RoleRead,
    RoleRef,
    RoleUpdate,
    SessionRead,
    TenantCreate,
    TenantDetail,
    TenantRead,
    TenantUpdate,
    TokenPair,
    UserAdminRead,
    UserCreate,
    UserPage,
    UserRead,
    UserUpdate,
)
from nubes.identity.tokens import AccessClaims, KeyRing

router = api_router()


class MfaRequiredProblem(Problem):
    """A sign-in problem; when `type` is `urn:nubes:problem:mfa-required`, `mfa_token` leads to the second step."""

    mfa_token: str | None = None
    methods: list[str] | None = None


class MfaRequired(Unauthorized):
    """The password was right; the account's second factor comes next."""

    code, title = "mfa-required", "Second factor required"


async def _limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


LimiterDep = Annotated[RateLimiter, Depends(_limiter)]


async def _mail(request: Request) -> MailSender:
    sender: MailSender = request.app.state.mail
    return sender


MailDep = Annotated[MailSender, Depends(_mail)]


def send_mail_after_commit(session: AsyncSession, mail: MailSender) -> None:
    """Deliver what the request queued in the outbox as soon as its transaction has committed."""
    after_commit(session, mail.wake)


_LOGIN_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": LoginRequest.model_json_schema()},
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["username", "password"],
                    "properties": {
                        "grant_type": {"type": "string", "enum": ["password"]},
                        "username": {"type": "string"},
                        "password": {"type": "string", "format": "password"},
                    },
                }
            },
        },
    }
}


async def _read_login(request: Request) -> LoginRequest:
    """The credentials, from JSON or from the OAuth2 password form."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if content_type == "application/json" or content_type.endswith("+json"):
            body = await request.body()
            try:
                return LoginRequest.model_validate_json(body)
            except ValidationError as exc:
                if any(error["type"] == "json_invalid" for error in exc.errors()):
                    raise BadRequest("The request body is not valid JSON.") from None
                raise
        if content_type in {"application/x-www-form-urlencoded", "multipart/form-data"}:
            form = await request.form()
            grant = form.get("grant_type")
            if grant not in {None, "", "password"}:
                raise BadRequest("Only grant_type=password is supported here.")
            return LoginRequest.model_validate({"username": form.get("username"), "password": form.get("password")})
    except ValidationError as exc:
        errors = [FieldError(loc=["body", *error["loc"]], msg=error["msg"], type=error["type"]) for error in exc.errors()]
        raise UnprocessableEntity(
            "Check these fields: " + ", ".join(".".join(str(p) for p in e.loc[1:]) for e in errors) + ".", errors=errors
        ) from None
    raise _unsupported(content_type)


def _unsupported(content_type: str) -> Exception:
    return UnsupportedMediaType(
        f"Send JSON or an application/x-www-form-urlencoded form (got {content_type or 'no Content-Type header'})."
    )


async def token_pair(session: SessionDep, keyring: KeyRing, signed_in: service.SignedIn) -> TokenPair:
    access, ttl = await keyring.issue(
        session,
        claims=AccessClaims(user_id=signed_in.user.id, tenant_id=signed_in.user.tenant_id, session_id=signed_in.session.id),
    )
    return TokenPair(access_token=access, refresh_token=signed_in.refresh_token, expires_in=ttl)


@router.post(
    "/auth/login",
    operation_id="auth-login",
    response_model=TokenPair,
    tags=["auth"],
    summary="Sign in with a username (or email) and password",
    openapi_extra=_LOGIN_BODY,
    responses={
        401: {
            "model": MfaRequiredProblem,
            "content": {PROBLEM_JSON: {}},
            "description": "Wrong credentials; or (type `urn:nubes:problem:mfa-required`) the password was right and "
            "the account has a second factor: send `mfa_token` and a code to POST /api/auth/login/mfa",
        }
    },
)
async def login(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    keyring: KeyRingDep,
    origin: OriginDep,
    limiter: LimiterDep,
) -> TokenPair:
    """Check the password and start a session: tokens in the body, and the same as httpOnly cookies for browsers."""
    if not same_origin(request, settings):
        raise Forbidden("Sign-in from another site is refused (CSRF protection).")
    credentials = await _read_login(request)
    account = credentials.username.strip().lower()
    await limiter.hit("login-ip", origin.ip, settings.login_rate_limit)
    await limiter.hit("login-account", account, settings.login_rate_limit)
    found = await service.find_account(session=session, login=account)
    # The password check takes ~150 ms of argon2id: hold no transaction meanwhile (on SQLite that would be
    # the write lock, stalling every other writer). Nothing has been written yet.
    await session.commit()
    user = await service.authenticate(
        session=session, settings=settings, login=account, user=found, password=credentials.password, origin=origin
    )
    await limiter.clear("login-account", account, settings.login_rate_limit)
    if await security.has_second_factor(session=session, user_id=user.id):
        raise MfaRequired(
            "Enter the code from your authenticator app (or a recovery code) to finish signing in.",
            extensions={"mfa_token": await security.start_mfa(session=session, user=user), "methods": ["totp", "recovery_code"]},
            keep_changes=True,
        )
    signed_in = await service.start_session(session=session, settings=settings, user=user, origin=origin)
    pair = await token_pair(session, keyring, signed_in)
    set_session_cookies(response, settings, access_token=pair.access_token, refresh_token=pair.refresh_token)
    response.headers["Cache-Control"] = "no-store"
    return pair


@router.post(
    "/auth/refresh", operation_id="auth-refresh", response_model=TokenPair, tags=["auth"], summary="Rotate a refresh token"
)
async def refresh(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    keyring: KeyRingDep,
    origin: OriginDep,
    limiter: LimiterDep,
    body: RefreshRequest | None = None,
) -> TokenPair:
    """Trade a refresh token (body or cookie) for a new pair; a token used twice ends its whole session."""
    token = body.refresh_token if body and body.refresh_token else None
    if token is None:
        token = request.cookies.get(REFRESH_COOKIE)
        if token and not same_origin(request, settings):
            raise Forbidden("Refresh from another site is refused (CSRF protection).")
    if not token:
        raise Unauthorized("Send the refresh token in the body (refresh_token) or sign in again.")
    await limiter.hit("refresh-ip", origin.ip, "60/minute")
    signed_in = await service.refresh(session=session, settings=settings, token=token, origin=origin)
    pair = await token_pair(session, keyring, signed_in)
    if not (body and body.refresh_token):
        set_session_cookies(response, settings, access_token=pair.access_token, refresh_token=pair.refresh_token)
    response.headers["Cache-Control"] = "no-store"
    return pair


@router.post("/auth/logout", operation_id="auth-logout", status_code=204, tags=["auth"], summary="Sign out")
async def logout(
    request: Request, session: SessionDep, settings: SettingsDep, origin: OriginDep, body: RefreshRequest | None = None
) -> Response:
    """End the session of this refresh token (body or cookie) and clear the browser's cookies."""
    # Another site must not sign the browser out either (its answer would clear the cookies).
    if not same_origin(request, settings):
        raise Forbidden("Sign-out from another site is refused (CSRF protection).")
    token = body.refresh_token if body and body.refresh_token else request.cookies.get(REFRESH_COOKIE)
    if token:
        await service.end_session_by_token(session=session, token=token, origin=origin)
    response = Response(status_code=204)
    clear_session_cookies(response)
    return response


@router.get("/auth/jwks.json", operation_id="auth-jwks", tags=["auth"], summary="Public keys of access tokens")
async def jwks(session: SessionDep, keyring: KeyRingDep) -> dict[str, list[dict[str, Any]]]:
    """The JWK Set that verifies Nubes access tokens (EdDSA, with `kid`)."""
    return await keyring.jwks(session)


# --- the current user ------------------------------------------------------------------------------


@router.get("/users/me", operation_id="users-me", response_model=Me, tags=["users"], summary="Who am I")
async def me(request: Request, principal: AnyPrincipal) -> Me:
    """The signed-in user, their tenant, roles and effective permissions."""
    identity: service.Identity = request.state.identity
    return Me(
        user=UserRead.model_validate(identity.user),
        tenant=TenantRead.model_validate(identity.tenant),
        roles=[RoleRef(id=role_id, name=name) for role_id, name in identity.roles],
        permissions=sorted(principal.permissions | (permissions.CODES if principal.is_superadmin else frozenset())),
    )


@router.get(
    "/users/me/sessions",
    operation_id="users-me-sessions",
    response_model=list[SessionRead],
    tags=["users"],
    summary="My sessions",
)
async def my_sessions(session: SessionDep, principal: SessionPrincipal) -> list[SessionRead]:
    """Where you are signed in (device, address, last use), the current one marked."""
    rows = await service.list_sessions(session=session, principal=principal)
    return [SessionRead.model_validate(row).model_copy(update={"current": row.id == principal.session_id}) for row in rows]


@router.delete(
    "/users/me/sessions/{session_id}",
    operation_id="users-me-sessions-revoke",
    status_code=204,
    tags=["users"],
    summary="End one of my sessions",
)
async def revoke_my_session(session_id: uuid.UUID, session: SessionDep, principal: SudoPrincipal, origin: OriginDep) -> None:
    """Sign that device out; its tokens stop working at once."""
    await service.revoke_session(session=session, principal=principal, session_id=session_id, origin=origin)


@router.post(
    "/users/me/password", operation_id="users-me-password", status_code=204, tags=["users"], summary="Change my password"
)
async def change_my_password(
    change: PasswordChange, session: SessionDep, settings: SettingsDep, principal: SudoPrincipal, origin: OriginDep
) -> None:
    """Set a new password (the current one is required); every other session of yours ends."""
    await service.change_password(session=session, settings=settings, principal=principal, change=change, origin=origin)


@router.get(
    "/users/me/tokens",
    operation_id="users-me-tokens",
    response_model=list[AccessTokenRead],
    tags=["users"],
    summary="My personal access tokens",
)
async def my_tokens(session: SessionDep, principal: SessionPrincipal) -> list[AccessTokenRead]:
    """Your tokens for scripts and API clients (their secrets are never shown again)."""
    return [AccessTokenRead.model_validate(row) for row in await service.list_access_tokens(session=session, principal=principal)]


@router.post(
    "/users/me/tokens",
    operation_id="users-me-tokens-create",
    response_model=AccessTokenCreated,
    status_code=201,
    tags=["users"],
    summary="Make a personal access token",
)
async def create_my_token(
    token_in: AccessTokenCreate, response: Response, session: SessionDep, principal: SudoPrincipal, origin: OriginDep
) -> AccessTokenCreated:
    """A token with the scopes named; use it as `Authorization: Bearer nbp_...`. It is shown only in this answer."""
    row, token = await service.create_access_token(session=session, principal=principal, token_in=token_in, origin=origin)
    response.headers["Cache-Control"] = "no-store"
    return AccessTokenCreated.model_validate({**AccessTokenRead.model_validate(row).model_dump(), "token": token})


@router.delete(
    "/users/me/tokens/{token_id}",
    operation_id="users-me-tokens-revoke",
    status_code=204,
    tags=["users"],
    summary="Revoke a personal access token",
)
async def revoke_my_token(token_id: uuid.UUID, session: SessionDep, principal: SudoPrincipal, origin: OriginDep) -> None:
    """The token stops working at once."""
    await service.revoke_access_token(session=session, principal=principal, token_id=token_id, origin=origin)


# --- administration ------------------------------------------------------------------------------

AdminUsers = Annotated[Principal, Depends(require("admin.users"))]


@router.get(
    "/admin/permissions",
    operation_id="admin-permissions",
    response_model=list[PermissionRead],
    tags=["admin"],
    summary="The permission catalog",
)
async def permission_catalog(_: Annotated[Principal, Depends(require("admin.roles"))]) -> list[PermissionRead]:
    """Every permission a role can grant."""
    return [PermissionRead(code=p.code, description=p.description) for p in permissions.CATALOG]


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
    roles = await service.role_names(session=session, user_ids=[user.id for user in users])
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
    user = await security.update_user(
        session=session, settings=settings, principal=principal, user_id=user_id, user_in=user_in, origin=origin
    )
    send_mail_after_commit(session, mail)
    return (await _admin_reads(session, [user]))[0]


@router.get(
    "/admin/audit",
    operation_id="admin-audit",
    response_model=AuditPage,
    tags=["admin"],
    summary="The audit log",
    responses={200: {"content": {"text/csv": {}}, "description": "A page of events, or all matching events as CSV"}},
)
async def audit_log(
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("admin.audit"))],
    action: Annotated[str | None, Query(max_length=100, description="Action or prefix, e.g. auth. or auth.login")] = None,
    actor: Annotated[str | None, Query(max_length=150)] = None,
    outcome: Annotated[Literal["success", "failure", "denied"] | None, Query()] = None,
    since: Annotated[IsoDateTime | None, Query(description="ISO 8601, inclusive")] = None,
    until: Annotated[IsoDateTime | None, Query(description="ISO 8601, exclusive")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
    format: Annotated[Literal["json", "csv"], Query(description="csv exports every matching row")] = "json",
) -> AuditPage | StreamingResponse:
    """Who did what, newest first, filtered; `format=csv` downloads every match."""
    wanted = audit.AuditFilter(
        tenant_id=principal.tenant_id, action=action, actor=actor, outcome=outcome, since=since, until=until
    )
    if format == "csv":
        rows, _ = await audit.search(session=session, wanted=wanted, limit=100_000, offset=0)
        return StreamingResponse(
            _csv(rows), media_type="text/csv", headers={"Content-Disposition": 'attachment; filename="nubes-audit.csv"'}
        )
    rows, total = await audit.search(session=session, wanted=wanted, limit=limit, offset=offset)
    return AuditPage(items=[AuditEventRead.model_validate(row) for row in rows], total=total)


_CSV_COLUMNS = ("created_at", "actor_name", "action", "outcome", "target_type", "target_id", "ip", "user_agent", "detail")


async def _csv(rows: list[audit.AuditEvent]) -> AsyncIterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(_CSV_COLUMNS)
    for row in rows:
        values = [getattr(row, column) for column in _CSV_COLUMNS]
        # A cell starting with = + - @ would run as a formula in a spreadsheet: neutralize it.
        writer.writerow([_cell(value) for value in values])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _cell(value: object) -> str:
    if isinstance(value, datetime):
        text = value.isoformat()
    elif isinstance(value, dict):
        text = json.dumps(value, sort_keys=True)
    else:
        text = str(value)
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


# --- tenants (super-admins) ------------------------------------------------------------------------

SuperAdmin = Annotated[Principal, Depends(require_superadmin())]


def _tenant_detail(tenant: Tenant, users: int) -> TenantDetail:
    return TenantDetail(
        id=tenant.id, slug=tenant.slug, name=tenant.name, status=tenant.status, created_at=tenant.created_at, users=users
    )


@router.get(
    "/admin/tenants", operation_id="admin-tenants-list", response_model=list[TenantDetail], tags=["admin"], summary="Tenants"
)
async def list_tenants(session: SessionDep, _: SuperAdmin) -> list[TenantDetail]:
    """Every tenant of the install, with its number of users (platform administrators only)."""
    return [_tenant_detail(tenant, users) for tenant, users in await service.list_tenants(session=session)]


@router.post(
    "/admin/tenants",
    operation_id="admin-tenants-create",
    response_model=TenantDetail,
    status_code=201,
    tags=["admin"],
    summary="Create a tenant",
)
async def create_tenant(tenant_in: TenantCreate, session: SessionDep, principal: SuperAdmin, origin: OriginDep) -> TenantDetail:
    """A new tenant with the built-in roles; add its first owner with POST /api/admin/users and `tenant_id`."""
    tenant = await service.add_tenant(session=session, principal=principal, tenant_in=tenant_in, origin=origin)
    return _tenant_detail(tenant, 0)


@router.get(
    "/admin/tenants/{tenant_id}",
    operation_id="admin-tenants-get",
    response_model=TenantDetail,
    tags=["admin"],
    summary="One tenant",
)
async def get_tenant(tenant_id: uuid.UUID, session: SessionDep, _: SuperAdmin) -> TenantDetail:
    """A tenant."""
    tenant = await service.get_tenant(session=session, tenant_id=tenant_id)
    return _tenant_detail(tenant, await service.count_users(session=session, tenant_id=tenant.id))


@router.patch(
    "/admin/tenants/{tenant_id}",
    operation_id="admin-tenants-update",
    response_model=TenantDetail,
    tags=["admin"],
    summary="Rename or suspend a tenant",
)
async def update_tenant(
    tenant_id: uuid.UUID, tenant_in: TenantUpdate, session: SessionDep, principal: SuperAdmin, origin: OriginDep
) -> TenantDetail:
    """Rename a tenant, or suspend it: every session of its users ends at once and nobody of it can sign in."""
    tenant = await service.update_tenant(
        session=session, principal=principal, tenant_id=tenant_id, tenant_in=tenant_in, origin=origin
    )
    return await get_tenant(tenant.id, session, principal)


@router.delete(
    "/admin/tenants/{tenant_id}", operation_id="admin-tenants-delete", status_code=204, tags=["admin"], summary="Delete a tenant"
)
async def delete_tenant(
    tenant_id: uuid.UUID,
    session: SessionDep,
    principal: SuperAdmin,
    origin: OriginDep,
    confirm: Annotated[str, Query(max_length=63, description="The tenant's slug, to confirm.")] = "",
) -> None:
    """Delete a tenant and all its data; `?confirm=<slug>` must repeat its slug."""
    await service.delete_tenant(session=session, principal=principal, tenant_id=tenant_id, confirm=confirm, origin=origin)


# --- roles ----------------------------------------------------------------------------------------

RoleAdmin = Annotated[Principal, Depends(require("admin.roles"))]


def _role_read(role: Role, graph: service.RoleGraph) -> RoleRead:
    return RoleRead(
        id=role.id,
        name=role.name,
        description=role.description,
        parent_id=role.parent_id,
        builtin=role.builtin,
        permissions=sorted(graph.grants.get(role.id, set())),
        effective_permissions=sorted(graph.permissions_of([role.id])),
    )


@router.get("/admin/roles", operation_id="admin-roles-list", response_model=list[RoleRead], tags=["admin"], summary="Roles")
async def list_roles(session: SessionDep, principal: RoleAdmin) -> list[RoleRead]:
    """The tenant's roles with their own and effective permissions."""
    roles, graph = await service.list_roles(session=session, principal=principal)
    return [_role_read(role, graph) for role in roles]


@router.post(
    "/admin/roles",
    operation_id="admin-roles-create",
    response_model=RoleRead,
    status_code=201,
    tags=["admin"],
    summary="Create a role",
)
async def create_role(role_in: RoleCreate, session: SessionDep, principal: RoleAdmin, origin: OriginDep) -> RoleRead:
    """A custom role bundling permissions, optionally inheriting another role's."""
    role = await service.create_role(session=session, principal=principal, role_in=role_in, origin=origin)
    return _role_read(role, await service.role_graph(session, principal.tenant_id))


@router.get("/admin/roles/{role_id}", operation_id="admin-roles-get", response_model=RoleRead, tags=["admin"], summary="One role")
async def get_role(role_id: uuid.UUID, session: SessionDep, principal: RoleAdmin) -> RoleRead:
    """A role of the tenant."""
    role = await service.get_role(session=session, principal=principal, role_id=role_id)
    return _role_read(role, await service.role_graph(session, principal.tenant_id))


@router.patch(
    "/admin/roles/{role_id}", operation_id="admin-roles-update", response_model=RoleRead, tags=["admin"], summary="Change a role"
)
async def update_role(
    role_id: uuid.UUID, role_in: RoleUpdate, session: SessionDep, principal: RoleAdmin, origin: OriginDep
) -> RoleRead:
    """Change a custom role; its holders' permissions follow at their next request."""
    role = await service.update_role(session=session, principal=principal, role_id=role_id, role_in=role_in, origin=origin)
    return _role_read(role, await service.role_graph(session, principal.tenant_id))


@router.delete(
    "/admin/roles/{role_id}", operation_id="admin-roles-delete", status_code=204, tags=["admin"], summary="Delete a role"
)
async def delete_role(role_id: uuid.UUID, session: SessionDep, principal: RoleAdmin, origin: OriginDep) -> None:
    """Delete a custom role."""
    await service.delete_role(session=session, principal=principal, role_id=role_id, origin=origin)


# --- groups ---------------------------------------------------------------------------------------

GroupAdmin = Annotated[Principal, Depends(require("admin.groups"))]


async def _group_reads(session: SessionDep, groups: list[Group]) -> list[GroupRead]:
    ids = [group.id for group in groups]
    roles = await service.group_roles(session, ids)
    members = await service.member_counts(session, ids)
    return [
        GroupRead(
            id=group.id,
            name=group.name,
            description=group.description,
            roles=[RoleRef(id=role_id, name=name) for role_id, name in roles[group.id]],
            members=members[group.id],
        )
        for group in groups
    ]


@router.get("/admin/groups", operation_id="admin-groups-list", response_model=list[GroupRead], tags=["admin"], summary="Groups")
async def list_groups(session: SessionDep, principal: GroupAdmin) -> list[GroupRead]:
    """The tenant's groups with their roles and sizes."""
    return await _group_reads(session, await service.list_groups(session=session, principal=principal))


@router.post(
    "/admin/groups",
    operation_id="admin-groups-create",
    response_model=GroupRead,
    status_code=201,
    tags=["admin"],
    summary="Create a group",
)
async def create_group(group_in: GroupCreate, session: SessionDep, principal: GroupAdmin, origin: OriginDep) -> GroupRead:
    """A new group; its members hold the roles named."""
    group = await service.create_group(session=session, principal=principal, group_in=group_in, origin=origin)
    return (await _group_reads(session, [group]))[0]


@router.get(
    "/admin/groups/{group_id}", operation_id="admin-groups-get", response_model=GroupRead, tags=["admin"], summary="One group"
)
async def get_group(group_id: uuid.UUID, session: SessionDep, principal: GroupAdmin) -> GroupRead:
    """A group of the tenant."""
    group = await service.get_group(session=session, principal=principal, group_id=group_id)
    return (await _group_reads(session, [group]))[0]


@router.patch(
    "/admin/groups/{group_id}",
    operation_id="admin-groups-update",
    response_model=GroupRead,
    tags=["admin"],
    summary="Change a group",
)
async def update_group(
    group_id: uuid.UUID, group_in: GroupUpdate, session: SessionDep, principal: GroupAdmin, origin: OriginDep
) -> GroupRead:
    """Rename a group or change its roles."""
    group = await service.update_group(session=session, principal=principal, group_id=group_id, group_in=group_in, origin=origin)
    return (await _group_reads(session, [group]))[0]


@router.delete(
    "/admin/groups/{group_id}", operation_id="admin-groups-delete", status_code=204, tags=["admin"], summary="Delete a group"
)
async def delete_group(group_id: uuid.UUID, session: SessionDep, principal: GroupAdmin, origin: OriginDep) -> None:
    """Delete a group."""
    await service.delete_group(session=session, principal=principal, group_id=group_id, origin=origin)


@router.get(
    "/admin/groups/{group_id}/members",
    operation_id="admin-groups-members",
    response_model=list[UserRead],
    tags=["admin"],
    summary="Members of a group",
)
async def group_members(group_id: uuid.UUID, session: SessionDep, principal: GroupAdmin) -> list[UserRead]:
    """Who is in the group."""
    return [
        UserRead.model_validate(user)
        for user in await service.list_members(session=session, principal=principal, group_id=group_id)
    ]


@router.put(
    "/admin/groups/{group_id}/members/{user_id}",
    operation_id="admin-groups-members-add",
    status_code=204,
    tags=["admin"],
    summary="Add a member",
)
async def add_group_member(
    group_id: uuid.UUID, user_id: uuid.UUID, session: SessionDep, principal: GroupAdmin, origin: OriginDep
) -> None:
    """Put a user of the tenant in the group (idempotent)."""
    await service.add_member(session=session, principal=principal, group_id=group_id, user_id=user_id, origin=origin)


@router.delete(
    "/admin/groups/{group_id}/members/{user_id}",
    operation_id="admin-groups-members-remove",
    status_code=204,
    tags=["admin"],
    summary="Remove a member",
)
async def remove_group_member(
    group_id: uuid.UUID, user_id: uuid.UUID, session: SessionDep, principal: GroupAdmin, origin: OriginDep
) -> None:
    """Take a user out of the group."""
    await service.remove_member(session=session, principal=principal, group_id=group_id, user_id=user_id, origin=origin)


@router.get(
    "/users/me/groups", operation_id="users-me-groups", response_model=list[GroupRead], tags=["users"], summary="My groups"
)
async def my_groups(session: SessionDep, principal: AnyPrincipal) -> list[GroupRead]:
    """The groups you belong to."""
    return await _group_reads(session, await service.my_groups(session=session, principal=principal))

"""Routes for signing in (password, second factor, passkey), refreshing, signing out, one's sessions and tokens, sudo."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from pydantic import ValidationError

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
from nubes.core.routing import api_router
from nubes.identity.deps import (
    REFRESH_COOKIE,
    KeyRingDep,
    LimiterDep,
    OriginDep,
    RelyingPartyDep,
    SessionPrincipal,
    SettingsDep,
    SudoPrincipal,
    browser_only_from_here,
    clear_session_cookies,
    same_origin,
    set_session_cookies,
)
from nubes.identity.mfa import service as mfa_service
from nubes.identity.mfa.schemas import MfaLogin, PasskeyLogin, PasskeyOptions
from nubes.identity.sessions import service
from nubes.identity.sessions import sudo as sudo_mode
from nubes.identity.sessions.schemas import (
    AccessTokenCreate,
    AccessTokenCreated,
    AccessTokenRead,
    AppPasswordCreate,
    AppPasswordCreated,
    AppPasswordRead,
    AuthOptions,
    LoginRequest,
    RefreshRequest,
    SessionRead,
    SudoRead,
    SudoRequest,
    TokenPair,
)
from nubes.identity.sessions.tokens import AccessClaims, KeyRing
from nubes.identity.users import service as users_service
from nubes.identity.users.models import User

router = api_router()


class MfaRequiredProblem(Problem):
    """A sign-in problem; when `type` is `urn:nubes:problem:mfa-required`, `mfa_token` leads to the second step."""

    mfa_token: str | None = None
    methods: list[str] | None = None


class MfaRequired(Unauthorized):
    """The password was right; the account's second factor comes next."""

    code, title = "mfa-required", "Second factor required"


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
    found = await users_service.find_account(session=session, login=account)
    # The password check takes ~150 ms of argon2id: hold no transaction meanwhile (on SQLite that would be
    # the write lock, stalling every other writer). Nothing has been written yet.
    await session.commit()
    user = await service.authenticate(
        session=session, settings=settings, login=account, user=found, password=credentials.password, origin=origin
    )
    await limiter.clear("login-account", account, settings.login_rate_limit)
    if await mfa_service.has_second_factor(session=session, user_id=user.id):
        raise MfaRequired(
            "Enter the code from your authenticator app (or a recovery code) to finish signing in.",
            extensions={
                "mfa_token": await mfa_service.start_mfa(session=session, user=user),
                "methods": ["totp", "recovery_code"],
            },
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


@router.get(
    "/users/me/app-passwords",
    operation_id="users-me-app-passwords",
    response_model=list[AppPasswordRead],
    tags=["users"],
    summary="My devices and app passwords",
)
async def my_app_passwords(session: SessionDep, principal: SessionPrincipal) -> list[AppPasswordRead]:
    """The app passwords of your devices (WebDAV and sync clients), with when and from where each was last used."""
    rows = await service.list_access_tokens(session=session, principal=principal, kind="app")
    return [AppPasswordRead.model_validate(row) for row in rows]


@router.post(
    "/users/me/app-passwords",
    operation_id="users-me-app-passwords-create",
    response_model=AppPasswordCreated,
    status_code=201,
    tags=["users"],
    summary="Make an app password for a device",
)
async def create_my_app_password(
    app_password_in: AppPasswordCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    principal: SudoPrincipal,
    origin: OriginDep,
) -> AppPasswordCreated:
    """A password for one client (HTTP Basic with your username): shown only in this answer, with the WebDAV address."""
    row, password = await service.create_app_password(
        session=session, principal=principal, app_password_in=app_password_in, origin=origin
    )
    base = settings.public_url or str(request.base_url).rstrip("/")
    response.headers["Cache-Control"] = "no-store"
    return AppPasswordCreated.model_validate(
        {
            **AppPasswordRead.model_validate(row).model_dump(),
            "password": password,
            "username": principal.username,
            "webdav_url": f"{base}/dav/files/{quote(principal.username, safe='')}/",
        }
    )


@router.delete(
    "/users/me/app-passwords/{app_password_id}",
    operation_id="users-me-app-passwords-revoke",
    status_code=204,
    tags=["users"],
    summary="Revoke an app password",
)
async def revoke_my_app_password(
    app_password_id: uuid.UUID, session: SessionDep, principal: SudoPrincipal, origin: OriginDep
) -> None:
    """The device's client is signed out at once, on every server."""
    await service.revoke_access_token(session=session, principal=principal, token_id=app_password_id, origin=origin, kind="app")


async def _signed_in(
    response: Response, session: SessionDep, settings: SettingsDep, keyring: KeyRingDep, user: User, origin: OriginDep
) -> TokenPair:
    signed_in = await service.start_session(session=session, settings=settings, user=user, origin=origin)
    pair = await token_pair(session, keyring, signed_in)
    set_session_cookies(response, settings, access_token=pair.access_token, refresh_token=pair.refresh_token)
    response.headers["Cache-Control"] = "no-store"
    return pair


@router.get("/auth/options", operation_id="auth-options", response_model=AuthOptions, tags=["auth"], summary="Sign-in options")
async def auth_options(session: SessionDep) -> AuthOptions:
    """Whether sign-up is open, so the sign-in page shows only what works here."""
    policy = await users_service.registration_settings(session=session)
    return AuthOptions(
        registration_enabled=policy.enabled,
        email_verification_required=policy.require_email_verification,
        password_reset=True,
        passkeys=True,
    )


@router.post(
    "/auth/login/mfa",
    operation_id="auth-login-mfa",
    response_model=TokenPair,
    tags=["auth"],
    summary="Finish signing in with a code from the authenticator app (or a recovery code)",
)
async def login_mfa(
    body: MfaLogin,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    keyring: KeyRingDep,
    origin: OriginDep,
    limiter: LimiterDep,
) -> TokenPair:
    browser_only_from_here(request, settings, "Sign-in")
    await limiter.hit("mfa-ip", origin.ip, settings.login_rate_limit)
    await limiter.hit("mfa-token", body.mfa_token, settings.login_rate_limit)
    user = await mfa_service.finish_mfa(session=session, settings=settings, token=body.mfa_token, code=body.code, origin=origin)
    return await _signed_in(response, session, settings, keyring, user, origin)


@router.post(
    "/auth/passkeys/options",
    operation_id="auth-passkey-options",
    response_model=PasskeyOptions,
    tags=["auth"],
    summary="Start signing in with a passkey",
)
async def passkey_login_options(
    session: SessionDep, rp: RelyingPartyDep, origin: OriginDep, limiter: LimiterDep, settings: SettingsDep
) -> PasskeyOptions:
    await limiter.hit("passkey-ip", origin.ip, settings.login_rate_limit)
    token, options = await mfa_service.passkey_login_options(session=session, rp=rp)
    return PasskeyOptions(token=token, public_key=options)


@router.post(
    "/auth/passkeys/login",
    operation_id="auth-passkey-login",
    response_model=TokenPair,
    tags=["auth"],
    summary="Sign in with a passkey",
)
async def passkey_login(
    body: PasskeyLogin,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    keyring: KeyRingDep,
    origin: OriginDep,
    rp: RelyingPartyDep,
) -> TokenPair:
    browser_only_from_here(request, settings, "Sign-in")
    user = await mfa_service.passkey_login(session=session, rp=rp, token=body.token, credential=body.credential, origin=origin)
    return await _signed_in(response, session, settings, keyring, user, origin)


@router.post(
    "/auth/sudo",
    operation_id="auth-sudo",
    response_model=SudoRead,
    tags=["auth"],
    summary="Confirm it's you (password, passkey or authenticator code) before changing credentials",
    responses={403: {"description": "Not confirmed (type `urn:nubes:problem:reauthentication-failed`), or a token"}},
)
async def sudo(
    body: SudoRequest,
    session: SessionDep,
    settings: SettingsDep,
    principal: SessionPrincipal,
    origin: OriginDep,
    limiter: LimiterDep,
    rp: RelyingPartyDep,
) -> SudoRead:
    """Password, passkey and code changes, tokens and sessions need this within the last few minutes (NUBES_SUDO_TTL)."""
    await limiter.hit("sudo-user", str(principal.user_id), settings.login_rate_limit)
    until = await sudo_mode.reauthenticate(
        session=session, settings=settings, principal=principal, rp=rp, proof=body, origin=origin
    )
    return SudoRead(expires_at=until)


@router.post(
    "/auth/sudo/passkey-options",
    operation_id="auth-sudo-passkey-options",
    response_model=PasskeyOptions,
    tags=["auth"],
    summary="Start confirming it's you with a passkey",
)
async def sudo_passkey_options(session: SessionDep, principal: SessionPrincipal, rp: RelyingPartyDep) -> PasskeyOptions:
    """Options for `navigator.credentials.get` with your passkeys; send the answer to POST /api/auth/sudo."""
    token, options = await sudo_mode.sudo_passkey_options(session=session, principal=principal, rp=rp)
    return PasskeyOptions(token=token, public_key=options)

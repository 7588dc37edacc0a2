"""The OAuth2 / OpenID Connect endpoints at the root, where clients expect them: discovery, JWKS, authorize, token,
revoke (RFC 7009), introspect (RFC 7662), userinfo and end-session (RP-initiated logout).

Thin adapters over nubes.apps.oauth.service. They answer in the protocol's own shapes (RFC 6749 error objects, HTML
error pages for authorization requests that must not redirect), so they stay out of the /api OpenAPI schema.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import html
from typing import Annotated, Any
from urllib.parse import unquote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.apps.oauth import scopes as scope_table
from nubes.apps.oauth import service
from nubes.apps.oauth.exceptions import InvalidClient, OAuthError
from nubes.config import Settings
from nubes.core.audit import Origin
from nubes.core.db import SessionDep, WriteSessionDep
from nubes.core.errors import TooManyRequests, Unauthorized
from nubes.core.principal import Principal
from nubes.core.ratelimit import RateLimiter
from nubes.identity.deps import (
    ACCESS_COOKIE,
    CurrentPrincipal,
    KeyRingDep,
    LimiterDep,
    OriginDep,
    SettingsDep,
    clear_session_cookies,
    principal_of_request_token,
)
from nubes.identity.sessions import service as sessions_service
from nubes.identity.sessions.tokens import ALGORITHM

router = APIRouter(include_in_schema=False)

MAX_FIELD = 4096
"""Longest form or query value read (a JWT hint, a token, a URI); longer ones are refused."""
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def issuer_of(request: Request, settings: Settings) -> str:
    """The issuer: the public URL when set, else the origin the client used (the same for every endpoint)."""
    return settings.public_url or f"{request.url.scheme}://{request.url.netloc}"


def _error(error: OAuthError) -> JSONResponse:
    headers = dict(NO_STORE)
    if isinstance(error, InvalidClient):
        headers["WWW-Authenticate"] = 'Basic realm="Nubes"'
    return JSONResponse(error.body(), status_code=error.status, headers=headers)


COUNTED_FAILURES = frozenset({"invalid_client", "invalid_grant"})
"""Refusals that count against the caller's address: a wrong client secret, or a code or refresh token that is not
valid. Past `login_rate_limit` of them (the sign-in limit), the token, revocation and introspection endpoints answer
429 to that address until the window passes; a client that succeeds is never slowed down."""


async def _check_failures(limiter: RateLimiter, settings: Settings, origin: Origin) -> None:
    await limiter.check("oauth-failures-ip", origin.ip, settings.login_rate_limit)


async def _count_failure(limiter: RateLimiter, settings: Settings, origin: Origin, error: OAuthError) -> None:
    if error.error in COUNTED_FAILURES:
        with contextlib.suppress(TooManyRequests):  # this answer is the refusal itself; the next request gets the 429
            await limiter.hit("oauth-failures-ip", origin.ip, settings.login_rate_limit)


async def _refused(session: AsyncSession, error: OAuthError) -> JSONResponse:
    """The error answer; what the request wrote stays only when the error says so (a revoked grant)."""
    if not error.keep_changes:
        await session.rollback()
    return _error(error)


async def _form(request: Request) -> dict[str, str]:
    """The request's url-encoded form (single values, bounded), as the token-type endpoints read it."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "Send the parameters as application/x-www-form-urlencoded.")
    form = await request.form(max_files=0, max_fields=50)
    values: dict[str, str] = {}
    for key, value in form.multi_items():
        if not isinstance(value, str) or len(value) > MAX_FIELD or key in values:
            raise OAuthError("invalid_request", f"The parameter {key[:50]} is repeated, too long or not text.")
        values[key] = value
    return values


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClient("The Basic credentials are malformed.") from None
    client_id, separator, secret = decoded.partition(":")
    if not separator:
        raise InvalidClient("The Basic credentials are malformed.")
    return unquote(client_id), unquote(secret)


async def _client(session: AsyncSession, request: Request, form: dict[str, str]) -> Any:
    """The authenticated client: client_secret_basic, client_secret_post, or a public client's client_id alone."""
    basic = _basic_credentials(request)
    if basic is not None:
        if "client_secret" in form:
            raise OAuthError("invalid_request", "Authenticate the client one way only (Basic or the form).")
        if form.get("client_id") not in {None, basic[0]}:
            raise InvalidClient("client_id differs from the authenticated client.")
        return await service.authenticate_client(session=session, client_id=basic[0], client_secret=basic[1])
    return await service.authenticate_client(
        session=session, client_id=form.get("client_id"), client_secret=form.get("client_secret")
    )


# --- discovery and keys --------------------------------------------------------------------------------------------


@router.get("/.well-known/openid-configuration")
async def discovery(request: Request, settings: SettingsDep) -> JSONResponse:
    """OpenID Connect Discovery: where each endpoint is and what the provider supports."""
    issuer = issuer_of(request, settings)
    document = {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/oauth/authorize",
        "token_endpoint": f"{issuer}/oauth/token",
        "userinfo_endpoint": f"{issuer}/oauth/userinfo",
        "jwks_uri": f"{issuer}/oauth/jwks",
        "revocation_endpoint": f"{issuer}/oauth/revoke",
        "introspection_endpoint": f"{issuer}/oauth/introspect",
        "end_session_endpoint": f"{issuer}/oauth/end-session",
        "scopes_supported": [*scope_table.OIDC_SCOPES, *scope_table.PERMISSION_SCOPES],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [ALGORITHM],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "azp",
            "name",
            "preferred_username",
            "email",
            "email_verified",
        ],
        "prompt_values_supported": ["none", "consent"],
    }
    return JSONResponse(document, headers={"Cache-Control": "public, max-age=300"})


@router.get("/oauth/jwks")
async def jwks(session: SessionDep, keyring: KeyRingDep) -> JSONResponse:
    """The public keys that verify ID tokens (the keyring's: EdDSA with `kid`)."""
    return JSONResponse(await keyring.jwks(session), headers={"Cache-Control": "public, max-age=300"})


# --- authorization -------------------------------------------------------------------------------------------------


async def _signed_in(request: Request, session: WriteSessionDep) -> Principal | None:
    """The browser's signed-in user (the session cookie), or None: authorize is a top-level navigation."""
    token = request.cookies.get(ACCESS_COOKIE, "")
    if not token:
        return None
    try:
        return await principal_of_request_token(request, session, token)
    except Unauthorized:
        return None


BrowserUser = Annotated[Principal | None, Depends(_signed_in)]


def error_page(error: OAuthError, *, status: int = 400) -> HTMLResponse:
    """An error the browser shows instead of going back to an app that cannot be trusted with it."""
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign-in with Nubes failed</title></head>'
        '<body style="font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem">'
        f"<h1>This app cannot sign you in</h1><p>{html.escape(error.description)}</p>"
        f"<p><small>Error: {html.escape(error.error)}</small></p>"
        '<p><a href="/">Back to Nubes</a></p></body></html>'
    )
    return HTMLResponse(body, status_code=status, headers=NO_STORE)


@router.get("/oauth/authorize", operation_id="oauth-authorize")
async def authorize(request: Request, session: WriteSessionDep, principal: BrowserUser) -> Response:
    """The authorization endpoint (code + PKCE): back to the app with a code, or to the consent page, or to sign-in."""
    query = request.query_params
    if any(len(value) > MAX_FIELD for value in query.values()):
        return error_page(OAuthError("invalid_request", "A parameter is too long."))
    params = service.AuthorizationParams(
        client_id=query.get("client_id"),
        redirect_uri=query.get("redirect_uri"),
        response_type=query.get("response_type"),
        scope=query.get("scope"),
        state=query.get("state"),
        nonce=query.get("nonce"),
        code_challenge=query.get("code_challenge"),
        code_challenge_method=query.get("code_challenge_method"),
        prompt=query.get("prompt"),
    )
    try:
        checked = await service.check_client(session=session, params=params)
    except OAuthError as error:
        return error_page(error)
    try:
        requested = service.check_request(checked)
        if principal is None:
            if "none" in (params.prompt or "").split():
                raise OAuthError("login_required", "The user is not signed in to Nubes.")
            return RedirectResponse(f"/login?{urlencode({'next': f'{request.url.path}?{request.url.query}'})}", 303)
        target = await service.authorize(session=session, principal=principal, checked=checked, requested=requested)
    except OAuthError as error:
        await session.rollback()
        return RedirectResponse(service.error_redirect(checked, error), 303, headers=NO_STORE)
    return RedirectResponse(target, 303, headers=NO_STORE)


# --- token, revocation, introspection ------------------------------------------------------------------------------


@router.post("/oauth/token")
async def token(
    request: Request,
    *,
    session: SessionDep,
    settings: SettingsDep,
    keyring: KeyRingDep,
    origin: OriginDep,
    limiter: LimiterDep,
) -> JSONResponse:
    """The token endpoint: authorization_code (with PKCE), refresh_token (rotated), client_credentials."""
    await _check_failures(limiter, settings, origin)
    try:
        form = await _form(request)
        client = await _client(session, request, form)
        grant_type = form.get("grant_type")
        issuer = issuer_of(request, settings)
        if grant_type == "authorization_code":
            answer = await service.exchange_code(
                session=session,
                keyring=keyring,
                issuer=issuer,
                client=client,
                code=form.get("code"),
                redirect_uri=form.get("redirect_uri"),
                code_verifier=form.get("code_verifier"),
            )
        elif grant_type == "refresh_token":
            answer = await service.refresh(
                session=session,
                keyring=keyring,
                issuer=issuer,
                client=client,
                refresh_token=form.get("refresh_token"),
                scope=form.get("scope"),
            )
        elif grant_type == "client_credentials":
            answer = await service.client_credentials(session=session, client=client, scope=form.get("scope"))
        else:
            raise OAuthError("unsupported_grant_type", "Use authorization_code, refresh_token or client_credentials.")
    except OAuthError as error:
        await _count_failure(limiter, settings, origin, error)
        return await _refused(session, error)
    return JSONResponse(answer, headers=NO_STORE)


@router.post("/oauth/revoke")
async def revoke(
    request: Request, session: SessionDep, settings: SettingsDep, origin: OriginDep, limiter: LimiterDep
) -> Response:
    """RFC 7009: revoke an app token or refresh token of the authenticated client (200 whether or not it existed)."""
    await _check_failures(limiter, settings, origin)
    try:
        form = await _form(request)
        client = await _client(session, request, form)
        await service.revoke(session=session, client=client, token=form.get("token"))
    except OAuthError as error:
        await _count_failure(limiter, settings, origin, error)
        return await _refused(session, error)
    return Response(status_code=200, headers=NO_STORE)


@router.post("/oauth/introspect")
async def introspect(
    request: Request, session: SessionDep, settings: SettingsDep, origin: OriginDep, limiter: LimiterDep
) -> JSONResponse:
    """RFC 7662: whether a token of the authenticated client is active, and what it carries."""
    await _check_failures(limiter, settings, origin)
    try:
        form = await _form(request)
        client = await _client(session, request, form)
        if not client.confidential:
            raise InvalidClient("Introspection is for confidential clients (with a secret).")
        answer = await service.introspect(session=session, client=client, token=form.get("token"))
    except OAuthError as error:
        await _count_failure(limiter, settings, origin, error)
        return await _refused(session, error)
    return JSONResponse({key: value for key, value in answer.items() if value is not None}, headers=NO_STORE)


# --- userinfo, end-session -----------------------------------------------------------------------------------------


async def _userinfo(request: Request, principal: Principal) -> JSONResponse:
    if principal.client_id is None or scope_table.OPENID not in principal.grants:
        challenge = 'Bearer error="insufficient_scope", error_description="an app token with the openid scope"'
        return JSONResponse(
            {"error": "insufficient_scope", "error_description": "Use an app token issued with the openid scope."},
            status_code=403,
            headers={"WWW-Authenticate": challenge, **NO_STORE},
        )
    identity: sessions_service.Identity = request.state.identity
    claims = {"sub": str(principal.user_id), **service.user_claims(identity.user, sorted(principal.grants))}
    return JSONResponse(claims, headers=NO_STORE)


@router.get("/oauth/userinfo")
async def userinfo(request: Request, principal: CurrentPrincipal) -> JSONResponse:
    """OpenID Connect UserInfo: the claims the app token's scopes allow (GET)."""
    return await _userinfo(request, principal)


@router.post("/oauth/userinfo")
async def userinfo_post(request: Request, principal: CurrentPrincipal) -> JSONResponse:
    """OpenID Connect UserInfo: the claims the app token's scopes allow (POST)."""
    return await _userinfo(request, principal)


async def _hint_claims(session: AsyncSession, keyring: KeyRingDep, issuer: str, hint: str | None) -> dict[str, Any] | None:
    """The claims of an ID token this provider signed (expired is fine: it only names who signs out), or None."""
    if not hint or len(hint) > MAX_FIELD:
        return None
    try:
        keys = KeySet.import_key_set(await keyring.jwks(session))  # type: ignore[arg-type]
        decoded = jwt.decode(hint, keys, algorithms=[ALGORITHM])
    except (JoseError, ValueError):
        return None
    claims = dict(decoded.claims)
    return claims if claims.get("iss") == issuer and isinstance(claims.get("aud"), str) else None


@router.get("/oauth/end-session", operation_id="oauth-end-session")
async def end_session(  # noqa: PLR0917 - a route handler takes its dependencies as parameters
    request: Request,
    session: WriteSessionDep,
    settings: SettingsDep,
    keyring: KeyRingDep,
    origin: OriginDep,
    principal: BrowserUser,
) -> Response:
    """RP-initiated logout: with a valid `id_token_hint` of the signed-in user, end their Nubes session; then go to
    `post_logout_redirect_uri` if the app registered it exactly (with `state`), else to the sign-in page."""
    query = request.query_params
    issuer = issuer_of(request, settings)
    claims = await _hint_claims(session, keyring, issuer, query.get("id_token_hint"))
    client_id = claims["aud"] if claims else query.get("client_id")
    ended = principal is not None and claims is not None and claims.get("sub") == str(principal.user_id)
    if ended and principal is not None and principal.session_id is not None:
        await sessions_service.revoke_session(
            session=session, principal=principal, session_id=principal.session_id, origin=origin
        )
    target = "/login"
    wanted = query.get("post_logout_redirect_uri")
    if wanted and client_id and await service.may_return_after_logout(session=session, client_id=client_id, uri=wanted):
        target = service.redirect_with(wanted, {"state": query.get("state")})
    response = RedirectResponse(target, 303, headers=NO_STORE)
    if ended:
        clear_session_cookies(response)
    return response

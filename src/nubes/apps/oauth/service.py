"""The OAuth2 / OpenID Connect provider's rules: clients, authorization with PKCE and consent, codes, tokens (refresh
rotation with reuse detection, client credentials), revocation, introspection, userinfo and ID tokens.

Access tokens for users are app tokens: `PersonalAccessToken` rows of kind "oauth" made by the sessions service, so
every API route checks their scopes as it checks a personal access token's, and revoking one stops it at once.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast
from urllib.parse import urlencode, urlsplit

from authlib.oauth2.rfc7636.challenge import CODE_VERIFIER_PATTERN, create_s256_code_challenge
from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.apps.oauth import scopes as scope_table
from nubes.apps.oauth.exceptions import InvalidClient, InvalidGrant, OAuthError
from nubes.apps.oauth.models import (
    OAuthAuthorizationRequest,
    OAuthClient,
    OAuthClientToken,
    OAuthCode,
    OAuthConsent,
    OAuthGrant,
    OAuthRefreshToken,
)
from nubes.apps.oauth.schemas import ClientCreate, ClientUpdate
from nubes.core import audit
from nubes.core.audit import Origin
from nubes.core.crypto import equal
from nubes.core.db import utcnow
from nubes.core.errors import Conflict, NotFound, Unauthorized
from nubes.core.principal import Principal
from nubes.identity.sessions import service as sessions_service
from nubes.identity.sessions.tokens import KeyRing, hash_token

ACCESS_TOKEN_TTL = timedelta(hours=1)
CODE_TTL = timedelta(seconds=60)
REQUEST_TTL = timedelta(minutes=10)
CLIENT_TOKEN_TTL = timedelta(hours=1)
ID_TOKEN_TTL = 3600
CLIENT_TOKEN_PREFIX = "nbs_"  # noqa: S105 - the marker of client-credentials tokens, not one
REFRESH_PREFIX = "nbor_"
CONSENT_PAGE = "/oauth/consent"


# --- clients (admins) ----------------------------------------------------------------------------------------------


async def create_client(
    *, session: AsyncSession, principal: Principal, client_in: ClientCreate, origin: Origin
) -> tuple[OAuthClient, str | None]:
    """A client of the principal's tenant; a confidential one's secret is returned this once (only its hash is kept)."""
    _check_grant_types(client_in.confidential, client_in.grant_types, client_in.redirect_uris)
    secret, secret_hash = _new_secret() if client_in.confidential else (None, None)
    client = OAuthClient(
        tenant_id=principal.tenant_id,
        client_id=secrets.token_urlsafe(18),
        name=client_in.name,
        confidential=client_in.confidential,
        secret_hash=secret_hash,
        redirect_uris=_unique(client_in.redirect_uris),
        post_logout_redirect_uris=_unique(client_in.post_logout_redirect_uris),
        scopes=sorted(set(client_in.scopes)),
        grant_types=sorted(set(client_in.grant_types)),
        first_party=client_in.first_party,
        created_by=principal.user_id,
    )
    session.add(client)
    await session.flush()
    await _audit(session, principal, origin, "oauth_client.create", client=client, detail={"name": client.name})
    return client, secret


async def list_clients(*, session: AsyncSession, principal: Principal) -> list[OAuthClient]:
    """The OAuth clients of the principal's tenant, by name."""
    rows = await session.scalars(
        select(OAuthClient).where(OAuthClient.tenant_id == principal.tenant_id).order_by(OAuthClient.name, OAuthClient.id)
    )
    return list(rows)


async def get_client_or_raise(*, session: AsyncSession, principal: Principal, client_pk: uuid.UUID) -> OAuthClient:
    """One client of the principal's tenant, or 404."""
    client = await session.get(OAuthClient, client_pk)
    if client is None or client.tenant_id != principal.tenant_id:
        raise NotFound("No such OAuth client.")
    return client


async def update_client(
    *, session: AsyncSession, principal: Principal, client_pk: uuid.UUID, client_in: ClientUpdate, origin: Origin
) -> OAuthClient:
    """Change a client's name, redirect URIs, scopes, grant types or first-party flag."""
    client = await get_client_or_raise(session=session, principal=principal, client_pk=client_pk)
    changes = client_in.model_dump(exclude_unset=True, exclude_none=True)
    grant_types = changes.get("grant_types", client.grant_types)
    _check_grant_types(client.confidential, grant_types, changes.get("redirect_uris", client.redirect_uris))
    for field in ("redirect_uris", "post_logout_redirect_uris"):
        if field in changes:
            changes[field] = _unique(changes[field])
    for field in ("scopes", "grant_types"):
        if field in changes:
            changes[field] = sorted(set(changes[field]))
    for field, value in changes.items():
        setattr(client, field, value)
    await session.flush()
    await _audit(session, principal, origin, "oauth_client.update", client=client, detail={"fields": sorted(changes)})
    return client


async def rotate_secret(
    *, session: AsyncSession, principal: Principal, client_pk: uuid.UUID, origin: Origin
) -> tuple[OAuthClient, str]:
    """A new secret for a confidential client (the old one stops working at once); shown this once."""
    client = await get_client_or_raise(session=session, principal=principal, client_pk=client_pk)
    if not client.confidential:
        raise Conflict("A public client has no secret; it proves itself with PKCE.")
    secret, client.secret_hash = _new_secret()
    client.secret_rotated_at = utcnow()
    await session.flush()
    await _audit(session, principal, origin, "oauth_client.rotate_secret", client=client, detail=None)
    return client, secret


async def delete_client(*, session: AsyncSession, principal: Principal, client_pk: uuid.UUID, origin: Origin) -> None:
    """Delete a client with its consents, grants and codes; every token it holds stops working at once."""
    client = await get_client_or_raise(session=session, principal=principal, client_pk=client_pk)
    await sessions_service.revoke_oauth_tokens(session=session, tenant_id=client.tenant_id, client_id=client.client_id)
    await _audit(session, principal, origin, "oauth_client.delete", client=client, detail={"name": client.name})
    await session.delete(client)
    await session.flush()


def _check_grant_types(confidential: bool, grant_types: Sequence[str], redirect_uris: Sequence[str]) -> None:
    if "client_credentials" in grant_types and not confidential:
        raise Conflict("Only a confidential client (one with a secret) may use client credentials.")
    if "authorization_code" in grant_types and not redirect_uris:
        raise Conflict("Add at least one redirect URI: the authorization code goes back to one of them.")


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _new_secret() -> tuple[str, str]:
    secret = secrets.token_urlsafe(32)
    return secret, hash_token(secret)


async def _audit(
    session: AsyncSession,
    principal: Principal,
    origin: Origin,
    action: str,
    *,
    client: OAuthClient,
    detail: dict[str, Any] | None,
) -> None:
    await audit.record(
        session=session,
        action=action,
        origin=origin,
        principal=principal,
        target_type="oauth_client",
        target_id=client.id,
        detail=detail,
    )


# --- client authentication -----------------------------------------------------------------------------------------


async def authenticate_client(*, session: AsyncSession, client_id: str | None, client_secret: str | None) -> OAuthClient:
    """The client behind a token-endpoint request: a confidential one must prove its secret, a public one sends none."""
    if not client_id or len(client_id) > 64:
        raise InvalidClient("Send the client id (HTTP Basic, or client_id in the form).")
    client = await session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
    if client is None:
        raise InvalidClient
    if client.confidential:
        if not client_secret or client.secret_hash is None or not equal(hash_token(client_secret), client.secret_hash):
            raise InvalidClient
    elif client_secret:
        raise InvalidClient("This is a public client: it has no secret (it proves itself with PKCE).")
    return client


# --- app tokens ----------------------------------------------------------------------------------------------------


async def issue_app_token(
    *, session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID, client_id: str, scopes: list[str]
) -> str:
    """An app token (one hour) of `client_id` for a user, with `scopes` (`files:read`, `data:write:posts`, ...).

    What the token endpoint issues after consent, without the protocol around it (tests and flows use it directly).
    Its permission codes are narrowed to what the user holds at every use.
    """
    _, token = await sessions_service.create_oauth_token(
        session=session,
        tenant_id=tenant_id,
        user_id=user_id,
        client_id=client_id,
        name=client_id,
        scopes=scope_table.token_scopes(scopes),
        expires_at=utcnow() + ACCESS_TOKEN_TTL,
    )
    return token


# --- authorization (the browser's step) ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuthorizationParams:
    """The query of GET /oauth/authorize."""

    client_id: str | None
    redirect_uri: str | None
    response_type: str | None
    scope: str | None
    state: str | None
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    prompt: str | None


@dataclass(frozen=True, slots=True)
class CheckedAuthorization:
    """An authorization request whose client and redirect URI are known good: errors may now go back to the app."""

    client: OAuthClient
    redirect_uri: str
    params: AuthorizationParams


async def check_client(*, session: AsyncSession, params: AuthorizationParams) -> CheckedAuthorization:
    """The client and redirect URI of an authorization request. An unknown client or a redirect URI it did not
    register (exactly) raises an error that must not redirect: the user sees an error page."""
    client = None
    if params.client_id and len(params.client_id) <= 64:
        client = await session.scalar(select(OAuthClient).where(OAuthClient.client_id == params.client_id))
    if client is None:
        raise OAuthError("invalid_client", "This app is not registered with Nubes (unknown client_id).", redirect=False)
    redirect_uri = params.redirect_uri or (client.redirect_uris[0] if len(client.redirect_uris) == 1 else None)
    if redirect_uri is None or redirect_uri not in client.redirect_uris:
        raise OAuthError(
            "invalid_request",
            "The redirect_uri is not one this app registered (it must match exactly); tell the app's developer.",
            redirect=False,
        )
    return CheckedAuthorization(client=client, redirect_uri=redirect_uri, params=params)


def check_request(checked: CheckedAuthorization) -> list[str]:
    """The scopes of an authorization request from a known client, or an error to send back to its redirect URI
    (code only, PKCE S256 required for public clients, scopes the client may ask for)."""
    client, params = checked.client, checked.params
    if params.response_type != "code":
        raise OAuthError("unsupported_response_type", "Only response_type=code is supported.")
    if "authorization_code" not in client.grant_types:
        raise OAuthError("unauthorized_client", "This client may not use the authorization code flow.")
    for value in (params.state, params.nonce):
        if value is not None and len(value) > 500:
            raise OAuthError("invalid_request", "state and nonce are at most 500 characters.")
    requested = scope_table.parse(params.scope)
    if requested is None or not set(requested) <= set(client.scopes):
        raise OAuthError("invalid_scope", "The app asked for a scope that is unknown or that it is not allowed.")
    if params.code_challenge is None:
        if not client.confidential:
            raise OAuthError("invalid_request", "PKCE is required for this app: send code_challenge (S256).")
        if params.code_challenge_method is not None:
            raise OAuthError("invalid_request", "code_challenge_method without code_challenge.")
    elif params.code_challenge_method != "S256" or not CODE_VERIFIER_PATTERN.fullmatch(params.code_challenge):
        raise OAuthError("invalid_request", "Send a code_challenge with code_challenge_method=S256 (plain is refused).")
    return requested


def redirect_with(redirect_uri: str, params: dict[str, str | None]) -> str:
    """`redirect_uri` with `params` added to its query (those that are None left out)."""
    query = urlencode({key: value for key, value in params.items() if value is not None})
    return f"{redirect_uri}{'&' if urlsplit(redirect_uri).query else '?'}{query}"


def error_redirect(checked: CheckedAuthorization, error: OAuthError) -> str:
    """Where to send the browser with an authorization error (the client's redirect URI, its state echoed)."""
    return redirect_with(
        checked.redirect_uri, {"error": error.error, "error_description": error.description, "state": checked.params.state}
    )


async def authorize(*, session: AsyncSession, principal: Principal, checked: CheckedAuthorization, requested: list[str]) -> str:
    """Where the signed-in user's browser goes next: back to the app with a code when a consent covers what it asks
    (or the app is first-party), else the consent page (a pending request, 10 minutes); `prompt=none` never shows it.
    The scopes are narrowed to what the user holds: an app never gets more than its user."""
    if principal.credential == "token":
        raise OAuthError("access_denied", "Sign in to Nubes in the browser to connect an app.")
    scopes = scope_table.narrowed(requested, principal.permissions)
    prompt = set((checked.params.prompt or "").split())
    consent = await _consent(session, principal.user_id, checked.client.id)
    covered = checked.client.first_party or (consent is not None and set(scopes) <= set(consent.scopes))
    if covered and "consent" not in prompt:
        await _record_consent(session, principal, checked.client, scopes, consent)
        code = await _new_code(session, principal, checked, scopes)
        return redirect_with(checked.redirect_uri, {"code": code, "state": checked.params.state})
    if "none" in prompt:
        raise OAuthError("consent_required", "The user has not approved this app yet.")
    pending = OAuthAuthorizationRequest(
        id=secrets.token_urlsafe(24),
        tenant_id=principal.tenant_id,
        user_id=principal.user_id,
        client_pk=checked.client.id,
        redirect_uri=checked.redirect_uri,
        scopes=scopes,
        state=checked.params.state,
        nonce=checked.params.nonce,
        code_challenge=checked.params.code_challenge,
        expires_at=utcnow() + REQUEST_TTL,
    )
    session.add(pending)
    await session.flush()
    return f"{CONSENT_PAGE}?{urlencode({'request': pending.id})}"


async def get_authorization(
    *, session: AsyncSession, principal: Principal, authorization_id: str
) -> tuple[OAuthAuthorizationRequest, OAuthClient]:
    """A pending authorization of the principal (404 for anyone else's, or once it expired)."""
    pending = await session.get(OAuthAuthorizationRequest, authorization_id[:64])
    if pending is None or pending.user_id != principal.user_id or pending.tenant_id != principal.tenant_id:
        raise NotFound("No such authorization request; go back to the app and sign in again.")
    if pending.expires_at <= utcnow():
        raise NotFound("This authorization request has expired; go back to the app and sign in again.")
    client = await session.get(OAuthClient, pending.client_pk)
    if client is None:
        raise NotFound("This app is no longer registered.")
    return pending, client


async def decide(*, session: AsyncSession, principal: Principal, authorization_id: str, allow: bool, origin: Origin) -> str:
    """The user's answer on the consent page: the app's redirect URI with a code (consent stored), or with
    `error=access_denied`. The pending request is spent either way."""
    pending, client = await get_authorization(session=session, principal=principal, authorization_id=authorization_id)
    await session.delete(pending)
    await session.flush()
    if not allow:
        return redirect_with(
            pending.redirect_uri,
            {"error": "access_denied", "error_description": "The user declined.", "state": pending.state},
        )
    scopes = scope_table.narrowed(pending.scopes, principal.permissions)
    consent = await _consent(session, principal.user_id, client.id)
    await _record_consent(session, principal, client, scopes, consent)
    params = AuthorizationParams(
        client_id=client.client_id,
        redirect_uri=pending.redirect_uri,
        response_type="code",
        scope=" ".join(scopes),
        state=pending.state,
        nonce=pending.nonce,
        code_challenge=pending.code_challenge,
        code_challenge_method="S256" if pending.code_challenge else None,
        prompt=None,
    )
    checked = CheckedAuthorization(client=client, redirect_uri=pending.redirect_uri, params=params)
    code = await _new_code(session, principal, checked, scopes)
    await audit.record(
        session=session,
        action="oauth.consent",
        origin=origin,
        principal=principal,
        target_type="oauth_client",
        target_id=client.id,
        detail={"scopes": scopes},
    )
    return redirect_with(pending.redirect_uri, {"code": code, "state": pending.state})


async def _consent(session: AsyncSession, user_id: uuid.UUID, client_pk: uuid.UUID) -> OAuthConsent | None:
    consent: OAuthConsent | None = await session.scalar(
        select(OAuthConsent).where(OAuthConsent.user_id == user_id, OAuthConsent.client_pk == client_pk)
    )
    return consent


async def _record_consent(
    session: AsyncSession, principal: Principal, client: OAuthClient, scopes: list[str], consent: OAuthConsent | None
) -> None:
    if consent is None:
        session.add(OAuthConsent(tenant_id=principal.tenant_id, user_id=principal.user_id, client_pk=client.id, scopes=scopes))
    elif not set(scopes) <= set(consent.scopes):
        consent.scopes = sorted(set(consent.scopes) | set(scopes))
        consent.updated_at = utcnow()
    await session.flush()


async def _new_code(session: AsyncSession, principal: Principal, checked: CheckedAuthorization, scopes: list[str]) -> str:
    code = secrets.token_urlsafe(32)
    session.add(
        OAuthCode(
            code_hash=hash_token(code),
            tenant_id=principal.tenant_id,
            user_id=principal.user_id,
            client_pk=checked.client.id,
            redirect_uri=checked.redirect_uri,
            scopes=scopes,
            nonce=checked.params.nonce,
            code_challenge=checked.params.code_challenge,
            expires_at=utcnow() + CODE_TTL,
        )
    )
    await session.flush()
    return code


# --- the token endpoint --------------------------------------------------------------------------------------------


async def exchange_code(
    *,
    session: AsyncSession,
    keyring: KeyRing,
    issuer: str,
    client: OAuthClient,
    code: str | None,
    redirect_uri: str | None,
    code_verifier: str | None,
) -> dict[str, Any]:
    """Redeem an authorization code: an app token, a refresh token (if the client may refresh) and an ID token (with
    `openid`). A code redeemed twice revokes everything the first redemption issued (RFC 6749 section 4.1.2)."""
    if "authorization_code" not in client.grant_types:
        raise OAuthError("unauthorized_client", "This client may not use the authorization code grant.")
    stored = await session.scalar(select(OAuthCode).where(OAuthCode.code_hash == hash_token(code or "")))
    if stored is None or stored.client_pk != client.id:
        raise InvalidGrant("This authorization code is not valid for this client.")
    now = utcnow()
    claimed = await session.execute(
        update(OAuthCode)
        .where(OAuthCode.id == stored.id, OAuthCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if cast("CursorResult[Any]", claimed).rowcount != 1:
        if stored.grant_id is not None:
            await _revoke_grant(session, stored.grant_id, "code_replay")
        raise InvalidGrant("This authorization code was already used; what it issued has been revoked.", keep_changes=True)
    if stored.expires_at <= now:
        raise InvalidGrant("This authorization code has expired; start the sign-in again.")
    if redirect_uri != stored.redirect_uri:
        raise InvalidGrant("redirect_uri differs from the one of the authorization request.")
    if stored.code_challenge is not None:
        if not code_verifier or not CODE_VERIFIER_PATTERN.fullmatch(code_verifier):
            raise InvalidGrant("Send the PKCE code_verifier (43 to 128 characters).")
        if not equal(create_s256_code_challenge(code_verifier), stored.code_challenge):
            raise InvalidGrant("The PKCE code_verifier does not match the code_challenge.")
    elif code_verifier:
        raise InvalidGrant("No code_challenge was sent with the authorization request, so no code_verifier is expected.")
    grant = OAuthGrant(
        tenant_id=stored.tenant_id,
        user_id=stored.user_id,
        client_pk=client.id,
        scopes=stored.scopes,
        nonce=stored.nonce,
        auth_time=stored.created_at,
    )
    session.add(grant)
    await session.flush()
    stored.grant_id = grant.id
    return await _issue(session, keyring, issuer, client, grant, id_token=True)


async def refresh(
    *, session: AsyncSession, keyring: KeyRing, issuer: str, client: OAuthClient, refresh_token: str | None, scope: str | None
) -> dict[str, Any]:
    """Rotate a refresh token: a new app token and refresh token. Presenting a spent one revokes the whole grant (every
    refresh and app token of the family, the newest included)."""
    if "refresh_token" not in client.grant_types:
        raise OAuthError("unauthorized_client", "This client may not use refresh tokens.")
    stored = await session.scalar(
        select(OAuthRefreshToken).where(OAuthRefreshToken.token_hash == hash_token(refresh_token or ""))
    )
    grant = await session.get(OAuthGrant, stored.grant_id) if stored else None
    if stored is None or grant is None or grant.client_pk != client.id:
        raise InvalidGrant("This refresh token is not valid for this client.")
    if grant.revoked_at is not None:
        raise InvalidGrant("This refresh token was revoked; sign in again.")
    now = utcnow()
    claimed = await session.execute(
        update(OAuthRefreshToken)
        .where(OAuthRefreshToken.id == stored.id, OAuthRefreshToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if cast("CursorResult[Any]", claimed).rowcount != 1:
        await _revoke_grant(session, grant.id, "refresh_token_reuse")
        raise InvalidGrant(
            "This refresh token was already used, so every token of this sign-in was revoked for safety; sign in again.",
            keep_changes=True,
        )
    if scope is not None:
        narrower = scope_table.parse(scope)
        if narrower is None or not set(narrower) <= set(grant.scopes):
            raise OAuthError("invalid_scope", "A refresh may only ask for scopes the grant holds.")
        grant.scopes = narrower
    return await _issue(session, keyring, issuer, client, grant, id_token=False)


async def client_credentials(*, session: AsyncSession, client: OAuthClient, scope: str | None) -> dict[str, Any]:
    """A token for the client itself (no user): it carries only scopes the client is allowed, acts as nobody, and is
    accepted by introspection only (never by the API, whose every caller is a user)."""
    if not client.confidential or "client_credentials" not in client.grant_types:
        raise OAuthError("unauthorized_client", "This client may not use the client credentials grant.")
    requested = scope_table.parse(scope)
    if requested is None or not set(requested) <= set(client.scopes):
        raise OAuthError("invalid_scope", "Ask only for scopes this client is allowed.")
    user_scopes = set(scope_table.OIDC_SCOPES)
    if user_scopes & set(requested):
        raise OAuthError("invalid_scope", "openid, profile, email and offline_access need a user: use the code flow.")
    token = CLIENT_TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        OAuthClientToken(
            tenant_id=client.tenant_id,
            client_pk=client.id,
            token_hash=hash_token(token),
            scopes=requested,
            expires_at=utcnow() + CLIENT_TOKEN_TTL,
        )
    )
    await session.flush()
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": int(CLIENT_TOKEN_TTL.total_seconds()),
        "scope": " ".join(requested),
    }


async def _issue(
    session: AsyncSession, keyring: KeyRing, issuer: str, client: OAuthClient, grant: OAuthGrant, *, id_token: bool
) -> dict[str, Any]:
    """An app token (and refresh token, ID token) of `grant`, if its user may still sign in."""
    row, access_token = await sessions_service.create_oauth_token(
        session=session,
        tenant_id=grant.tenant_id,
        user_id=grant.user_id,
        client_id=client.client_id,
        name=client.name,
        scopes=scope_table.token_scopes(grant.scopes),
        expires_at=utcnow() + ACCESS_TOKEN_TTL,
    )
    try:
        identity = await sessions_service.identity_of(session=session, keyring=keyring, token=access_token)
    except Unauthorized:
        raise InvalidGrant("This account cannot sign in any more; ask an admin.") from None
    answer: dict[str, Any] = {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": int(ACCESS_TOKEN_TTL.total_seconds()),
        "scope": " ".join(grant.scopes),
    }
    refresh_hash = None
    if "refresh_token" in client.grant_types:
        answer["refresh_token"] = REFRESH_PREFIX + secrets.token_urlsafe(32)
        refresh_hash = hash_token(answer["refresh_token"])
    session.add(OAuthRefreshToken(grant_id=grant.id, token_hash=refresh_hash, access_token_id=row.id))
    await session.flush()
    if id_token and scope_table.OPENID in grant.scopes:
        claims = {
            "iss": issuer,
            "sub": str(grant.user_id),
            "aud": client.client_id,
            "azp": client.client_id,
            "auth_time": int(grant.auth_time.timestamp()),
            **user_claims(identity.user, grant.scopes),
        }
        if grant.nonce:
            claims["nonce"] = grant.nonce
        answer["id_token"] = await keyring.sign(session, claims=claims, ttl=ID_TOKEN_TTL)
    return answer


async def _revoke_grant(session: AsyncSession, grant_id: uuid.UUID, reason: str) -> None:
    """End a grant: its refresh tokens stop, and so do the app tokens it issued."""
    grant = await session.get(OAuthGrant, grant_id)
    if grant is None:
        return
    if grant.revoked_at is None:
        grant.revoked_at, grant.revoke_reason = utcnow(), reason
    client = await session.get(OAuthClient, grant.client_pk)
    issued = await session.scalars(
        select(OAuthRefreshToken.access_token_id).where(
            OAuthRefreshToken.grant_id == grant.id, OAuthRefreshToken.access_token_id.is_not(None)
        )
    )
    token_ids = [token_id for token_id in issued if token_id is not None]
    if client is not None and token_ids:
        await sessions_service.revoke_oauth_tokens(
            session=session, tenant_id=grant.tenant_id, client_id=client.client_id, token_ids=token_ids
        )
    await session.flush()


def user_claims(user: dict[str, Any], granted: list[str]) -> dict[str, Any]:
    """The claims about the user that `granted` lets an app see (profile: names; email: the address)."""
    claims: dict[str, Any] = {}
    if "profile" in granted:
        claims["preferred_username"] = user["username"]
        claims["name"] = user["display_name"] or user["username"]
    if "email" in granted and user["email"]:
        claims["email"] = user["email"]
        claims["email_verified"] = user["email_verified_at"] is not None
    return claims


async def may_return_after_logout(*, session: AsyncSession, client_id: str, uri: str) -> bool:
    """Whether `uri` is one of the client's registered post-logout redirect URIs (exactly)."""
    if len(client_id) > 64:
        return False
    client = await session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))
    return client is not None and uri in client.post_logout_redirect_uris


# --- revocation, introspection -------------------------------------------------------------------------------------


async def revoke(*, session: AsyncSession, client: OAuthClient, token: str | None) -> None:
    """RFC 7009: revoke one of this client's tokens (a refresh token ends its whole grant). Anything else is ignored:
    the answer never says whether a token existed."""
    token = token or ""
    app_token = await sessions_service.get_oauth_token(session=session, token=token)
    if app_token is not None:
        if app_token.client_id == client.client_id:
            await sessions_service.revoke_oauth_tokens(
                session=session, tenant_id=app_token.tenant_id, client_id=client.client_id, token_ids=[app_token.id]
            )
        return
    if token.startswith(CLIENT_TOKEN_PREFIX):
        await session.execute(
            update(OAuthClientToken)
            .where(OAuthClientToken.token_hash == hash_token(token), OAuthClientToken.client_pk == client.id)
            .values(revoked_at=utcnow())
        )
        return
    stored = await session.scalar(select(OAuthRefreshToken).where(OAuthRefreshToken.token_hash == hash_token(token)))
    grant = await session.get(OAuthGrant, stored.grant_id) if stored else None
    if grant is not None and grant.client_pk == client.id:
        await _revoke_grant(session, grant.id, "revoked_by_client")


async def introspect(*, session: AsyncSession, client: OAuthClient, token: str | None) -> dict[str, Any]:
    """RFC 7662: whether a token of this client is active, and what it carries. Another client's token, an expired or
    revoked one, or an unknown string are all `{"active": false}`."""
    token = token or ""
    inactive: dict[str, Any] = {"active": False}
    now = utcnow()
    app_token = await sessions_service.get_oauth_token(session=session, token=token)
    if app_token is not None:
        if (
            app_token.client_id != client.client_id
            or app_token.revoked_at is not None
            or (app_token.expires_at is not None and app_token.expires_at <= now)
        ):
            return inactive
        return {
            "active": True,
            "scope": scope_table.scope_text(app_token.scopes),
            "client_id": client.client_id,
            "sub": str(app_token.user_id),
            "token_type": "Bearer",
            "exp": int(app_token.expires_at.timestamp()) if app_token.expires_at else None,
            "iat": int(app_token.created_at.timestamp()),
        }
    if token.startswith(CLIENT_TOKEN_PREFIX):
        service_token = await session.scalar(select(OAuthClientToken).where(OAuthClientToken.token_hash == hash_token(token)))
        if (
            service_token is None
            or service_token.client_pk != client.id
            or service_token.revoked_at
            or service_token.expires_at <= now
        ):
            return inactive
        return {
            "active": True,
            "scope": " ".join(service_token.scopes),
            "client_id": client.client_id,
            "token_type": "Bearer",
            "exp": int(service_token.expires_at.timestamp()),
            "iat": int(service_token.created_at.timestamp()),
        }
    stored = await session.scalar(select(OAuthRefreshToken).where(OAuthRefreshToken.token_hash == hash_token(token)))
    grant = await session.get(OAuthGrant, stored.grant_id) if stored else None
    if stored is None or grant is None or grant.client_pk != client.id or grant.revoked_at or stored.used_at:
        return inactive
    return {
        "active": True,
        "scope": " ".join(grant.scopes),
        "client_id": client.client_id,
        "sub": str(grant.user_id),
        "token_type": "refresh_token",
        "iat": int(stored.created_at.timestamp()),
    }


# --- connected apps (the account page) -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConnectedApp:
    """An app the user approved, with the scopes they approved and when it last used a token."""

    client: OAuthClient
    consent: OAuthConsent
    last_used_at: datetime | None


async def list_connected_apps(*, session: AsyncSession, principal: Principal) -> list[ConnectedApp]:
    """The apps the principal connected to their account, by name."""
    rows = await session.execute(
        select(OAuthConsent, OAuthClient)
        .join(OAuthClient, OAuthClient.id == OAuthConsent.client_pk)
        .where(OAuthConsent.user_id == principal.user_id, OAuthConsent.tenant_id == principal.tenant_id)
        .order_by(OAuthClient.name, OAuthClient.id)
    )
    used = await sessions_service.oauth_last_use(session=session, user_id=principal.user_id)
    return [ConnectedApp(client, consent, used.get(client.client_id)) for consent, client in rows.tuples()]


async def disconnect_app(*, session: AsyncSession, principal: Principal, client_pk: uuid.UUID, origin: Origin) -> None:
    """Revoke an app from the principal's account at once: its consent, its grants and every token it holds."""
    consent = await _consent(session, principal.user_id, client_pk)
    client = await session.get(OAuthClient, client_pk)
    if consent is None or client is None or client.tenant_id != principal.tenant_id:
        raise NotFound("This app is not connected to your account.")
    await session.delete(consent)
    await session.execute(
        update(OAuthGrant)
        .where(OAuthGrant.user_id == principal.user_id, OAuthGrant.client_pk == client.id, OAuthGrant.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoke_reason="revoked_by_user")
    )
    await session.execute(
        delete(OAuthAuthorizationRequest).where(
            OAuthAuthorizationRequest.user_id == principal.user_id, OAuthAuthorizationRequest.client_pk == client.id
        )
    )
    await sessions_service.revoke_oauth_tokens(
        session=session, tenant_id=principal.tenant_id, client_id=client.client_id, user_id=principal.user_id
    )
    await session.flush()
    await audit.record(
        session=session,
        action="oauth.disconnect",
        origin=origin,
        principal=principal,
        target_type="oauth_client",
        target_id=client.id,
    )

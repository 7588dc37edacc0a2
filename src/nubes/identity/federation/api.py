"""Routes for external sign-in: the providers (super-admins), the sign-in page's buttons, the OpenID Connect redirect
and callback, partner tickets, and the account's linked providers."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Path, Query, Request, Response
from fastapi.responses import RedirectResponse

from nubes.core.crypto import equal
from nubes.core.db import SessionDep, WriteSessionDep
from nubes.core.errors import NubesError
from nubes.core.principal import Principal
from nubes.core.routing import api_router
from nubes.identity.deps import (
    ACCESS_COOKIE,
    KeyRingDep,
    LimiterDep,
    OriginDep,
    SessionPrincipal,
    SettingsDep,
    SudoPrincipal,
    SuperAdmin,
    set_session_cookies,
)
from nubes.identity.federation import service
from nubes.identity.federation.models import IdentityProvider
from nubes.identity.federation.schemas import (
    DiscoveryRead,
    DiscoveryRequest,
    LinkedProviderRead,
    LinkRequest,
    LinkStart,
    ProviderButton,
    ProviderCreate,
    ProviderRead,
    ProviderUpdate,
)
from nubes.identity.mfa import service as mfa_service
from nubes.identity.schemas import SLUG_PATTERN
from nubes.identity.sessions import service as sessions_service
from nubes.identity.sessions.tokens import AccessClaims
from nubes.identity.users.models import User

router = api_router()

ProviderSlug = Annotated[str, Path(max_length=63, pattern=SLUG_PATTERN)]
FLOW_PATH = "/api/auth/providers"
_REDIRECT: dict[int | str, dict[str, Any]] = {
    302: {"description": "To the provider, or back to Nubes"},
    303: {"description": "Back to Nubes"},
}


def _read(provider: IdentityProvider, request: Request, settings: SettingsDep) -> ProviderRead:
    return ProviderRead.model_validate(
        {
            **{column: getattr(provider, column) for column in ProviderRead.model_fields if hasattr(provider, column)},
            "has_client_secret": bool(provider.client_secret),
            "redirect_uri": service.redirect_uri(settings, str(request.base_url), provider.slug),
        }
    )


def _label(provider: IdentityProvider) -> str:
    return provider.button_label or f"Sign in with {provider.name}"


# --- admin ---------------------------------------------------------------------------------------


@router.get(
    "/admin/identity-providers",
    operation_id="admin-identity-providers-list",
    response_model=list[ProviderRead],
    tags=["admin"],
    summary="Sign-in providers",
)
async def list_providers(
    request: Request, session: SessionDep, settings: SettingsDep, principal: SuperAdmin
) -> list[ProviderRead]:
    """Every external identity provider, platform-wide (secrets never shown)."""
    return [_read(row, request, settings) for row in await service.list_providers(session=session)]


@router.post(
    "/admin/identity-providers",
    operation_id="admin-identity-providers-create",
    response_model=ProviderRead,
    status_code=201,
    tags=["admin"],
    summary="Add a sign-in provider",
)
async def create_provider(
    provider_in: ProviderCreate,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: SuperAdmin,
    origin: OriginDep,
) -> ProviderRead:
    """An OpenID Connect provider or a partner's ticket exchange; register `redirect_uri` at the provider."""
    provider = await service.create_provider(
        session=session, settings=settings, principal=principal, provider_in=provider_in, origin=origin
    )
    return _read(provider, request, settings)


@router.patch(
    "/admin/identity-providers/{provider_id}",
    operation_id="admin-identity-providers-update",
    response_model=ProviderRead,
    tags=["admin"],
    summary="Change a sign-in provider",
)
async def update_provider(
    provider_id: uuid.UUID,
    provider_in: ProviderUpdate,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: SuperAdmin,
    origin: OriginDep,
) -> ProviderRead:
    """Fields left out stay; a `client_secret` replaces the stored one."""
    provider = await service.update_provider(
        session=session, settings=settings, principal=principal, provider_id=provider_id, provider_in=provider_in, origin=origin
    )
    return _read(provider, request, settings)


@router.delete(
    "/admin/identity-providers/{provider_id}",
    operation_id="admin-identity-providers-delete",
    status_code=204,
    tags=["admin"],
    summary="Remove a sign-in provider",
)
async def delete_provider(provider_id: uuid.UUID, session: SessionDep, principal: SuperAdmin, origin: OriginDep) -> None:
    """The provider and every account link to it go; those users sign in their other ways."""
    await service.delete_provider(session=session, principal=principal, provider_id=provider_id, origin=origin)


@router.post(
    "/admin/identity-provider-discovery",
    operation_id="admin-identity-providers-discovery",
    response_model=DiscoveryRead,
    tags=["admin"],
    summary="Test an issuer's discovery",
)
async def test_discovery(body: DiscoveryRequest, principal: SuperAdmin) -> DiscoveryRead:
    """Fetch `<issuer>/.well-known/openid-configuration` now: the endpoints found, or the error."""
    return await service.test_discovery(issuer=body.issuer)


# --- the sign-in page and the flow ---------------------------------------------------------------


@router.get(
    "/auth/providers",
    operation_id="auth-providers",
    response_model=list[ProviderButton],
    tags=["auth"],
    summary="External sign-in providers",
)
async def providers(session: SessionDep) -> list[ProviderButton]:
    """The providers the sign-in page shows as buttons."""
    return [
        ProviderButton(slug=row.slug, name=row.name, label=_label(row), kind=row.kind)
        for row in await service.enabled_providers(session=session)
        if row.kind == "oidc"
    ]


def _flow_cookie(response: Response, settings: SettingsDep, value: str) -> None:
    response.set_cookie(
        service.FLOW_COOKIE,
        value,
        max_age=service.FLOW_TTL,
        httponly=True,
        samesite="lax",  # the provider's redirect back is a cross-site top-level GET
        secure=settings.public_url.startswith("https://"),
        path=FLOW_PATH,
    )


@router.get(
    "/auth/providers/{provider_slug}/start",
    operation_id="auth-providers-start",
    status_code=302,
    response_class=RedirectResponse,
    tags=["auth"],
    summary="Sign in with an external provider",
    responses=_REDIRECT,
)
async def start(
    provider_slug: ProviderSlug,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    origin: OriginDep,
    limiter: LimiterDep,
    next: Annotated[str | None, Query(max_length=500, description="A path on this server to land on")] = None,
) -> RedirectResponse:
    """302 to the provider's sign-in page (state, nonce and PKCE S256; the flow kept in a short-lived cookie)."""
    await limiter.hit("login-ip", origin.ip, settings.login_rate_limit)
    try:
        url, flow = await service.start(
            session=session, settings=settings, base_url=str(request.base_url), slug=provider_slug, next_path=next
        )
    except service.ProviderUnavailable as exc:
        # The person pressed a button: back to the sign-in page with the reason, not a bare 502.
        return RedirectResponse(service.error_location("/login", exc.detail or exc.title), status_code=303)
    response = RedirectResponse(url, status_code=302)
    _flow_cookie(response, settings, service.seal_flow(settings, flow))
    response.headers["Cache-Control"] = "no-store"
    return response


async def _link_principal(request: Request, session: SessionDep, keyring: KeyRingDep) -> Principal | None:
    token = request.cookies.get(ACCESS_COOKIE, "")
    if not token:
        return None
    try:
        identity = await sessions_service.identity_of(session=session, keyring=keyring, token=token)
    except NubesError:
        return None
    return identity.principal


async def _signed_in_redirect(
    session: SessionDep, settings: SettingsDep, keyring: KeyRingDep, origin: OriginDep, user: User, next_path: str
) -> RedirectResponse:
    """Exactly what a password sign-in does next: the second step when the account has one, else a session."""
    if await mfa_service.has_second_factor(session=session, user_id=user.id):
        # The provider stands in for the password only: the account's own second factor is still asked.
        token = await mfa_service.start_mfa(session=session, user=user)
        return RedirectResponse(f"/login#mfa_token={quote(token)}&next={quote(next_path, safe='')}", status_code=303)
    signed_in = await sessions_service.start_session(session=session, settings=settings, user=user, origin=origin)
    access, _ = await keyring.issue(
        session, claims=AccessClaims(user_id=user.id, tenant_id=user.tenant_id, session_id=signed_in.session.id)
    )
    response = RedirectResponse(next_path, status_code=303)
    set_session_cookies(response, settings, access_token=access, refresh_token=signed_in.refresh_token)
    return response


@router.get(
    "/auth/providers/{provider_slug}/callback",
    operation_id="auth-providers-callback",
    status_code=303,
    response_class=RedirectResponse,
    tags=["auth"],
    summary="Where the provider sends the browser back",
    responses=_REDIRECT,
)
async def callback(
    provider_slug: ProviderSlug,
    request: Request,
    session: WriteSessionDep,
    settings: SettingsDep,
    keyring: KeyRingDep,
    origin: OriginDep,
    limiter: LimiterDep,
    code: Annotated[str | None, Query(max_length=2000)] = None,
    state: Annotated[str | None, Query(max_length=500)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> RedirectResponse:
    """Check the state, trade the code, verify the ID token, then sign in (or link) and land on `next`."""
    flow = service.open_flow(settings, request.cookies.get(service.FLOW_COOKIE, ""))
    try:
        await limiter.hit("login-ip", origin.ip, settings.login_rate_limit)
        provider = await service.provider_for_flow(session=session, slug=provider_slug, kind="oidc")
        if flow is None or flow.provider != provider.slug or not state or not equal(flow.state, state):
            raise await service.refuse(
                session=session,
                provider=provider,
                origin=origin,
                reason="bad_state",
                message="This sign-in did not start in this browser, or took too long; start again.",
            )
        await service.spend(session, flow.state, "sign-in")
        if error or not code:
            raise await service.refuse(
                session=session,
                provider=provider,
                origin=origin,
                reason="provider_error",
                message=f"{provider.name} did not sign you in ({(error or 'no code')[:100]}); try again.",
            )
        values = await service.exchange_code(
            settings=settings, provider=provider, base_url=str(request.base_url), flow=flow, code=code
        )
        claims = service.map_claims(provider, values)
        if flow.intent == "link":
            principal = await _link_principal(request, session, keyring)
            if principal is None or str(principal.session_id) != flow.session_id:
                raise await service.refuse(
                    session=session,
                    provider=provider,
                    origin=origin,
                    reason="link_session_changed",
                    message="Linking must finish in the session that started it; sign in and try again.",
                )
            await service.link(session=session, principal=principal, provider=provider, claims=claims, origin=origin)
            response = RedirectResponse(flow.next, status_code=303)
        else:
            user = await service.sign_in(session=session, settings=settings, provider=provider, claims=claims, origin=origin)
            response = await _signed_in_redirect(session, settings, keyring, origin, user, flow.next)
    except NubesError as exc:
        if not exc.keep_changes:
            await session.rollback()
        where = "/account" if flow and flow.intent == "link" else "/login"
        response = RedirectResponse(service.error_location(where, exc.detail or exc.title), status_code=303)
    response.delete_cookie(service.FLOW_COOKIE, path=FLOW_PATH)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get(
    "/auth/providers/{provider_slug}/ticket",
    operation_id="auth-providers-ticket",
    status_code=303,
    response_class=RedirectResponse,
    tags=["auth"],
    summary="Sign in with a partner app's ticket",
    responses=_REDIRECT,
)
async def ticket(
    provider_slug: ProviderSlug,
    session: WriteSessionDep,
    settings: SettingsDep,
    keyring: KeyRingDep,
    origin: OriginDep,
    limiter: LimiterDep,
    ticket: Annotated[str, Query(min_length=1, max_length=2000)],
    next: Annotated[str | None, Query(max_length=500)] = None,
) -> RedirectResponse:
    """The partner sent the browser here with a one-time ticket: trade it server-to-server, then sign in."""
    try:
        await limiter.hit("login-ip", origin.ip, settings.login_rate_limit)
        provider = await service.provider_for_flow(session=session, slug=provider_slug, kind="ticket")
        await service.spend(session, ticket, "ticket")
        values = await service.exchange_ticket(settings=settings, provider=provider, ticket=ticket)
        claims = service.map_claims(provider, values)
        user = await service.sign_in(session=session, settings=settings, provider=provider, claims=claims, origin=origin)
        response = await _signed_in_redirect(session, settings, keyring, origin, user, service.safe_next(next))
    except NubesError as exc:
        if not exc.keep_changes:
            await session.rollback()
        response = RedirectResponse(service.error_location("/login", exc.detail or exc.title), status_code=303)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- the account's linked providers --------------------------------------------------------------


@router.get(
    "/users/me/sign-in-providers",
    operation_id="users-me-sign-in-providers",
    response_model=list[LinkedProviderRead],
    tags=["users"],
    summary="My linked sign-in providers",
)
async def my_providers(session: SessionDep, principal: SessionPrincipal) -> list[LinkedProviderRead]:
    """The providers your organization offers, and which of them your account is linked to."""
    return [
        LinkedProviderRead(
            slug=provider.slug,
            name=provider.name,
            label=_label(provider),
            kind=provider.kind,
            linked=row is not None,
            linked_at=row.linked_at if row else None,
            last_login_at=row.last_login_at if row else None,
        )
        for provider, row in await service.list_links(session=session, principal=principal)
    ]


@router.post(
    "/users/me/sign-in-providers/{provider_slug}/link",
    operation_id="users-me-sign-in-providers-link",
    response_model=LinkStart,
    tags=["users"],
    summary="Start linking a sign-in provider",
)
async def start_link(
    provider_slug: ProviderSlug,
    body: LinkRequest,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    principal: SudoPrincipal,
) -> LinkStart:
    """Where to send the browser; the provider's answer links your account only in this session."""
    url, flow = await service.start(
        session=session,
        settings=settings,
        base_url=str(request.base_url),
        slug=provider_slug,
        next_path=body.next,
        principal=principal,
    )
    _flow_cookie(response, settings, service.seal_flow(settings, flow))
    response.headers["Cache-Control"] = "no-store"
    return LinkStart(authorize_url=url)


@router.delete(
    "/users/me/sign-in-providers/{provider_slug}",
    operation_id="users-me-sign-in-providers-unlink",
    status_code=204,
    tags=["users"],
    summary="Unlink a sign-in provider",
)
async def unlink(provider_slug: ProviderSlug, session: SessionDep, principal: SudoPrincipal, origin: OriginDep) -> None:
    """That provider no longer signs you in (refused when it is your only way in)."""
    await service.unlink(session=session, principal=principal, slug=provider_slug, origin=origin)

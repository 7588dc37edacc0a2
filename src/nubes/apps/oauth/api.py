"""Routes of the OAuth provider under /api: admins' OAuth clients, the consent page's pending authorizations, and the
account page's connected apps. (The protocol's own endpoints are in protocol.py, at the root.)"""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Path

from nubes.apps.oauth import scopes as scope_table
from nubes.apps.oauth import service
from nubes.apps.oauth.models import OAuthClient
from nubes.apps.oauth.schemas import (
    AuthorizationDecision,
    AuthorizationRead,
    ClientCreate,
    ClientCreated,
    ClientRead,
    ClientUpdate,
    ConnectedAppRead,
    ScopeRead,
)
from nubes.core.db import SessionDep
from nubes.core.principal import Principal
from nubes.core.routing import api_router
from nubes.identity.deps import OriginDep, SessionPrincipal, require

router = api_router(tags=["apps"])

Manager = Annotated[Principal, Depends(require("apps.manage"))]
AuthorizationId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


def _scopes(scopes: list[str]) -> list[ScopeRead]:
    """The scopes in plain words, in the order people read them: who you are, then what the app may do."""
    return [
        ScopeRead(scope=scope, description=scope_table.describe(scope)) for scope in sorted(scopes, key=scope_table.reading_order)
    ]


def _created(client: OAuthClient, secret: str | None) -> ClientCreated:
    return ClientCreated.model_validate({**ClientRead.model_validate(client).model_dump(), "client_secret": secret})


# --- OAuth clients (admins) ----------------------------------------------------------------------------------------


@router.get("/oauth/clients", operation_id="oauth-clients-list", response_model=list[ClientRead], summary="OAuth clients")
async def list_clients(session: SessionDep, principal: Manager) -> list[ClientRead]:
    """The apps registered to sign users of this organization in with Nubes."""
    return [ClientRead.model_validate(row) for row in await service.list_clients(session=session, principal=principal)]


@router.post(
    "/oauth/clients",
    operation_id="oauth-clients-create",
    response_model=ClientCreated,
    status_code=201,
    summary="Register an OAuth client",
)
async def create_client(session: SessionDep, principal: Manager, origin: OriginDep, client_in: ClientCreate) -> ClientCreated:
    """A new client; a confidential one's secret is in this answer only (copy it now)."""
    client, secret = await service.create_client(session=session, principal=principal, client_in=client_in, origin=origin)
    return _created(client, secret)


@router.get(
    "/oauth/clients/{oauth_client_id}", operation_id="oauth-clients-get", response_model=ClientRead, summary="OAuth client"
)
async def get_client(session: SessionDep, principal: Manager, oauth_client_id: uuid.UUID) -> ClientRead:
    """One client of this organization."""
    return ClientRead.model_validate(
        await service.get_client_or_raise(session=session, principal=principal, client_pk=oauth_client_id)
    )


@router.patch(
    "/oauth/clients/{oauth_client_id}",
    operation_id="oauth-clients-update",
    response_model=ClientRead,
    summary="Change an OAuth client",
)
async def update_client(
    session: SessionDep, principal: Manager, origin: OriginDep, oauth_client_id: uuid.UUID, client_in: ClientUpdate
) -> ClientRead:
    """Change its name, redirect URIs, scopes, grant types or first-party flag."""
    client = await service.update_client(
        session=session, principal=principal, client_pk=oauth_client_id, client_in=client_in, origin=origin
    )
    return ClientRead.model_validate(client)


@router.post(
    "/oauth/clients/{oauth_client_id}/secret",
    operation_id="oauth-clients-rotate-secret",
    response_model=ClientCreated,
    summary="Rotate an OAuth client's secret",
)
async def rotate_secret(session: SessionDep, principal: Manager, origin: OriginDep, oauth_client_id: uuid.UUID) -> ClientCreated:
    """A new secret (in this answer only); the old one stops working at once."""
    client, secret = await service.rotate_secret(session=session, principal=principal, client_pk=oauth_client_id, origin=origin)
    return _created(client, secret)


@router.delete(
    "/oauth/clients/{oauth_client_id}", operation_id="oauth-clients-delete", status_code=204, summary="Delete an OAuth client"
)
async def delete_client(session: SessionDep, principal: Manager, origin: OriginDep, oauth_client_id: uuid.UUID) -> None:
    """Delete the client; every token it holds stops working at once."""
    await service.delete_client(session=session, principal=principal, client_pk=oauth_client_id, origin=origin)


# --- the consent page ----------------------------------------------------------------------------------------------


@router.get(
    "/oauth/requests/{authorization_id}",
    operation_id="oauth-requests-get",
    response_model=AuthorizationRead,
    summary="A pending authorization",
)
async def get_authorization(
    session: SessionDep, principal: SessionPrincipal, authorization_id: AuthorizationId
) -> AuthorizationRead:
    """What an app asks for (its name, the scopes in plain words, where it sends you back), for the consent page."""
    pending, client = await service.get_authorization(session=session, principal=principal, authorization_id=authorization_id)
    return AuthorizationRead(
        id=pending.id,
        client_name=client.name,
        client_id=client.client_id,
        first_party=client.first_party,
        redirect_host=urlsplit(pending.redirect_uri).netloc,
        scopes=_scopes(pending.scopes),
        expires_at=pending.expires_at,
    )


@router.post(
    "/oauth/requests/{authorization_id}/approve",
    operation_id="oauth-requests-approve",
    response_model=AuthorizationDecision,
    summary="Allow an app",
)
async def approve(
    session: SessionDep, principal: SessionPrincipal, origin: OriginDep, authorization_id: AuthorizationId
) -> AuthorizationDecision:
    """Allow the app what it asked for: the browser goes back to it with a code."""
    target = await service.decide(
        session=session, principal=principal, authorization_id=authorization_id, allow=True, origin=origin
    )
    return AuthorizationDecision(redirect_to=target)


@router.post(
    "/oauth/requests/{authorization_id}/deny",
    operation_id="oauth-requests-deny",
    response_model=AuthorizationDecision,
    summary="Refuse an app",
)
async def deny(
    session: SessionDep, principal: SessionPrincipal, origin: OriginDep, authorization_id: AuthorizationId
) -> AuthorizationDecision:
    """Refuse: the browser goes back to the app with `error=access_denied`."""
    target = await service.decide(
        session=session, principal=principal, authorization_id=authorization_id, allow=False, origin=origin
    )
    return AuthorizationDecision(redirect_to=target)


# --- connected apps (the account page) -----------------------------------------------------------------------------


@router.get("/users/me/apps", operation_id="users-me-apps", response_model=list[ConnectedAppRead], summary="My connected apps")
async def connected_apps(session: SessionDep, principal: SessionPrincipal) -> list[ConnectedAppRead]:
    """The apps you allowed to use your account, what each may do, and when it last did."""
    apps = await service.list_connected_apps(session=session, principal=principal)
    return [
        ConnectedAppRead(
            id=app.client.id,
            client_id=app.client.client_id,
            name=app.client.name,
            scopes=_scopes(app.consent.scopes),
            connected_at=app.consent.created_at,
            last_used_at=app.last_used_at,
        )
        for app in apps
    ]


@router.delete(
    "/users/me/apps/{oauth_client_id}",
    operation_id="users-me-apps-revoke",
    status_code=204,
    summary="Disconnect an app",
)
async def disconnect_app(session: SessionDep, principal: SessionPrincipal, origin: OriginDep, oauth_client_id: uuid.UUID) -> None:
    """Revoke the app's access at once: its consent and every token it holds for you."""
    await service.disconnect_app(session=session, principal=principal, client_pk=oauth_client_id, origin=origin)

"""apps.oauth in the generic suites: bodies, and tenant A's OAuth client with a pending authorization of its member."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from nubes.apps.oauth.models import OAuthAuthorizationRequest, OAuthClient, OAuthConsent
from nubes.core.db import utcnow
from tests.access import TenantA

PUBLIC: frozenset[str] = frozenset()

BODIES: dict[str, dict[str, Any]] = {
    "oauth-clients-create": {"name": "Intruder", "redirect_uris": ["https://app.example/cb"]},
    "oauth-clients-update": {"name": "Renamed by another tenant"},
}


async def objects(tenant_a: TenantA) -> dict[str, str]:
    """Tenant A's client "Notes" (its member connected it) and a pending authorization of that member."""
    session = tenant_a.session
    tenant_id, user_id = uuid.UUID(tenant_a.ids["tenant_id"]), uuid.UUID(tenant_a.ids["user_id"])
    client = OAuthClient(
        tenant_id=tenant_id, client_id=f"notes-{uuid.uuid4().hex[:12]}", name="Notes", confidential=True,
        secret_hash="0" * 64, redirect_uris=["https://notes.example/cb"], post_logout_redirect_uris=[],
        scopes=["openid", "files:read"], grant_types=["authorization_code", "refresh_token"],
    )  # fmt: skip
    session.add(client)
    await session.flush()
    session.add(OAuthConsent(tenant_id=tenant_id, user_id=user_id, client_pk=client.id, scopes=["openid"]))
    pending = OAuthAuthorizationRequest(
        id=f"req-{uuid.uuid4().hex}", tenant_id=tenant_id, user_id=user_id, client_pk=client.id,
        redirect_uri="https://notes.example/cb", scopes=["openid"], expires_at=utcnow() + timedelta(minutes=10),
    )  # fmt: skip
    session.add(pending)
    await session.flush()
    return {"oauth_client_id": str(client.id), "authorization_id": pending.id}

"""The identity domain in the generic suites: its public operations, bodies, and tenant A's objects."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from nubes.identity.federation.models import FederatedIdentity, IdentityProvider
from nubes.identity.groups.models import Group, GroupMember
from nubes.identity.mfa.models import Passkey
from nubes.identity.roles.models import Role
from nubes.identity.sessions.models import PersonalAccessToken, Session
from tests.access import TenantA
from tests.factories import login, make_tenant, make_user

PUBLIC = frozenset(
    {
        "auth-login",
        "auth-refresh",
        "auth-logout",
        "auth-jwks",
        # Sign-up, mailed links and the second sign-in step: each proves itself with its own one-time secret.
        "auth-options",
        "auth-register",
        "auth-verify-email",
        "auth-verify-email-request",
        "auth-password-reset-request",
        "auth-password-reset",
        "auth-login-mfa",
        "auth-passkey-options",
        "auth-passkey-login",
        # External sign-in: the buttons, the redirect to the provider, its way back (state bound to the browser's
        # cookie, the ID token checked) and a partner's single-use ticket.
        "auth-providers",
        "auth-providers-start",
        "auth-providers-callback",
        "auth-providers-ticket",
    }
)

BODIES: dict[str, dict[str, Any]] = {
    "users-me-password": {"current_password": "x", "new_password": "y"},
    "admin-users-create": {"username": "intruder", "password": "Intruder-Password-2024!"},
    "admin-users-update": {"display_name": "changed by another tenant", "is_active": False},
    "admin-tenants-create": {"name": "Intruders", "slug": "intruders"},
    "admin-tenants-update": {"status": "suspended"},
    "admin-roles-create": {"name": "intruder", "permissions": ["files.read"]},
    "admin-roles-update": {"permissions": ["tenant.manage"]},
    "admin-groups-create": {"name": "intruders"},
    "admin-groups-update": {"name": "renamed by another tenant"},
    "users-me-tokens-create": {"name": "probe", "scopes": ["files.read"]},
    "users-me-app-passwords-create": {"name": "probe"},
    "users-me-totp-confirm": {"code": "123456"},
    "users-me-totp-disable": {"password": "x"},
    "users-me-recovery-codes": {"password": "x"},
    "users-me-passkeys-create": {"token": "x", "name": "probe", "credential": {}},
    "users-me-passkeys-update": {"name": "renamed by another tenant"},
    "admin-settings-registration-update": {"enabled": True},
    "admin-identity-providers-create": {"slug": "intruder", "name": "Intruder", "issuer": "https://id.example", "client_id": "x"},
    "admin-identity-providers-update": {"enabled": False},
    # Nothing listens on port 9: a discovery that a suite lets through fails at once instead of waiting.
    "admin-identity-providers-discovery": {"issuer": "http://127.0.0.1:9"},
    "users-me-sign-in-providers-link": {"next": "/account"},
}


async def objects(tenant_a: TenantA) -> dict[str, str]:
    """Tenant A, a signed-in member with a session, a custom role, a group they are in, a token and a passkey."""
    session = tenant_a.session
    tenant = await make_tenant(session, "tenant-a")
    member = await make_user(session, tenant_a.settings, tenant, username="a-member")
    await login(tenant_a.client, member)
    device = await session.scalar(select(Session).where(Session.user_id == member.id))
    assert device is not None
    role = Role(tenant_id=tenant.id, name="a-custom")
    group = Group(tenant_id=tenant.id, name="a-team")
    session.add_all([role, group])
    await session.flush()
    session.add(GroupMember(group_id=group.id, user_id=member.id))
    token = PersonalAccessToken(
        tenant_id=tenant.id, user_id=member.id, name="a-token", token_hash="0" * 64, prefix="nbp_a", scopes=["files.read"]
    )
    app_password = PersonalAccessToken(
        tenant_id=tenant.id,
        user_id=member.id,
        name="a-laptop",
        kind="app",
        token_hash="1" * 64,
        prefix="nba_a",
        scopes=["files.read"],
    )
    passkey = Passkey(
        tenant_id=tenant.id, user_id=member.id, credential_id=b"a-credential", public_key=b"a-key", name="a-passkey"
    )
    provider = IdentityProvider(
        slug="a-provider",
        name="A provider",
        kind="oidc",
        issuer="https://id.example",
        client_id="a",
        allowed_tenant_ids=[str(tenant.id)],
    )
    session.add_all([token, app_password, passkey, provider])
    await session.flush()
    session.add(FederatedIdentity(tenant_id=tenant.id, user_id=member.id, provider_id=provider.id, subject="a-subject"))
    await session.flush()
    return {
        "provider_id": str(provider.id),
        "provider_slug": provider.slug,
        "user_id": str(member.id),
        "session_id": str(device.id),
        "tenant_id": str(tenant.id),
        "role_id": str(role.id),
        "group_id": str(group.id),
        "token_id": str(token.id),
        "app_password_id": str(app_password.id),
        "passkey_id": str(passkey.id),
    }

"""The identity domain's manifest: tenants, users, roles, groups, sessions and MFA."""

from __future__ import annotations

from nubes.core.domain import Domain
from nubes.identity.permissions import PERMISSIONS

DOMAIN = Domain(
    name="identity",
    title="Identity",
    permissions=PERMISSIONS,
    models=(
        "nubes.identity.federation.models",
        "nubes.identity.groups.models",
        "nubes.identity.mfa.models",
        "nubes.identity.roles.models",
        "nubes.identity.sessions.models",
        "nubes.identity.tenants.models",
        "nubes.identity.users.models",
    ),
    api="nubes.identity.api",
    tasks="nubes.identity.tasks",
)

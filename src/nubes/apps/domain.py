"""The apps domain's manifest: the service registry, the gateway, the OAuth2/OIDC provider and the app data store."""

from __future__ import annotations

from nubes.apps.permissions import PERMISSIONS
from nubes.apps.registry import flows
from nubes.core.domain import Domain

# Cross-domain reactions register when imported: every new tenant gets each service's `<slug>-admin` group.
FLOWS = (flows,)

DOMAIN = Domain(
    name="apps",
    title="Apps",
    permissions=PERMISSIONS,
    models=(
        "nubes.apps.registry.models",
        "nubes.apps.oauth.models",
        "nubes.apps.data.models",
    ),
    api="nubes.apps.api",
    root_api="nubes.apps.root_api",
    tasks="nubes.apps.tasks",
)

"""The registry in the generic suites: a registered service and a grant of it in tenant A."""

from __future__ import annotations

import uuid
from typing import Any

from nubes.apps.registry.manifest import Manifest
from nubes.apps.registry.models import AppService, AppUserPermission
from tests.access import TenantA

PUBLIC: frozenset[str] = frozenset({"apps-manifest-schema"})

BODIES: dict[str, dict[str, Any]] = {
    "apps-admin-services-register": {"base_url": "http://127.0.0.1:9/"},
    "apps-admin-services-update": {"enabled": False},
    "apps-services-settings-update": {"values": {"greeting": "Hi"}},
    "apps-services-permissions-grant": {"user_id": "00000000-0000-4000-8000-000000000000"},
}

# Services are the platform's (one catalog every tenant reads, like eggs): these act on the caller's own tenant's
# part of one (its settings, its grants) or read it; tests/apps/registry/test_permissions.py checks that tenant B
# never sees or changes tenant A's part.
SHARED_CATALOG = frozenset(
    {
        "apps-admin-services-get",
        "apps-admin-services-checks",
        "apps-services-settings-get",
        "apps-services-settings-update",
        "apps-services-permissions-list",
        "apps-services-permissions-grant",
    }
)


async def objects(tenant_a: TenantA) -> dict[str, str]:
    """A registered service (platform-wide) and tenant A's grant of it to its member."""
    session = tenant_a.session
    manifest = Manifest(manifest_version=1, id="suite-app", name="Suite app")
    service = AppService(
        slug="suite-app", base_url="http://127.0.0.1:9", name="Suite app", manifest=manifest.model_dump(mode="json")
    )
    session.add(service)
    await session.flush()
    grant = AppUserPermission(
        tenant_id=uuid.UUID(tenant_a.ids["tenant_id"]), service_id=service.id, user_id=uuid.UUID(tenant_a.ids["user_id"])
    )
    session.add(grant)
    await session.flush()
    return {"service_id": str(service.id), "permission_id": str(grant.id)}

"""The apps domain in the generic suites: each sub-package's part (tests/apps/<sub>/access.py), merged here."""

from __future__ import annotations

from typing import Any

from tests.access import TenantA
from tests.apps.data import access as data_access
from tests.apps.oauth import access as oauth_access
from tests.apps.registry import access as registry_access

PUBLIC: frozenset[str] = frozenset() | data_access.PUBLIC | oauth_access.PUBLIC | registry_access.PUBLIC
BODIES: dict[str, dict[str, Any]] = {**data_access.BODIES, **oauth_access.BODIES, **registry_access.BODIES}
SHARED_CATALOG: frozenset[str] = registry_access.SHARED_CATALOG


async def objects(tenant_a: TenantA) -> dict[str, str]:
    """Every apps sub-package's tenant-A objects."""
    made: dict[str, str] = {}
    made.update(await data_access.objects(tenant_a))
    made.update(await oauth_access.objects(tenant_a))
    made.update(await registry_access.objects(tenant_a))
    return made

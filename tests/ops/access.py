"""The ops domain in the generic suites: liveness, readiness and version are public; no tenant objects."""

from __future__ import annotations

from typing import Any

from tests.access import TenantA
from tests.ops.alerts import access as alerts_access
from tests.ops.backups import access as backups_access
from tests.ops.flags import access as flags_access

PUBLIC = frozenset({"health", "ready", "version"}) | alerts_access.PUBLIC

BODIES: dict[str, dict[str, Any]] = {**alerts_access.BODIES, **flags_access.BODIES, **backups_access.BODIES}

SHARED_CATALOG = flags_access.SHARED_CATALOG


async def objects(tenant_a: TenantA) -> dict[str, str]:
    """Each ops sub-package's tenant-A objects."""
    made: dict[str, str] = {}
    made.update(await alerts_access.objects(tenant_a))
    made.update(await flags_access.objects(tenant_a))
    made.update(await backups_access.objects(tenant_a))
    return made

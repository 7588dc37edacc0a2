"""The ops domain in the generic suites: liveness, readiness and version are public; no tenant objects."""

from __future__ import annotations

from typing import Any

from tests.access import TenantA

PUBLIC = frozenset({"health", "ready", "version"})

BODIES: dict[str, dict[str, Any]] = {}


async def objects(tenant_a: TenantA) -> dict[str, str]:
    """None: no ops route names a tenant's object."""
    return {}

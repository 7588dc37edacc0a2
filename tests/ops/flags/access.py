"""ops/flags in the generic suites: the bodies its writes need, and a flag's key for `{key}`.

Feature flags are the install's catalog: `{key}` names a flag every tenant has, and a tenant admin acts only on their
own tenant's value (tests/ops/flags/test_api.py checks that one tenant's change never reaches another).
"""

from __future__ import annotations

from typing import Any

from tests.access import TenantA

SHARED_CATALOG = frozenset({"ops-flags-get", "ops-flags-set", "ops-flags-reset"})
"""The install-wide operations stay in the suites: another tenant's owner gets 403 there (platform administrators only)."""

BODIES: dict[str, dict[str, Any]] = {"ops-flags-set": {"enabled": True}, "ops-flags-install-set": {"enabled": True}}


async def objects(tenant_a: TenantA) -> dict[str, str]:
    """A flag's key (a catalog entry, not a tenant's object)."""
    return {"key": "search.ocr_files"}

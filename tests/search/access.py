"""The search domain in the generic suites: two query routes (`search`, `search-everything`), no path parameters,
nothing public; tests/test_list_leak_suite.py calls both with words that match tenant A's objects."""

from __future__ import annotations

from typing import Any

from tests.access import TenantA

PUBLIC: frozenset[str] = frozenset()

BODIES: dict[str, dict[str, Any]] = {}


async def objects(tenant_a: TenantA) -> dict[str, str]:
    """None: no search route names an object (what tenant B may find is tests/search/test_search.py's business)."""
    return {}

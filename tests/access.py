"""What the generic suites know of each domain, collected from `tests/<domain>/access.py` for every manifest.

Each domain with routes (nubes.domains) has a `tests/<name>/access.py` holding:
- `PUBLIC`: its operations anyone may call (operationId); keep it short and deliberate;
- `BODIES`: bodies for operations that need one to get past validation (so a suite reaches the access check);
- `async def objects(tenant_a: TenantA) -> dict[str, str]`: one object of tenant A per kind of path parameter
  of its routes (read `tenant_a.ids` for what earlier domains made: `tenant_id`, `user_id`, `group_id`, ...);
- optionally `TOKEN_CHECKED` (public operations whose path token is checked for another tenant anyway) and
  `SHARED_CATALOG` (operations on platform-wide objects every tenant may read).
A new domain without that module fails the suites, naming the file to write.
"""

from __future__ import annotations

import types
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.domains import DOMAINS


@dataclass
class TenantA:
    """Where the domains make tenant A's objects, and the ids made so far (plain strings)."""

    session: AsyncSession
    settings: Settings
    client: httpx.AsyncClient
    ids: dict[str, str] = field(default_factory=dict)


def domain_modules() -> list[types.ModuleType]:
    """`tests/<name>/access.py` of every domain that has routes, in the manifests' order."""
    modules = []
    for domain in DOMAINS:
        if domain.api is None:
            continue
        try:
            modules.append(import_module(f"tests.{domain.name}.access"))
        except ModuleNotFoundError as exc:
            raise AssertionError(f"domain {domain.name!r} has routes: write tests/{domain.name}/access.py") from exc
    return modules


def _union(name: str) -> frozenset[str]:
    return frozenset().union(*(getattr(module, name, frozenset()) for module in domain_modules()))


def _bodies() -> dict[str, dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for module in domain_modules():
        merged.update(module.BODIES)
    return merged


PUBLIC = _union("PUBLIC")
TOKEN_CHECKED = _union("TOKEN_CHECKED")
SHARED_CATALOG = _union("SHARED_CATALOG")
BODIES = _bodies()

ObjectFactory = Callable[[], Awaitable[str]]


async def objects_of_tenant_a(tenant_a: TenantA) -> dict[str, str]:
    """Every domain's tenant-A objects, made in the manifests' order; a name two domains claim is an error."""
    for module in domain_modules():
        made: dict[str, str] = await module.objects(tenant_a)
        clash = set(made) & set(tenant_a.ids)
        assert not clash, f"{module.__name__} makes {sorted(clash)} again: path parameters must name one kind of object"
        tenant_a.ids.update(made)
    return tenant_a.ids

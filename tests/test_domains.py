"""The domain manifests are complete: every package, table, route and permission code belongs to one domain."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

import nubes
from nubes.core.routing import api_routes
from nubes.domains import DOMAINS
from nubes.identity.roles import catalog
from nubes.models import Base
from tests import access

SRC = Path(nubes.__file__).parent
# Packages that are not domains: the shared kernel and the node agent (which imports only the protocol).
NOT_DOMAINS = {"core", "agent"}
# The kernel's own tables (nubes.models lists them itself).
KERNEL_TABLES = {"audit_events", "leases", "mail_outbox"}


def test_every_domain_package_has_a_manifest_listed_once() -> None:
    packages = {path.parent.name for path in SRC.glob("*/__init__.py")} - NOT_DOMAINS
    names = [domain.name for domain in DOMAINS]
    assert len(names) == len(set(names))
    assert packages <= set(names), f"write a domain.py for {sorted(packages - set(names))} and list it in nubes.domains"
    for name in packages:
        assert (SRC / name / "domain.py").is_file()


def test_every_table_belongs_to_one_domain_or_the_kernel() -> None:
    module_of = {mapper.persist_selectable.description: mapper.class_.__module__ for mapper in Base.registry.mappers}
    assert set(Base.metadata.tables) == set(module_of)
    declared = [module for domain in DOMAINS for module in domain.models]
    assert len(declared) == len(set(declared))
    for table, module in module_of.items():
        assert module in declared or table in KERNEL_TABLES, f"{table} ({module}) is in no manifest's models"


def test_every_route_is_mounted_from_its_domains_api(app: FastAPI) -> None:
    with_api = {domain.name for domain in DOMAINS if domain.api}
    for route in api_routes(app.routes):
        if not route.include_in_schema:  # the app's own pages (the API reference)
            continue
        parts = route.endpoint.__module__.split(".")
        assert parts[0] == "nubes"
        assert parts[1] in with_api, f"{route.path} comes from {route.endpoint.__module__}"


def test_the_catalog_is_the_manifests_codes_in_their_order() -> None:
    codes = [permission.code for domain in DOMAINS for permission in domain.permissions]
    assert [permission.code for permission in catalog.CATALOG] == codes
    assert len(codes) == len(set(codes))
    # A code is named after its domain (identity's are the tenant's administration; compute's, its containers).
    prefixes = {"identity": {"admin", "tenant"}, "compute": {"containers"}, "ai-service": {"ai"}}
    for domain in DOMAINS:
        for permission in domain.permissions:
            prefix = permission.code.split(".")[0]
            assert prefix in prefixes.get(domain.name, {domain.name}), f"{permission.code} in {domain.name}"


def test_every_domain_with_routes_has_its_access_module() -> None:
    modules = access.domain_modules()
    assert [module.__name__ for module in modules] == [f"tests.{domain.name}.access" for domain in DOMAINS if domain.api]
    for module in modules:
        assert isinstance(module.PUBLIC, frozenset)
        assert callable(module.objects)

"""List leak suite: every collection GET, called by the owner of tenant B, names no object of tenant A.

Every GET in the OpenAPI schema without a path parameter joins by being there: the owner of tenant B calls
it (with the query parameters of QUERIES when it needs some) and the answer, whatever its status, must not
contain the id of any row tenant A owns. The ids are not listed by hand: after tenant A's objects are made
(the access suites' fixture, plus files made through the API so search, favorites, recent and trash have
something to find), every `id` of every row whose `tenant_id` is tenant A's is collected from the database.

A new list route joins for free; one that needs a query parameter fails here until it gets one in QUERIES.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.files.tree.models import FileNode
from nubes.identity.users.models import User
from nubes.models import Base
from nubes.search import service as search
from tests.access import ObjectFactory
from tests.factories import login, make_tenant, make_user
from tests.test_access_suites import objects_of_tenant_a

__all__ = ["objects_of_tenant_a"]  # the access suites' fixture, used here by name

# Platform catalog lists, left out on purpose: eggs and egg categories are one catalog every tenant reads,
# clusters and nodes are the platform admins' machines. None of them is a tenant's object, so there is no
# tenant A to leak; who may read them at all is the access and rank suites' business.
PLATFORM_CATALOG = {"eggs-list", "egg-categories-list", "clusters-list", "nodes-list"}

# Query parameters, per collection GET: each entry is one call. Required parameters get values that match
# tenant A's objects by name (a list that forgot its tenant filter then has something to leak); parameters
# that point at an object get tenant A's (`{root_id}`, `{container_id}`: B asking inside A's folder or
# container). A GET not listed here is called once, without parameters.
QUERIES: dict[str, list[dict[str, str]]] = {
    "files-search": [{"q": "alpha"}],
    "directory-search": [{}, {"q": "a-member"}],
    "admin-users-list": [{}, {"q": "a-member"}],
    "admin-audit": [{}, {"actor": "a-member"}, {"format": "csv"}],
    "files-list": [{}, {"parent_id": "{root_id}"}],
    "jobs-list": [{}, {"container_id": "{container_id}"}],
    "search": [{"q": "alpha"}, {"q": "alph*"}, {"q": "year:2026"}, {"q": "type:invoice"}],
    "search-everything": [{"q": "alpha"}, {"q": "a-member"}, {"q": "a-container"}, {"q": "a"}, {"q": "_"}],
    "documents-list": [{}, {"q": "a"}],
    "ops-metrics-query": [{"name": "storage_used_bytes"}],
    "ops-metrics-latest": [{"name": "storage_used_bytes"}],
}

# Lists this suite must at least reach with a 200 answer (so a broken fixture cannot pass it vacuously).
MUST_COVER = {
    "users-me",
    "users-me-sessions",
    "users-me-tokens",
    "users-me-app-passwords",
    "users-me-groups",
    "users-me-passkeys",
    "users-me-quota",
    "admin-users-list",
    "admin-audit",
    "admin-roles-list",
    "admin-groups-list",
    "files-list",
    "files-search",
    "files-recent",
    "files-favorites",
    "trash-list",
    "shares-with-me",
    "directory-search",
    "containers-list",
    "jobs-list",
    "documents-list",
    "documents-types-list",
    "documents-tags-list",
    "documents-categories-list",
    "search",
    "search-everything",
}

_METHODS_WITH_PARAMETERS = re.compile(r"\{\w+(:\w+)?\}")


def _collection_gets(app: FastAPI) -> list[tuple[str, dict[str, Any]]]:
    schema = app.openapi()
    return [
        (path, item["get"])
        for path, item in schema["paths"].items()
        if "get" in item and not _METHODS_WITH_PARAMETERS.search(path)
    ]


async def _ids_of_tenant(session: AsyncSession, tenant_id: uuid.UUID) -> set[uuid.UUID]:
    """The id of every row tenant A owns, in every table, and the tenant's own id."""
    session.expire_all()
    found = {tenant_id}
    for table in Base.metadata.sorted_tables:
        if "tenant_id" in table.c and "id" in table.c:
            found.update(await session.scalars(select(table.c.id).where(table.c.tenant_id == tenant_id)))
    return {value for value in found if isinstance(value, uuid.UUID)}


async def _fill_tenant_a_through_the_api(client: httpx.AsyncClient, session: AsyncSession) -> None:
    """Files made as a user makes them: indexed for search, starred, recently changed, one in the trash."""
    member = await session.scalar(select(User).where(User.username == "a-member"))
    assert member is not None
    headers = (await login(client, member)).headers
    kept = await client.post("/api/files/upload/raw", params={"name": "alpha-report.txt"}, content=b"a", headers=headers)
    assert kept.status_code == 201, kept.text
    starred = await client.put(f"/api/files/{kept.json()['id']}/favorite", headers=headers)
    assert starred.status_code == 200, starred.text
    binned = await client.post("/api/files/upload/raw", params={"name": "alpha-old.txt"}, content=b"b", headers=headers)
    assert binned.status_code == 201, binned.text
    trashed = await client.delete(f"/api/files/{binned.json()['id']}", headers=headers)
    assert trashed.status_code == 200, trashed.text
    document = await client.post("/api/documents/upload", files={"file": ("alpha-invoice.txt", b"alpha")}, headers=headers)
    assert document.status_code == 201, document.text
    assert await search.index_changes(session) >= 1  # what the indexer does after the upload


async def _root_of(session: AsyncSession, tenant_id: uuid.UUID) -> str:
    root = await session.scalar(select(FileNode.id).where(FileNode.tenant_id == tenant_id, FileNode.kind == "root"))
    assert root is not None
    return str(root)


async def _tenant_a_sees_its_own(client: httpx.AsyncClient, session: AsyncSession, secret_ids: set[uuid.UUID]) -> None:
    """The control: the same lists do show these ids to tenant A, so their absence for B means something."""
    member = await session.scalar(select(User).where(User.username == "a-member"))
    assert member is not None
    headers = (await login(client, member)).headers
    for path, params in [("/api/files/search", {"q": "alpha"}), ("/api/files/favorites", {}), ("/api/trash", {})]:
        response = await client.get(path, params=params, headers=headers)
        assert response.status_code == 200, response.text
        assert any(str(value) in response.text for value in secret_ids), f"tenant A sees none of its ids in {path}"


async def test_no_list_shows_tenant_b_an_object_of_tenant_a(
    client: httpx.AsyncClient,
    app: FastAPI,
    session: AsyncSession,
    settings: Settings,
    objects_of_tenant_a: dict[str, ObjectFactory],
) -> None:
    """GIVEN tenant A with one object of every kind WHEN tenant B's owner calls every collection GET
    THEN no answer contains the id of anything tenant A owns."""
    await _fill_tenant_a_through_the_api(client, session)
    tenant_a = uuid.UUID(await objects_of_tenant_a["tenant_id"]())
    tenant_b = await make_tenant(session, "tenant-b")
    owner_b = await login(client, await make_user(session, settings, tenant_b, username="b-owner", roles=("owner",)))
    secret_ids = await _ids_of_tenant(session, tenant_a)
    assert len(secret_ids) >= 15, "the fixture should give tenant A objects of many kinds"
    await _tenant_a_sees_its_own(client, session, secret_ids)
    pointers = {"root_id": await _root_of(session, tenant_a), "container_id": await objects_of_tenant_a["container_id"]()}
    answered = set()
    for path, operation in _collection_gets(app):
        operation_id = operation["operationId"]
        if operation_id in PLATFORM_CATALOG:
            continue
        required = {p["name"] for p in operation.get("parameters", []) if p.get("required") and p["in"] == "query"}
        for query in QUERIES.get(operation_id, [{}]):
            assert required <= query.keys(), f"GET {path}: add query parameters {required} for {operation_id} to QUERIES"
            params = {name: value.format(**pointers) for name, value in query.items()}
            response = await client.get(path, params=params, headers=owner_b.headers)
            # An id tenant B sent may come back in the answer ("no folder <id>"): B knew it already.
            shown = secret_ids - {uuid.UUID(value) for value in params.values() if value in pointers.values()}
            leaked = sorted(str(value) for value in shown if str(value) in response.text or value.hex in response.text)
            assert not leaked, f"GET {path} {params} showed tenant B ids of tenant A: {leaked}\n{response.text[:2000]}"
            if response.status_code == 200:
                answered.add(operation_id)
    assert set() == MUST_COVER - answered, "these lists did not answer tenant B's owner with 200"


@pytest.mark.parametrize("operation_id", sorted(PLATFORM_CATALOG | set(QUERIES)))
async def test_the_tables_name_real_operations(app: FastAPI, operation_id: str) -> None:
    """A renamed or removed list must leave this suite's tables too, or they would silently cover nothing."""
    assert operation_id in {operation["operationId"] for _, operation in _collection_gets(app)}

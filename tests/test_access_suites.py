"""Suites every route joins by being in the OpenAPI schema: authentication required, and tenant isolation.

- Every operation not listed in PUBLIC answers 401 without credentials.
- Every operation with an object id in its path, called by the owner of another tenant on tenant A's
  object, answers 404 (or 403) and changes nothing in the database.

A new route with a new path parameter fails here until its domain's `tests/<domain>/access.py` makes that
kind of object (and gives a body in BODIES when the route needs one): that is the point. tests/access.py
collects those modules for every domain manifest.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from tests import access
from tests.access import BODIES, PUBLIC, SHARED_CATALOG, TOKEN_CHECKED, ObjectFactory
from tests.factories import login, make_tenant, make_user
from tests.snapshots import writes_during

_PARAM = re.compile(r"\{(\w+)\}")
_METHODS = ("get", "post", "put", "patch", "delete")


def _operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    schema = app.openapi()
    return [
        (method.upper(), path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in _METHODS
    ]


async def test_every_private_operation_requires_credentials(client: httpx.AsyncClient, app: FastAPI) -> None:
    checked = 0
    for method, path, operation in _operations(app):
        if operation["operationId"] in PUBLIC:
            continue
        url = _PARAM.sub(lambda _: str(uuid.uuid4()), path)
        response = await client.request(method, url, json=BODIES.get(operation["operationId"]))
        assert response.status_code == 401, f"{method} {path} answered {response.status_code} without credentials"
        checked += 1
    assert checked >= 10


@pytest.fixture
async def objects_of_tenant_a(session: AsyncSession, settings: Settings, client: httpx.AsyncClient) -> dict[str, ObjectFactory]:
    """One object of tenant A per kind of path parameter, made by each domain's tests/<domain>/access.py."""
    ids = await access.objects_of_tenant_a(access.TenantA(session=session, settings=settings, client=client))

    def factory(name: str) -> ObjectFactory:
        async def make() -> str:
            return ids[name]  # plain values, not ORM objects a request's commit may expire

        return make

    return {name: factory(name) for name in ids}


async def test_another_tenant_cannot_reach_tenant_a_objects(
    client: httpx.AsyncClient,
    app: FastAPI,
    session: AsyncSession,
    settings: Settings,
    objects_of_tenant_a: dict[str, ObjectFactory],
) -> None:
    tenant_b = await make_tenant(session, "tenant-b")
    owner_b = await login(client, await make_user(session, settings, tenant_b, username="b-owner", roles=("owner",)))
    checked = []
    for method, path, operation in _operations(app):
        names = _PARAM.findall(path)
        # Public operations are reached by a secret token, not a tenant's id: nothing to isolate by tenant.
        if not names or operation["operationId"] in SHARED_CATALOG | (PUBLIC - TOKEN_CHECKED):
            continue
        missing = [name for name in names if name not in objects_of_tenant_a]
        assert not missing, f"{method} {path}: add a tenant-A object for {missing} to objects() in tests/<domain>/access.py"
        url = path
        for name in names:
            url = url.replace("{" + name + "}", await objects_of_tenant_a[name]())
        body = BODIES.get(operation["operationId"])
        if "requestBody" in operation and operation["requestBody"].get("required") and body is None:
            pytest.fail(f"{method} {path}: add a body for {operation['operationId']} to BODIES in tests/<domain>/access.py")
        async with writes_during(session) as writes:
            response = await client.request(method, url, json=body, headers=owner_b.headers)
        assert response.status_code in {403, 404}, f"{method} {path} gave tenant B {response.status_code}: {response.text}"
        assert writes == [], f"{method} {path} changed data for tenant B"
        checked.append(operation["operationId"])
    assert {
        "admin-users-get",
        "admin-users-update",
        "users-me-sessions-revoke",
        "admin-tenants-update",
        "admin-tenants-delete",
        "admin-roles-update",
        "admin-groups-members-add",
        "users-me-tokens-revoke",
        "users-me-app-passwords-revoke",
        "users-me-passkeys-update",
        "users-me-passkeys-delete",
        "files-get",
        "files-download",
        "files-replace-content",
        "files-update",
        "files-copy",
        "files-trash",
        "files-version-download",
        "files-version-restore",
        "trash-purge",
        "admin-users-quota",
        "uploads-append",
        "uploads-terminate",
        "files-presign-download",
        "admin-tenants-files-settings",
        "admin-tenants-files-settings-update",
        "blobs-presigned-put",
        "blobs-presigned-get",
        "containers-get",
        "containers-power",
        "containers-delete",
        "containers-logs",
        "containers-update",
        "eggs-update",
        "egg-categories-update",
        "egg-categories-delete",
        "containers-files-list",
        "containers-files-download",
        "containers-files-upload",
        "containers-files-mkdir",
        "containers-files-rename",
        "containers-files-delete",
        "jobs-get",
        "nodes-revoke",
        "files-shares-create",
        "files-shares-list",
        "files-shares-update",
        "files-shares-delete",
        "files-links-create",
        "files-links-list",
        "files-links-update",
        "files-links-delete",
    } <= set(checked)

"""The scope suite again, with OAuth app tokens: for every operation of the OpenAPI schema (new routes join by
themselves), an app token is never more than its scopes, and never reaches credential management or platform
administration, whatever its scopes and its user.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.apps.oauth import scopes as scope_table
from nubes.apps.oauth.service import issue_app_token
from nubes.config import Settings
from nubes.identity.roles.catalog import CODES
from nubes.identity.users.models import User
from tests.access import BODIES
from tests.factories import make_tenant, make_user
from tests.snapshots import writes_during

PARAM = re.compile(r"\{(\w+)\}")
METHODS = ("get", "post", "put", "patch", "delete")
TOKEN_LAST_USE = frozenset({("personal_access_tokens", "last_used_at")})
ALL_SCOPES = {code.replace(".", ":") for code in CODES} | {"openid", "profile", "email", "data:write:posts"}


def operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in app.openapi()["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


async def app_token(session: AsyncSession, user: User, scopes: set[str]) -> dict[str, str]:
    token = await issue_app_token(
        session=session, tenant_id=user.tenant_id, user_id=user.id, client_id="scope-suite", scopes=sorted(scopes)
    )
    return {"Authorization": f"Bearer {token}"}


def call(client: httpx.AsyncClient, method: str, path: str, operation: dict[str, Any], headers: dict[str, str]) -> Any:
    url = PARAM.sub(lambda _: str(uuid.uuid4()), path)
    return client.request(method, url, json=BODIES.get(operation["operationId"]), headers=headers)


def test_every_permission_code_is_a_requestable_scope() -> None:
    assert set(scope_table.PERMISSION_SCOPES.values()) == CODES
    assert scope_table.codes_of(["data:read:posts"]) == {"apps.use"}
    assert scope_table.parse("openid files:read data:write:my-posts blob:read:profile") is not None
    assert scope_table.parse("files:read data:write:Posts") is None
    assert scope_table.parse("files:everything") is None


async def test_an_app_token_without_the_scope_an_operation_needs_gets_403(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, settings: Settings
) -> None:
    owner = await make_user(session, settings, await make_tenant(session), roles=("owner",))
    # A data-store scope brings apps.use: a token without apps.use has none.
    without = {
        code: await app_token(
            session, owner, ALL_SCOPES - {code.replace(".", ":"), *(["data:write:posts"] if code == "apps.use" else [])}
        )
        for code in CODES
    }
    checked = set()
    for method, path, operation in operations(app):
        access = operation.get("x-nubes-access")
        if access is None or access["kind"] != "scopes":
            continue
        for code in access["scopes"]:
            async with writes_during(session, ignore=TOKEN_LAST_USE) as writes:
                response = await call(client, method, path, operation, without[code])
            assert response.status_code == 403, f"{method} {path} without {code}: {response.status_code} {response.text}"
            assert code in response.json()["detail"]
            assert writes == [], f"{method} {path} changed data"
        checked.add(operation["operationId"])
    assert {"files-list", "files-upload", "oauth-clients-create", "admin-users-list"} <= checked


async def test_an_app_token_never_manages_credentials_or_the_platform(
    client: httpx.AsyncClient, app: FastAPI, session: AsyncSession, settings: Settings
) -> None:
    superadmin = await make_user(session, settings, await make_tenant(session), roles=("owner",), superadmin=True)
    everything = await app_token(session, superadmin, ALL_SCOPES)
    checked = set()
    for method, path, operation in operations(app):
        access = operation.get("x-nubes-access")
        if access is None or access["kind"] not in {"session", "sudo", "superadmin"}:
            continue
        async with writes_during(session, ignore=TOKEN_LAST_USE) as writes:
            response = await call(client, method, path, operation, everything)
        assert response.status_code == 403, f"{method} {path} let an app token through: {response.status_code}"
        assert writes == [], f"{method} {path} changed data"
        checked.add(operation["operationId"])
    assert {"users-me-tokens-create", "users-me-apps", "oauth-requests-approve", "admin-tenants-create"} <= checked


async def test_an_app_token_holds_no_code_its_user_lacks(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    """GIVEN a member without admin.users WHEN an app token asks for every scope THEN the admin routes refuse it."""
    member = await make_user(session, settings, await make_tenant(session), roles=("member",))
    token = await app_token(session, member, ALL_SCOPES)
    assert (await client.get("/api/files", headers=token)).status_code == 200
    assert (await client.get("/api/admin/users", headers=token)).status_code == 403

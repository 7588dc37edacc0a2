"""SQL statements per request on the hot routes, against a baseline: a change that adds one fails here.

Like NetBox's query-count tests. Every authenticated request pays these, so each statement is a decision: when a
change removes one, lower the baseline in the same commit; when it must add one, say why next to the number.
Savepoint statements are the test harness's own (request sessions run inside the test's transaction) and are
not counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from nubes.config import Settings
from nubes.identity.roles.service import bump_roles_version
from tests.factories import SignedIn, login, make_tenant, make_user

# Statements per request, the same on both engines (2026-12-06). Resolving a credential's caller costs one (the
# user, session and tenant columns, or the token's, with the user's roles and groups), plus one to read the tenant's
# role graph when the process has no copy at the tenant's `roles_version`; the next requests with the same
# credential reuse it (identity/sessions/cache.py) until a change of access, and cost nothing for the caller.
BASELINE = {
    "GET /api/users/me (a credential's first request)": 1,
    "GET /api/users/me": 0,
    "GET /api/users/me (a token's first request)": 1,
    "GET /api/users/me (token)": 0,
    "GET /api/users/me (role graph changed)": 2,
    "GET /api/files/{id}": 1,  # the node with its favorite flag (an EXISTS)
    "GET /api/files?parent_id (20 entries)": 2,  # the folder and its path (one recursive query); the page with its count
    "GET /api/containers": 2,
    # A new 4 KiB file by a caller resolved already (was 17 in two transactions): in one transaction the folder, the
    # user's and the tenant's conditional quota UPDATEs (the usage rows are made only when one finds no row), the node
    # (the unique name index checks the name; no savepoint either) and its name terms; and one index probe for a live
    # WebDAV lock in the tenant (issue 16: every write honours locks; a tenant that holds none pays only the probe).
    "POST /api/files/upload/raw (4 KiB)": 6,
}


@contextmanager
def counting(connection: AsyncConnection) -> Iterator[list[str]]:
    """The statements run on `connection` inside the block, savepoints left out."""
    statements: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
            statements.append(statement)

    sync = connection.sync_connection
    assert sync is not None
    event.listen(sync, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        event.remove(sync, "before_cursor_execute", note)


async def _count(client: httpx.AsyncClient, connection: AsyncConnection, url: str, headers: dict[str, str]) -> int:
    with counting(connection) as statements:
        answer = await client.get(url, headers=headers)
    assert answer.status_code == 200, answer.text
    return len(statements)


async def test_hot_routes_run_no_more_statements_than_their_baseline(
    client: httpx.AsyncClient, connection: AsyncConnection, session: AsyncSession, settings: Settings
) -> None:
    tenant = await make_tenant(session)
    user = await make_user(session, settings, tenant, roles=("admin",))
    signed_in: SignedIn = await login(client, user)
    folder = await client.post("/api/files/folders", json={"name": "many"}, headers=signed_in.headers)
    assert folder.status_code == 201, folder.text
    folder_id = folder.json()["id"]
    file_id = ""
    for number in range(20):
        uploaded = await client.post(
            "/api/files/upload/raw", params={"name": f"f{number}.txt", "parent_id": folder_id}, content=b"x",
            headers=signed_in.headers,
        )  # fmt: skip
        assert uploaded.status_code == 201, uploaded.text
        file_id = uploaded.json()["id"]
    created = await client.post(
        "/api/users/me/tokens", json={"name": "counting", "scopes": ["files.read"]}, headers=signed_in.headers
    )
    assert created.status_code == 201, created.text
    token_headers = {"Authorization": f"Bearer {created.json()['token']}"}

    fresh = await login(client, user)  # a credential no request has used yet
    counts = {
        "GET /api/users/me (a credential's first request)": await _count(client, connection, "/api/users/me", fresh.headers),
        "GET /api/users/me": await _count(client, connection, "/api/users/me", fresh.headers),
        "GET /api/users/me (a token's first request)": await _count(client, connection, "/api/users/me", token_headers),
        "GET /api/users/me (token)": await _count(client, connection, "/api/users/me", token_headers),
    }
    with counting(connection) as statements:
        answer = await client.post(
            "/api/files/upload/raw", params={"name": "small.bin", "parent_id": folder_id}, content=b"y" * 4096,
            headers=fresh.headers,
        )  # fmt: skip
    assert answer.status_code == 201, answer.text
    counts["POST /api/files/upload/raw (4 KiB)"] = len(statements)
    await bump_roles_version(session=session, tenant_id=tenant.id)
    counts |= {
        "GET /api/users/me (role graph changed)": await _count(client, connection, "/api/users/me", signed_in.headers),
        "GET /api/files/{id}": await _count(client, connection, f"/api/files/{file_id}", signed_in.headers),
        "GET /api/files?parent_id (20 entries)": await _count(
            client, connection, f"/api/files?parent_id={folder_id}", signed_in.headers
        ),
        "GET /api/containers": await _count(client, connection, "/api/containers", signed_in.headers),
    }
    assert counts == BASELINE, f"statements per request changed: {counts}"

"""The read/write session policy: a safe request reads in a session that refuses to write and is never committed.

Every GET of the whole suite runs in such a session (tests/conftest.py applies the same policy to the test
transaction), so any GET route that writes fails its own tests; these tests pin the policy itself.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nubes.config import Settings
from nubes.core.db import Database, SessionDep, WriteInReadSession, get_write_session
from nubes.core.routing import api_routes
from nubes.files.tree.models import FileNode
from nubes.identity.sessions.models import PersonalAccessToken
from nubes.identity.sessions.tokens import new_personal_token
from nubes.identity.sessions.usage import token_use
from nubes.ops.models import SystemSetting
from tests.factories import login, make_tenant, make_user

# The only safe-method operations that write: a public link's download counts against its limit, and a
# refused one is audited. Adding one here is a decision to review, not a test to update.
# OAuth's authorize and end-session are GETs by protocol (RFC 6749 3.1, OIDC RP-Initiated Logout): they store a pending
# authorization or a code, and end a session.
WRITING_SAFE_OPERATIONS = {
    "public-link-get",
    "public-link-download",
    "oauth-authorize",
    "oauth-end-session",
    # An external provider sends the browser back with a GET: the callback and a partner's ticket start a session.
    "auth-providers-callback",
    "auth-providers-ticket",
}


def _uses(dependant: Dependant, call: object) -> bool:
    return dependant.call is call or any(_uses(sub, call) for sub in dependant.dependencies)


def test_only_the_public_link_reads_take_a_writing_session(app: FastAPI) -> None:
    writing = {
        route.operation_id
        for route in api_routes(app.routes)
        if (route.methods or set()) & {"GET", "HEAD", "OPTIONS"} and _uses(route.dependant, get_write_session)
    }
    assert writing == WRITING_SAFE_OPERATIONS


async def test_a_get_that_writes_fails_and_leaves_nothing(app: FastAPI, client: httpx.AsyncClient, session: AsyncSession) -> None:
    key = f"test.read-only.{uuid.uuid4().hex}"

    async def careless(db: SessionDep) -> dict[str, str]:
        db.add(SystemSetting(key=key, value=1))
        await db.flush()
        return {"wrote": key}

    app.add_api_route("/api/test/careless", careless, methods=["GET"])
    answer = await client.get("/api/test/careless")
    assert answer.status_code == 500
    assert await session.get(SystemSetting, key) is None


async def test_read_sessions_refuse_writes_and_postgresql_enforces_it_too(database: Database) -> None:
    async with database.reader_sessions() as session:
        session.add(SystemSetting(key=f"test.{uuid.uuid4().hex}", value=1))
        with pytest.raises(WriteInReadSession):
            await session.flush()
    if database.engine_name != "postgresql":
        return
    async with database.reader_sessions() as session:
        assert await session.scalar(text("SHOW transaction_read_only")) == "on"
        with pytest.raises(DBAPIError, match="read-only transaction"):
            await session.execute(text("INSERT INTO system_settings (key, value, updated_at) VALUES ('x', '1', now())"))
    async with database.writer_sessions() as session:  # the pooled connection is writable again for writers
        assert await session.scalar(text("SHOW transaction_read_only")) == "off"


async def test_a_new_user_has_a_root_folder_so_listing_never_writes(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    tenant = await make_tenant(session)
    user = await make_user(session, settings, tenant)
    roots = list(await session.scalars(select(FileNode).where(FileNode.owner_id == user.id, FileNode.parent_id.is_(None))))
    assert [(root.kind, root.tenant_id) for root in roots] == [("root", tenant.id)]
    signed_in = await login(client, user)
    listing = await client.get("/api/files", headers=signed_in.headers)
    assert listing.status_code == 200, listing.text
    assert listing.json()["folder"]["id"] == str(roots[0].id)


async def test_a_token_read_writes_nothing_and_its_last_use_is_written_in_a_batch(
    client: httpx.AsyncClient, session: AsyncSession, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    tenant = await make_tenant(session)
    user = await make_user(session, settings, tenant)
    token, token_hash = new_personal_token()
    row = PersonalAccessToken(
        tenant_id=tenant.id, user_id=user.id, name="script", token_hash=token_hash, prefix=token[:12], scopes=["files.read"]
    )
    session.add(row)
    await session.flush()
    answer = await client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    await session.refresh(row)
    assert row.last_used_at is None  # the read did not write
    assert await token_use.flush(sessions) >= 1
    await session.refresh(row)
    assert row.last_used_at is not None
    first_use = row.last_used_at
    # A later flush never moves the time back, and an empty buffer writes nothing.
    token_use.note(row.id, first_use.replace(year=2000))
    await token_use.flush(sessions)
    await session.refresh(row)
    assert row.last_used_at == first_use
    assert await token_use.flush(sessions) == 0

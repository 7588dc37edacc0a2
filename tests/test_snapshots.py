"""The write recorder the access suites rely on (tests/snapshots.py) sees writes, on every connection, and ignores
only what it is told to."""

from __future__ import annotations

import httpx
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core.db import Database, utcnow
from nubes.identity.sessions.models import PersonalAccessToken
from nubes.identity.users.models import User
from tests.factories import login, make_tenant, make_user
from tests.snapshots import writes_during


async def test_a_request_that_writes_is_seen_and_a_read_is_not(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    alice = await login(client, await make_user(session, settings, await make_tenant(session)))
    async with writes_during(session) as writes:
        assert (await client.get("/api/files", headers=alice.headers)).status_code == 200
    assert writes == []
    async with writes_during(session) as writes:
        made = await client.post("/api/files/folders", json={"name": "Seen", "parent_id": None}, headers=alice.headers)
    assert made.status_code == 201, made.text
    assert any(write.startswith("INSERT INTO file_nodes") for write in writes), writes


async def test_only_ignored_columns_are_left_out_and_other_connections_count(session: AsyncSession, database: Database) -> None:
    last_use = frozenset({("personal_access_tokens", "last_used_at")})
    async with writes_during(session, ignore=last_use) as writes:
        await session.execute(update(PersonalAccessToken).values(last_used_at=utcnow()))
    assert writes == []
    async with writes_during(session, ignore=last_use) as writes:
        await session.execute(update(PersonalAccessToken).values(last_used_at=utcnow(), name="renamed"))
        await session.execute(update(User).where(User.username == "nobody").values(display_name="x"))
    assert [write.split()[1] for write in writes] == ["personal_access_tokens", "users"]
    # Another connection of the engine (a temporary table: SQLite's writer lock is the test transaction's).
    async with writes_during(session) as writes, database.engine.connect() as other:
        await other.execute(text("CREATE TEMPORARY TABLE scratch (x INTEGER)"))
        await other.execute(text("INSERT INTO scratch VALUES (1)"))
        await other.rollback()
    assert writes == ["INSERT INTO scratch VALUES (1)"]

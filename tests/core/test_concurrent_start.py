"""Replicas started at once on one empty database (systemd starting three units, a deploy): they take turns with the
schema (core/migrate.py: install_lock), so every one comes up, the database is at head and there is one first admin."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from nubes.config import Settings
from nubes.core import migrate
from nubes.core.db import Database
from nubes.identity.users.models import User
from tests.conftest import empty_database
from tests.serving import Server, serve

pytestmark = pytest.mark.timeout(300)  # three servers start at once on a busy machine

STARTED_AT_ONCE = 3


@pytest.fixture
async def fresh_database_url(engine_name: str, tmp_path: Path) -> AsyncIterator[str]:
    async with empty_database(engine_name, tmp_path / "nubes.db") as url:
        yield url


async def test_replicas_started_together_migrate_once_and_all_serve(fresh_database_url: str, tmp_path: Path) -> None:
    for index in range(STARTED_AT_ONCE):
        (tmp_path / f"replica-{index}").mkdir()
    stacks = [contextlib.ExitStack() for _ in range(STARTED_AT_ONCE)]

    def start_all() -> list[Server]:
        with ThreadPoolExecutor(STARTED_AT_ONCE) as pool:
            starting = [
                pool.submit(stack.enter_context, serve(fresh_database_url, tmp_path / f"replica-{index}"))
                for index, stack in enumerate(stacks)
            ]
            return [future.result() for future in starting]

    try:
        servers = await asyncio.to_thread(start_all)
        async with httpx.AsyncClient(timeout=30) as http:
            for server in servers:
                assert (await http.get(f"{server.url}/api/ready")).status_code == 200
                login = {"username": server.admin_username, "password": server.admin_password}
                assert (await http.post(f"{server.url}/api/auth/login", json=login)).is_success
    finally:
        for stack in stacks:
            stack.close()
    database = Database.from_settings(Settings(data_dir=tmp_path, database_url=fresh_database_url))
    try:
        assert await migrate.current_revision(database.engine) == migrate.head_revision()
        async with database.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(User)) == 1
    finally:
        await database.dispose()

"""Migrations: the same scripts build the schema on both engines, match the models, and go down and up."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import insert, inspect, select, text

from nubes.config import Settings
from nubes.core import migrate
from nubes.core.db import Database
from nubes.files.tree.models import FileNameTerm, FileNode
from nubes.identity.tenants.models import Tenant
from nubes.identity.users.models import User
from nubes.models import Base
from tests.conftest import create_postgres_database, drop_postgres_database

# The revision before "every user has a root" (b81e4d2c9a57).
ROOTS_WITH_USERS_PARENT = "3f9a2c7d4e10"
# The revision before the name-search terms carried their node's name key (e2a7c4b91d3f).
SEARCH_TERMS_PARENT = "e6b1c7d24f08"


async def test_database_is_at_head(database: Database) -> None:
    assert await migrate.current_revision(database.engine) == migrate.head_revision()


async def test_models_match_migrations(database: Database) -> None:
    """`alembic check`: a model change without its migration fails here."""
    await migrate.check(database.engine)


async def test_every_table_is_migrated(database: Database) -> None:
    async with database.engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    assert set(Base.metadata.tables) <= tables


@pytest.fixture
async def scratch_database(settings: Settings, engine_name: str) -> AsyncIterator[Database]:
    """A second, empty database on the same engine, for migrating down and up."""
    if engine_name == "sqlite":
        url = settings.effective_database_url.replace("nubes.db", "scratch.db")
    else:
        url = await create_postgres_database()
    db = Database.from_settings(settings.model_copy(update={"database_url": url}))
    yield db
    await db.dispose()
    if engine_name == "postgresql":
        await drop_postgres_database(url)


async def test_downgrade_to_base_and_upgrade_again(scratch_database: Database) -> None:
    engine = scratch_database.engine
    await migrate.upgrade(engine)
    assert await migrate.current_revision(engine) == migrate.head_revision()
    await migrate.downgrade(engine, "base")
    assert await migrate.current_revision(engine) is None
    await migrate.upgrade(engine)
    assert await migrate.current_revision(engine) == migrate.head_revision()


async def test_users_made_before_roots_came_with_them_get_one(scratch_database: Database) -> None:
    engine = scratch_database.engine
    await migrate.downgrade(engine, "base")
    await migrate.upgrade(engine, ROOTS_WITH_USERS_PARENT)
    tenant_id, user_id = uuid.uuid4(), uuid.uuid4()
    async with engine.begin() as connection:  # Core inserts: no mapper event makes a root here
        await connection.execute(insert(Tenant).values(id=tenant_id, slug="before", name="Before"))
        await connection.execute(insert(User).values(id=user_id, tenant_id=tenant_id, username="early", password_hash="x"))
    await migrate.upgrade(engine)
    await migrate.upgrade(engine)  # idempotent: a second run adds nothing
    async with engine.connect() as connection:
        roots = (
            await connection.execute(
                select(FileNode.kind, FileNode.tenant_id).where(FileNode.owner_id == user_id, FileNode.parent_id.is_(None))
            )
        ).all()
    assert [tuple(root) for root in roots] == [("root", tenant_id)]


async def test_search_terms_are_rebuilt_for_live_nodes_and_back(scratch_database: Database) -> None:
    """GIVEN a live and a trashed file before the name-key terms WHEN migrated up and down THEN each side has its terms."""
    engine = scratch_database.engine
    await migrate.downgrade(engine, "base")
    await migrate.upgrade(engine, SEARCH_TERMS_PARENT)
    tenant_id, user_id, root_id, live_id, gone_id = (uuid.uuid4() for _ in range(5))
    # Every row names the same columns (an executemany takes its columns from the first row).
    node = {"tenant_id": tenant_id, "owner_id": user_id, "size": 0, "content_type": "", "version_no": 1, "in_trash": False}
    async with engine.begin() as connection:
        await connection.execute(insert(Tenant).values(id=tenant_id, slug="terms", name="Terms"))
        await connection.execute(insert(User).values(id=user_id, tenant_id=tenant_id, username="t", password_hash="x"))
        await connection.execute(
            insert(FileNode),
            [
                node | {"id": root_id, "parent_id": None, "kind": "root", "name": "", "name_key": ""},
                node | {"id": live_id, "parent_id": root_id, "kind": "file", "name": "Big Plan.txt", "name_key": "big plan.txt"},
                node
                | {
                    "id": gone_id,
                    "parent_id": root_id,
                    "kind": "file",
                    "name": "old.txt",
                    "name_key": "old.txt",
                    "in_trash": True,
                },
            ],
        )
    await migrate.upgrade(engine)
    async with engine.connect() as connection:
        rows = (await connection.execute(select(FileNameTerm.node_id, FileNameTerm.term, FileNameTerm.name_key))).all()
    assert sorted((row.term, row.name_key) for row in rows) == [
        ("big", "big plan.txt"),
        ("plan", "big plan.txt"),
        ("txt", "big plan.txt"),
    ]
    assert {row.node_id for row in rows} == {live_id}
    await migrate.downgrade(engine, SEARCH_TERMS_PARENT)
    async with engine.connect() as connection:
        old = (await connection.execute(text("SELECT term FROM file_name_terms"))).scalars().all()
    assert sorted(old) == ["big", "big plan.txt", "old", "old.txt", "plan", "txt", "txt"]

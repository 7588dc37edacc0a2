"""Migrations: the same scripts build the schema on both engines, match the models, and go down and up."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import insert, inspect, select, text
from sqlalchemy.sql.expression import TableClause

from nubes.config import Settings
from nubes.core import migrate
from nubes.core.db import Database, UTCDateTime, utcnow
from nubes.documents.records.models import Document, DocumentTag
from nubes.files.tree.models import FileNameTerm, FileNode
from nubes.identity.tenants.models import Tenant
from nubes.identity.users.models import User
from nubes.models import Base
from tests.conftest import create_postgres_database, drop_postgres_database

# The revision before "every user has a root" (b81e4d2c9a57).
ROOTS_WITH_USERS_PARENT = "3f9a2c7d4e10"
# The revision before the name-search terms carried their node's name key (e2a7c4b91d3f).
SEARCH_TERMS_PARENT = "e6b1c7d24f08"
# The revision before the documents' matching rules rebuilt the vocabulary tables on SQLite (e5f7a9b2c4d6).
MATCHING_RULES_PARENT = "d8e2f4a6b1c3"


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


async def test_a_migration_that_rebuilds_a_table_keeps_the_rows_pointing_at_it(scratch_database: Database) -> None:
    """GIVEN a document with a type and a tag before the matching rules rebuilt those tables on SQLite WHEN migrated
    THEN the document keeps them (with foreign keys on during the rebuild, dropping the old table cleared them)."""
    engine = scratch_database.engine
    await migrate.downgrade(engine, "base")
    await migrate.upgrade(engine, MATCHING_RULES_PARENT)
    tenant_id, user_id, root_id, file_id = (uuid.uuid4() for _ in range(4))
    node = {"tenant_id": tenant_id, "owner_id": user_id, "size": 0, "content_type": "", "version_no": 1, "in_trash": False}
    # The documents tables as they were at that revision (the models describe the newest ones).
    type_id, tag_id, document_id, at = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), utcnow()
    term = ("id", "tenant_id", "name", "name_key", "created_at")
    types, tags_table = _table("document_types", *term), _table("document_tags", *term, "color")
    documents = _table(
        "documents", "id", "tenant_id", "file_id", "owner_id", "title", "type_id", "notes", "added_at", "modified_at"
    )
    links = _table("document_tag_links", "document_id", "tag_id")
    async with engine.begin() as connection:
        await connection.execute(insert(Tenant).values(id=tenant_id, slug="keep", name="Keep"))
        await connection.execute(insert(User).values(id=user_id, tenant_id=tenant_id, username="k", password_hash="x"))
        await connection.execute(
            insert(FileNode),
            [
                node | {"id": root_id, "parent_id": None, "kind": "root", "name": "", "name_key": ""},
                node | {"id": file_id, "parent_id": root_id, "kind": "file", "name": "a", "name_key": "a"},
            ],
        )
        named = {"tenant_id": tenant_id, "created_at": at}
        await connection.execute(insert(types).values(id=type_id, name="Invoice", name_key="invoice", **named))
        await connection.execute(insert(tags_table).values(id=tag_id, name="paid", name_key="paid", color="#000000", **named))
        await connection.execute(
            insert(documents).values(
                id=document_id, tenant_id=tenant_id, file_id=file_id, owner_id=user_id, title="a", type_id=type_id, notes="",
                added_at=at, modified_at=at,
            )
        )  # fmt: skip
        await connection.execute(insert(links).values(document_id=document_id, tag_id=tag_id))
    await migrate.upgrade(engine)
    async with engine.connect() as connection:
        kept = (await connection.execute(select(Document.type_id))).scalar_one()
        tags = (await connection.execute(select(DocumentTag.tag_id))).scalars().all()
    assert kept == type_id
    assert tags == [tag_id]


def _table(name: str, *columns: str) -> TableClause:
    """A table as a migration saw it: its name and the columns a test writes (ids as UUIDs, times as times)."""

    def typed(column: str) -> Any:
        if column == "id" or column.endswith("_id"):
            return sa.Uuid()
        return UTCDateTime() if column.endswith("_at") else sa.String()

    return sa.table(name, *(sa.column(column, typed(column)) for column in columns))

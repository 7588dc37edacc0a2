"""Alembic environment: runs on the connection Nubes hands over, or on NUBES_DATABASE_URL."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection

from nubes.config import get_settings
from nubes.core.db import UTCDateTime, create_engine
from nubes.models import Base

target_metadata = Base.metadata


def _render_item(kind: str, item: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Write Nubes' column types as the plain SQLAlchemy types they store, so migrations import nothing of ours."""
    if kind == "type" and isinstance(item, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


# The full-text index lives outside the models (search.models says why): FTS5's table and its shadow tables on
# SQLite, the generated tsvector column and its GIN index on PostgreSQL.
_UNMAPPED_TABLES = ("search_fts",)
_UNMAPPED = {("column", "tsv"), ("index", "ix_search_entries_tsv")}


def _include_object(item: Any, name: str | None, kind: str, reflected: bool, compare_to: Any) -> bool:
    """Leave out of autogenerate (and `alembic check`) what the models do not map on purpose."""
    if kind == "table" and name is not None and name.startswith(_UNMAPPED_TABLES):
        return False
    return not (reflected and compare_to is None and (kind, name) in _UNMAPPED)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_item=_render_item,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things in place
        compare_type=True,
        include_object=_include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_from_settings() -> None:
    engine = create_engine(get_settings())
    async with engine.begin() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


given = context.config.attributes.get("connection")
if given is not None:
    _run(given)
else:
    asyncio.run(_run_from_settings())

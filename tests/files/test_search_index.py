"""Name search stays fast at scale because each query word is an index range, never a scan of every name."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.core.principal import Principal
from nubes.files.tree import service


def _principal() -> Principal:
    return Principal(user_id=uuid.uuid4(), tenant_id=uuid.uuid4(), username="someone", permissions=frozenset({"files.read"}))


async def test_each_query_word_is_an_index_range(session: AsyncSession, engine_name: str) -> None:
    """GIVEN the real search statement WHEN the database plans it THEN it reads the (owner, term) index.

    On PostgreSQL sequential scans are switched off for the check, so the plan shows whether an index
    *can* serve the range at all (none can when the column's collation is not byte-wise); a small test
    table would otherwise be scanned.
    """
    statement = service.search_statement(principal=_principal(), query="quarterly rep")
    assert statement is not None
    dialect = session.get_bind().dialect
    sql = str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    if engine_name == "postgresql":
        # This cluster's locale may itself sort byte-wise; the column must not depend on that.
        collation = await session.scalar(
            text(
                "SELECT collation_name FROM information_schema.columns"
                " WHERE table_name = 'file_name_terms' AND column_name = 'term'"
            )
        )
        assert collation == "C"
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(str(row[0]) for row in await session.execute(text("EXPLAIN " + sql)))
    else:
        plan = "\n".join(str(row[-1]) for row in await session.execute(text("EXPLAIN QUERY PLAN " + sql)))
    if engine_name == "postgresql":
        # The range is an index condition (which is what a byte-wise collation makes possible), not a filter.
        conditions = [line for line in plan.splitlines() if "Index Cond" in line and re.search(r"\(?term\)?(::text)? >=", line)]
        assert "Seq Scan" not in plan, plan
    else:
        assert plan.count("ix_file_name_terms_owner_term") == 2, plan  # one index use per word
        # Covering: the first 50 by name come from the index alone; only those nodes are read, by primary key.
        ranged = "USING COVERING INDEX ix_file_name_terms_owner_term (owner_id=? AND term>? AND term<?)"
        conditions = [line for line in plan.splitlines() if ranged in line]
        assert "SCAN file_nodes" not in plan, plan
    assert len(conditions) == 2, plan  # the range itself is the index condition, not a filter after a scan


async def test_a_query_without_words_searches_nothing() -> None:
    assert service.search_statement(principal=_principal(), query="  ") is None


async def test_a_folder_page_is_read_in_index_order(session: AsyncSession, engine_name: str) -> None:
    """GIVEN the real page statement of a listing WHEN the database plans it THEN the listing index gives the order.

    Folders first then by name is `kind DESC, name_key, id` on (parent_id, in_trash, kind DESC, name_key, id):
    a page of 200 of a big folder is read in order, never sorted (no temp B-tree on SQLite, no Sort on PostgreSQL).
    """
    statement = service.page_read_statement().params(
        folder_id=uuid.uuid4(), viewer_id=uuid.uuid4(), page_limit=200, page_offset=0
    )
    sql = str(statement.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}))
    if engine_name == "postgresql":
        # As above, the check is whether the index *can* give the order: a small test table would be scanned
        # (or bitmap-scanned and sorted); with those off, a plan without Sort exists only if the index serves it.
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            await session.execute(text(f"SET LOCAL {setting} = off"))
        plan = "\n".join(str(row[0]) for row in await session.execute(text("EXPLAIN " + sql)))
        assert "ix_file_nodes_parent_listing" in plan, plan
        assert "Sort" not in plan, plan
    else:
        plan = "\n".join(str(row[-1]) for row in await session.execute(text("EXPLAIN QUERY PLAN " + sql)))
        assert "ix_file_nodes_parent_listing (parent_id=? AND in_trash=?)" in plan, plan
        assert "TEMP B-TREE" not in plan, plan

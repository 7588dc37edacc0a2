"""Name search from one covering index (terms of live nodes carry the name key); a folder's page read in index order.

`file_name_terms` is rebuilt: each term now carries its node's `name_key`, only live nodes are indexed, and a
name's whole key is a term only when it starts with no word (the only case a query can reach it). The index
(owner_id, term, name_key, node_id) lets a search take its first 50 by name without reading the nodes.
`ix_file_nodes_parent` (parent_id, in_trash) becomes (parent_id, in_trash, kind DESC, name_key, id): the
listing's order, so a page of a big folder is read in order instead of sorting the folder.

Revision ID: e2a7c4b91d3f
Revises: e6b1c7d24f08
Create Date: 2026-12-06
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "e2a7c4b91d3f"
down_revision: str | None = "e6b1c7d24f08"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The rules of the names' terms as they were when this revision was written (frozen here: a later change of
# nubes.files.tree.names must not change what this migration writes).
_WORDS = re.compile(r"[\W_]+")
_MAX_TERM_CHARS = 255
_BATCH = 2000
_TERM = sa.String(length=255).with_variant(sa.String(length=255, collation="C"), "postgresql")


def _terms(key: str, *, whole_key_always: bool) -> set[str]:
    words = {word for word in _WORDS.split(key) if word}
    if key and (whole_key_always or _WORDS.match(key)):
        words.add(key)
    return {term[:_MAX_TERM_CHARS] for term in words}


def _create_terms_table(*, with_name_key: bool) -> None:
    columns: list[Any] = [
        sa.Column("node_id", sa.Uuid(), nullable=False),
        sa.Column("term", _TERM, nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
    ]
    if with_name_key:
        columns.append(sa.Column("name_key", sa.String(length=1024), nullable=False))
    op.create_table(
        "file_name_terms",
        *columns,
        sa.ForeignKeyConstraint(
            ["node_id"], ["file_nodes.id"], name=op.f("fk_file_name_terms_node_id_file_nodes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_file_name_terms_owner_id_users"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_file_name_terms_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("node_id", "term", name=op.f("pk_file_name_terms")),
    )
    op.create_index(op.f("ix_file_name_terms_tenant_id"), "file_name_terms", ["tenant_id"], unique=False)


def _nodes(*, live_only: bool) -> Iterator[list[Any]]:
    """The named nodes in batches, by id (keyset pages: memory stays flat however many there are)."""
    connection = op.get_bind()
    nodes = sa.table(
        "file_nodes",
        sa.column("id", sa.Uuid()),
        sa.column("tenant_id", sa.Uuid()),
        sa.column("owner_id", sa.Uuid()),
        sa.column("parent_id", sa.Uuid()),
        sa.column("name_key", sa.String()),
        sa.column("in_trash", sa.Boolean()),
    )
    after: uuid.UUID | None = None
    while True:
        query = sa.select(nodes.c.id, nodes.c.tenant_id, nodes.c.owner_id, nodes.c.name_key).where(nodes.c.parent_id.is_not(None))
        if live_only:
            query = query.where(nodes.c.in_trash.is_(False))
        if after is not None:
            query = query.where(nodes.c.id > after)
        batch = list(connection.execute(query.order_by(nodes.c.id).limit(_BATCH)))
        if not batch:
            return
        yield batch
        after = batch[-1].id


def _fill(*, with_name_key: bool) -> None:
    columns: list[sa.ColumnClause[Any]] = [sa.column(name, sa.Uuid()) for name in ("node_id", "tenant_id", "owner_id")]
    columns.append(sa.column("term", sa.String()))
    if with_name_key:
        columns.append(sa.column("name_key", sa.String()))
    terms = sa.table("file_name_terms", *columns)
    for batch in _nodes(live_only=with_name_key):
        rows = [
            {"node_id": node.id, "term": term, "tenant_id": node.tenant_id, "owner_id": node.owner_id}
            | ({"name_key": node.name_key} if with_name_key else {})
            for node in batch
            for term in _terms(node.name_key, whole_key_always=not with_name_key)
        ]
        if rows:
            op.get_bind().execute(sa.insert(terms), rows)


def upgrade() -> None:
    op.drop_index("ix_file_nodes_parent", table_name="file_nodes")
    op.create_index(
        "ix_file_nodes_parent_listing",
        "file_nodes",
        ["parent_id", "in_trash", sa.text("kind DESC"), "name_key", "id"],
        unique=False,
    )
    op.drop_table("file_name_terms")  # derived data, rebuilt below; nothing points at it
    _create_terms_table(with_name_key=True)
    _fill(with_name_key=True)
    op.create_index("ix_file_name_terms_owner_term", "file_name_terms", ["owner_id", "term", "name_key", "node_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        # Fresh statistics for the rebuilt table: without them PostgreSQL plans the search as a nested loop over
        # every node of the owner until autovacuum analyzes it.
        op.execute("ANALYZE file_name_terms")


def downgrade() -> None:
    op.drop_table("file_name_terms")
    _create_terms_table(with_name_key=False)
    _fill(with_name_key=False)
    op.create_index("ix_file_name_terms_owner_term", "file_name_terms", ["owner_id", "term"], unique=False)
    op.drop_index("ix_file_nodes_parent_listing", table_name="file_nodes")
    op.create_index("ix_file_nodes_parent", "file_nodes", ["parent_id", "in_trash"], unique=False)

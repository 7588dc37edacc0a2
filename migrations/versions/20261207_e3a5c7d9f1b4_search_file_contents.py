"""search: entries of plain files too (their names and the text of their contents), one per file

Revision ID: e3a5c7d9f1b4
Revises: d9f1b3c5e7a2
Create Date: 2026-12-07 07:45:00.000000

An entry is now a document's or a file's (`kind`): `document_id` is empty for a file's, and `file_id` is unique (a
file is indexed once: as its document when it is one). SQLite rebuilds the table for the change, so the FTS5 table
and its triggers are made again over it.

PostgreSQL's tsvector now reads words as SQLite's tokenizer and the search box do: letters and digits, everything else
a separator. Its default parser kept `notes.txt`, `a.b@c.de` or `x.example.org` as one word each, so a file's name
was not found by its stem.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e3a5c7d9f1b4"
down_revision: str | None = "d9f1b3c5e7a2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TRIGGERS = ("search_entries_ai", "search_entries_ad", "search_entries_au")


def _drop_sqlite_fts() -> None:
    for name in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS search_fts")


SQLITE_FTS = [
    "CREATE VIRTUAL TABLE search_fts USING fts5(title, body, acl, content='search_entries', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER search_entries_ai AFTER INSERT ON search_entries BEGIN INSERT INTO "
    "search_fts(rowid, title, body, acl) VALUES (new.id, new.title, new.body, new.acl); END",
    "CREATE TRIGGER search_entries_ad AFTER DELETE ON search_entries BEGIN INSERT INTO "
    "search_fts(search_fts, rowid, title, body, acl) VALUES ('delete', old.id, old.title, old.body, "
    "old.acl); END",
    "CREATE TRIGGER search_entries_au AFTER UPDATE ON search_entries BEGIN INSERT INTO "
    "search_fts(search_fts, rowid, title, body, acl) VALUES ('delete', old.id, old.title, old.body, "
    "old.acl); INSERT INTO search_fts(rowid, title, body, acl) VALUES (new.id, new.title, new.body, "
    "new.acl); END",
    "INSERT INTO search_fts(search_fts) VALUES ('rebuild')",
]
"""The FTS5 table over search_entries' title, body and acl, the triggers that keep it in step; then filled."""


def _make_sqlite_fts() -> None:
    for statement in SQLITE_FTS:
        op.execute(statement)


def _words(column: str) -> str:
    return f"to_tsvector('simple', regexp_replace(coalesce({column}, ''), '[^[:alnum:]]+', ' ', 'g'))"


def _postgresql_tsv(expression: str) -> None:
    op.execute("ALTER TABLE search_entries DROP COLUMN IF EXISTS tsv")
    op.execute(f"ALTER TABLE search_entries ADD COLUMN tsv tsvector GENERATED ALWAYS AS ({expression}) STORED")
    op.execute("CREATE INDEX ix_search_entries_tsv ON search_entries USING gin (tsv)")
    op.execute("ANALYZE search_entries")


SPLIT_WORDS = f"setweight({_words('title')}, 'A') || setweight({_words('body')}, 'B') || setweight({_words('acl')}, 'D')"
PARSED_WORDS = (
    "setweight(to_tsvector('simple', coalesce(title, '')), 'A') || setweight(to_tsvector('simple', coalesce(body, '')), 'B')"
    " || setweight(to_tsvector('simple', acl), 'D')"
)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        _drop_sqlite_fts()
    with op.batch_alter_table("search_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=10), server_default="document", nullable=False))
        batch_op.alter_column("document_id", existing_type=sa.Uuid(), nullable=True)
        batch_op.drop_index("ix_search_entries_file")
        batch_op.create_index("uq_search_entries_file", ["file_id"], unique=True)
    if sqlite:
        _make_sqlite_fts()
    else:
        _postgresql_tsv(SPLIT_WORDS)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.execute("DELETE FROM search_entries WHERE document_id IS NULL")
    if sqlite:
        _drop_sqlite_fts()
    with op.batch_alter_table("search_entries", schema=None) as batch_op:
        batch_op.drop_index("uq_search_entries_file")
        batch_op.create_index("ix_search_entries_file", ["file_id"], unique=False)
        batch_op.alter_column("document_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.drop_column("kind")
    if sqlite:
        _make_sqlite_fts()
    else:
        _postgresql_tsv(PARSED_WORDS)

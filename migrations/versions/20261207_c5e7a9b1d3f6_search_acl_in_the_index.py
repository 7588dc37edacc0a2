"""search: who may find an entry, in the full-text index itself

Revision ID: c5e7a9b1d3f6
Revises: f1a3c5e7b9d2
Create Date: 2026-12-07 07:10:00.000000

Each entry gets `acl`, the token of its owner (`o` and the owner's id in hex), indexed with the words (FTS5: a third
column; PostgreSQL: weight D of the tsvector), so a search intersects the word's list with the caller's own entries
inside the index instead of reading every entry of the tenant that holds the word (bench/bench_documents.py: a word
in all 100,000 documents took 0.3-1 s). The precise permission check (live file, owner or share) still runs on
every candidate, in the query.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c5e7a9b1d3f6"
down_revision: str | None = "f1a3c5e7b9d2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TRIGGERS = ("search_entries_ai", "search_entries_ad", "search_entries_au")


# The FTS5 table over the columns of search_entries and the triggers that keep it in step; then filled.
WITH_ACL = [
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
WITHOUT_ACL = [
    "CREATE VIRTUAL TABLE search_fts USING fts5(title, body, content='search_entries', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER search_entries_ai AFTER INSERT ON search_entries BEGIN INSERT INTO "
    "search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "CREATE TRIGGER search_entries_ad AFTER DELETE ON search_entries BEGIN INSERT INTO "
    "search_fts(search_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); END",
    "CREATE TRIGGER search_entries_au AFTER UPDATE ON search_entries BEGIN INSERT INTO "
    "search_fts(search_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); "
    "INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "INSERT INTO search_fts(search_fts) VALUES ('rebuild')",
]


def _drop_sqlite_fts() -> None:
    for name in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS search_fts")


def _postgresql_tsv(with_acl: bool) -> list[str]:
    acl = " || setweight(to_tsvector('simple', acl), 'D')" if with_acl else ""
    return [
        "ALTER TABLE search_entries DROP COLUMN IF EXISTS tsv",
        "ALTER TABLE search_entries ADD COLUMN tsv tsvector GENERATED ALWAYS AS "
        "(setweight(to_tsvector('simple', coalesce(title, '')), 'A') || "
        f"setweight(to_tsvector('simple', coalesce(body, '')), 'B'){acl}) STORED",
        "CREATE INDEX ix_search_entries_tsv ON search_entries USING gin (tsv)",
        "ANALYZE search_entries",
    ]


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        _drop_sqlite_fts()
    op.add_column("search_entries", sa.Column("acl", sa.String(length=200), server_default="", nullable=False))
    if sqlite:
        op.execute("UPDATE search_entries SET acl = 'o' || lower(owner_id)")
        for statement in WITH_ACL:
            op.execute(statement)
    else:
        op.execute("UPDATE search_entries SET acl = 'o' || replace(owner_id::text, '-', '')")
        for statement in _postgresql_tsv(with_acl=True):
            op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        _drop_sqlite_fts()
    else:
        op.execute("ALTER TABLE search_entries DROP COLUMN IF EXISTS tsv")
    with op.batch_alter_table("search_entries", schema=None) as batch_op:
        batch_op.drop_column("acl")
    if sqlite:
        for statement in WITHOUT_ACL:
            op.execute(statement)
    else:
        for statement in _postgresql_tsv(with_acl=False)[1:]:
            op.execute(statement)

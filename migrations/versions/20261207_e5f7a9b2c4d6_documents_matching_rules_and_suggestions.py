"""documents: matching rules and suggestions

Revision ID: e5f7a9b2c4d6
Revises: d8e2f4a6b1c3
Create Date: 2026-12-07 04:47:06.462620
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e5f7a9b2c4d6"
down_revision: str | None = "d8e2f4a6b1c3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "document_suggestions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("field", sa.String(length=20), nullable=False),
        sa.Column("term_id", sa.Uuid(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], name=op.f("fk_document_suggestions_decided_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_document_suggestions_document_id_documents"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_suggestions")),
        sa.UniqueConstraint("document_id", "field", "term_id", name=op.f("uq_document_suggestions_document_id_field_term_id")),
    )
    with op.batch_alter_table("document_suggestions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_document_suggestions_document_id"), ["document_id"], unique=False)

    with op.batch_alter_table("document_correspondents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("matching", sa.String(length=10), nullable=False, server_default="none"))
        batch_op.add_column(sa.Column("match", sa.String(length=500), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("case_sensitive", sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table("document_tags", schema=None) as batch_op:
        batch_op.add_column(sa.Column("matching", sa.String(length=10), nullable=False, server_default="none"))
        batch_op.add_column(sa.Column("match", sa.String(length=500), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("case_sensitive", sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table("document_types", schema=None) as batch_op:
        batch_op.add_column(sa.Column("matching", sa.String(length=10), nullable=False, server_default="none"))
        batch_op.add_column(sa.Column("match", sa.String(length=500), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("case_sensitive", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("document_types", schema=None) as batch_op:
        batch_op.drop_column("case_sensitive")
        batch_op.drop_column("match")
        batch_op.drop_column("matching")

    with op.batch_alter_table("document_tags", schema=None) as batch_op:
        batch_op.drop_column("case_sensitive")
        batch_op.drop_column("match")
        batch_op.drop_column("matching")

    with op.batch_alter_table("document_correspondents", schema=None) as batch_op:
        batch_op.drop_column("case_sensitive")
        batch_op.drop_column("match")
        batch_op.drop_column("matching")

    with op.batch_alter_table("document_suggestions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_suggestions_document_id"))

    op.drop_table("document_suggestions")

"""documents: the classifier per organization

Revision ID: a7c1e3f5b9d4
Revises: c5e7a9b1d3f6
Create Date: 2026-12-07 07:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a7c1e3f5b9d4"
down_revision: str | None = "c5e7a9b1d3f6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "document_classifiers",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("trained_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("documents", sa.Integer(), nullable=False),
        sa.Column("classes", sa.JSON(), nullable=False),
        sa.Column("problem", sa.String(length=500), nullable=True),
        sa.Column("model", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_document_classifiers_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_document_classifiers")),
    )
    with op.batch_alter_table("document_suggestions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("value", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("document_suggestions", schema=None) as batch_op:
        batch_op.drop_column("value")

    op.drop_table("document_classifiers")

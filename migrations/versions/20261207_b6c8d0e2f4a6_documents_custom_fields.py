"""documents: custom fields

Revision ID: b6c8d0e2f4a6
Revises: b2d4f6a8c0e1
Create Date: 2026-12-07 07:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b6c8d0e2f4a6"
down_revision: str | None = "b2d4f6a8c0e1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "document_custom_fields",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("name_key", sa.String(length=128), nullable=False),
        sa.Column("data_type", sa.String(length=16), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_document_custom_fields_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_custom_fields")),
        sa.UniqueConstraint("tenant_id", "name_key", name=op.f("uq_document_custom_fields_tenant_id_name_key")),
    )
    op.create_table(
        "document_custom_field_values",
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("field_id", sa.Uuid(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("number", sa.Float(), nullable=True),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("flag", sa.Boolean(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("linked_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_custom_field_values_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["field_id"],
            ["document_custom_fields.id"],
            name=op.f("fk_document_custom_field_values_field_id_document_custom_fields"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("document_id", "field_id", name=op.f("pk_document_custom_field_values")),
    )
    with op.batch_alter_table("document_custom_field_values", schema=None) as batch_op:
        batch_op.create_index("ix_document_custom_field_values_field", ["field_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("document_custom_field_values", schema=None) as batch_op:
        batch_op.drop_index("ix_document_custom_field_values_field")

    op.drop_table("document_custom_field_values")
    op.drop_table("document_custom_fields")

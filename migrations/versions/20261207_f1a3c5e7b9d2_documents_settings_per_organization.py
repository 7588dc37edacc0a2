"""documents: settings per organization

Revision ID: f1a3c5e7b9d2
Revises: e5f7a9b2c4d6
Create Date: 2026-12-07 05:01:31.351562
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f1a3c5e7b9d2"
down_revision: str | None = "e5f7a9b2c4d6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "document_settings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("max_upload_bytes", sa.BigInteger(), nullable=False),
        sa.Column("allowed_types", sa.JSON(), nullable=False),
        sa.Column("ocr_languages", sa.String(length=120), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_document_settings_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_document_settings")),
    )


def downgrade() -> None:
    op.drop_table("document_settings")

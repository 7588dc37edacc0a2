"""file thumbnails: one durable thumbnail job (and its result) per file

Revision ID: 7b3e1c9d2f40
Revises: 34173800ae58
Create Date: 2026-12-02 01:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7b3e1c9d2f40"
down_revision: str | None = "34173800ae58"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "file_thumbnails",
        sa.Column("file_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blob_key", sa.String(length=64), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"], ["file_nodes.id"], name=op.f("fk_file_thumbnails_file_id_file_nodes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_file_thumbnails_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("file_id", name=op.f("pk_file_thumbnails")),
    )
    op.create_index(op.f("ix_file_thumbnails_tenant_id"), "file_thumbnails", ["tenant_id"], unique=False)
    op.create_index("ix_file_thumbnails_due", "file_thumbnails", ["state", "next_attempt_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_file_thumbnails_due", table_name="file_thumbnails")
    op.drop_index(op.f("ix_file_thumbnails_tenant_id"), table_name="file_thumbnails")
    op.drop_table("file_thumbnails")

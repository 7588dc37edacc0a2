"""documents: the AI assistant (an OpenAI-compatible provider per organization) and its jobs

Revision ID: d9f1b3c5e7a2
Revises: b6c8d0e2f4a6
Create Date: 2026-12-07 07:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d9f1b3c5e7a2"
down_revision: str | None = "b6c8d0e2f4a6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "document_assistant_settings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("base_url", sa.String(length=500), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("api_key_sealed", sa.String(length=1000), nullable=True),
        sa.Column("system_prompt", sa.Text(), nullable=False),
        sa.Column("max_chars", sa.Integer(), nullable=False),
        sa.Column("timeout_seconds", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_document_assistant_settings_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_document_assistant_settings_updated_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_document_assistant_settings")),
    )
    op.create_table(
        "document_assistant_jobs",
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("suggested", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_document_assistant_jobs_document_id_documents"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_document_assistant_jobs_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_document_assistant_jobs")),
    )
    with op.batch_alter_table("document_assistant_jobs", schema=None) as batch_op:
        batch_op.create_index("ix_document_assistant_jobs_due", ["state", "next_attempt_at"], unique=False)
        batch_op.create_index("ix_document_assistant_jobs_tenant", ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("document_assistant_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_document_assistant_jobs_tenant")
        batch_op.drop_index("ix_document_assistant_jobs_due")

    op.drop_table("document_assistant_jobs")
    op.drop_table("document_assistant_settings")

"""ops: feature flag values per install and per tenant

Revision ID: f9b1d3f5b7c9
Revises: e8a0c2e4a6b8
Create Date: 2026-12-08 10:00:00.000000

The flags themselves are declared in code (nubes.ops.flags.catalog); these tables keep only the values admins chose:
the install's (`install_feature_flags`) and each tenant's (`tenant_feature_flags`, gone with its tenant).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f9b1d3f5b7c9"
down_revision: str | None = "e8a0c2e4a6b8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "install_feature_flags",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_install_feature_flags")),
    )
    op.create_table(
        "tenant_feature_flags",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_tenant_feature_flags_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "key", name=op.f("pk_tenant_feature_flags")),
    )


def downgrade() -> None:
    op.drop_table("tenant_feature_flags")
    op.drop_table("install_feature_flags")

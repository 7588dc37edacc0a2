"""tenant roles_version (the cached role graph's version)

Revision ID: d4f7a2c19e63
Revises: b81e4d2c9a57
Create Date: 2026-12-06 20:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d4f7a2c19e63"
down_revision: str | None = "b81e4d2c9a57"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN on both engines: SQLite's batch mode would copy the table, and dropping the old copy would
    # cascade to every row that points at a tenant.
    op.add_column("tenants", sa.Column("roles_version", sa.Integer(), server_default=sa.text("0"), nullable=False))


def downgrade() -> None:
    op.drop_column("tenants", "roles_version")  # SQLite 3.35+ drops a column in place, like PostgreSQL

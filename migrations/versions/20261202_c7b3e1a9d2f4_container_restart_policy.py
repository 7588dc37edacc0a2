"""container restart policy, job backoff

Revision ID: c7b3e1a9d2f4
Revises: 5e1d7a3c9b20
Create Date: 2026-12-02 01:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c7b3e1a9d2f4"
down_revision: str | None = "5e1d7a3c9b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("containers") as batch:
        batch.add_column(sa.Column("restart_policy", sa.String(length=20), server_default="never", nullable=False))
        batch.add_column(sa.Column("restart_max_retries", sa.Integer(), server_default="3", nullable=False))
        batch.add_column(sa.Column("restart_window_seconds", sa.Integer(), server_default="600", nullable=False))
        batch.add_column(sa.Column("restart_backoff_seconds", sa.Integer(), server_default="5", nullable=False))
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("not_before", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("not_before")
    with op.batch_alter_table("containers") as batch:
        batch.drop_column("restart_backoff_seconds")
        batch.drop_column("restart_window_seconds")
        batch.drop_column("restart_max_retries")
        batch.drop_column("restart_policy")

"""compute: an index on jobs by actor and time, for the count of auto-restarts per container that ops/metrics reads

Revision ID: 0a2c4e6a8c1d
Revises: f9b1d3f5b7c9
Create Date: 2026-12-09 10:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0a2c4e6a8c1d"
down_revision: str | None = "f9b1d3f5b7c9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_jobs_actor_time", "jobs", ["actor_name", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_jobs_actor_time", table_name="jobs")

"""users.pending_email: a new address waits for its mailbox to confirm it

Revision ID: 546d96619efd
Revises: a5d0c3e8f1b7
Create Date: 2026-12-06 15:44:42.152030
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "546d96619efd"
down_revision: str | None = "a5d0c3e8f1b7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("pending_email", sa.String(length=320), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("pending_email")

"""identity: app passwords (personal access tokens of kind "app") and the last address a token was used from

Revision ID: f7b9d1e3a5c8
Revises: e3a5c7d9f1b4
Create Date: 2026-12-07 10:10:00.000000

An app password is a device's password for WebDAV and sync clients (HTTP Basic auth): a personal access token with
`kind` "app". Existing tokens are of kind "token". `last_used_ip` is written with `last_used_at`, in batches.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f7b9d1e3a5c8"
down_revision: str | None = "e3a5c7d9f1b4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("personal_access_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=10), server_default="token", nullable=False))
        batch_op.add_column(sa.Column("last_used_ip", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("personal_access_tokens", schema=None) as batch_op:
        batch_op.drop_column("last_used_ip")
        batch_op.drop_column("kind")

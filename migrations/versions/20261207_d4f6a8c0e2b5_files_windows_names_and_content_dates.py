"""files: a tenant's policy on names Windows cannot hold ("allow", the default, or "refuse" on every write path), and
a file's content date as its writer gives it (WebDAV clients' X-OC-Mtime; null: updated_at)

Revision ID: d4f6a8c0e2b5
Revises: c5e7f9b1d3a6
Create Date: 2026-12-07 11:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d4f6a8c0e2b5"
down_revision: str | None = "c5e7f9b1d3a6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tenant_files_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("windows_names", sa.String(length=10), server_default="allow", nullable=False))
    # A nullable column without a default: no table rewrite on either engine (file_nodes is the biggest table).
    op.add_column("file_nodes", sa.Column("modified_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("file_nodes", schema=None) as batch_op:
        batch_op.drop_column("modified_at")
    with op.batch_alter_table("tenant_files_settings", schema=None) as batch_op:
        batch_op.drop_column("windows_names")

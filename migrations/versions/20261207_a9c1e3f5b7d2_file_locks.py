"""files: WebDAV write locks on files and folders

Revision ID: a9c1e3f5b7d2
Revises: f7b9d1e3a5c8
Create Date: 2026-12-07 10:30:00.000000

A lock belongs to a node (gone with it), a user and a tenant; `expires_at` is always set (an infinite timeout is
capped), and `ix_file_locks_tenant_expires` answers "does this tenant hold any live lock" before every write.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a9c1e3f5b7d2"
down_revision: str | None = "f7b9d1e3a5c8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "file_locks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("node_id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("exclusive", sa.Boolean(), nullable=False),
        sa.Column("depth_infinity", sa.Boolean(), nullable=False),
        sa.Column("owner_xml", sa.String(length=4096), nullable=True),
        sa.Column("root", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["node_id"], ["file_nodes.id"], name=op.f("fk_file_locks_node_id_file_nodes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_file_locks_owner_id_users"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_file_locks_tenant_id_tenants"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_file_locks")),
    )
    with op.batch_alter_table("file_locks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_file_locks_node_id"), ["node_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_file_locks_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index("ix_file_locks_tenant_expires", ["tenant_id", "expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("file_locks", schema=None) as batch_op:
        batch_op.drop_index("ix_file_locks_tenant_expires")
        batch_op.drop_index(batch_op.f("ix_file_locks_owner_id"))
        batch_op.drop_index(batch_op.f("ix_file_locks_node_id"))
    op.drop_table("file_locks")

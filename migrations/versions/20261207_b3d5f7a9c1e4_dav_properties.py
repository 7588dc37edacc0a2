"""files: WebDAV dead properties of files and folders

Revision ID: b3d5f7a9c1e4
Revises: a9c1e3f5b7d2
Create Date: 2026-12-07 10:40:00.000000

A property belongs to a node (gone with it when it is purged; kept while it is in the trash) and its tenant; its
value is the property element as the client sent it (PROPPATCH), bounded by the service.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b3d5f7a9c1e4"
down_revision: str | None = "a9c1e3f5b7d2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "file_dav_properties",
        sa.Column("node_id", sa.Uuid(), nullable=False),
        sa.Column("namespace", sa.String(length=512), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["node_id"], ["file_nodes.id"], name=op.f("fk_file_dav_properties_node_id_file_nodes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_file_dav_properties_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("node_id", "namespace", "name", name=op.f("pk_file_dav_properties")),
    )
    op.create_index(op.f("ix_file_dav_properties_tenant_id"), "file_dav_properties", ["tenant_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_file_dav_properties_tenant_id"), table_name="file_dav_properties")
    op.drop_table("file_dav_properties")

"""files: the tree of each user space, versions, favorites, name-search terms, storage usage

Revision ID: 18de7165f88b
Revises: 094d541e5d0b
Create Date: 2026-11-22 07:50:47.414494
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "18de7165f88b"
down_revision: str | None = "094d541e5d0b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "file_nodes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("name_key", sa.String(length=1024), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("blob_key", sa.String(length=64), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("version_no", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("trashed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("in_trash", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_file_nodes_created_by_users"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_file_nodes_owner_id_users"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["file_nodes.id"], name=op.f("fk_file_nodes_parent_id_file_nodes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_file_nodes_tenant_id_tenants"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_file_nodes")),
    )
    with op.batch_alter_table("file_nodes", schema=None) as batch_op:
        batch_op.create_index("ix_file_nodes_owner_trashed", ["owner_id", "trashed_at"], unique=False)
        batch_op.create_index("ix_file_nodes_owner_updated", ["owner_id", "updated_at"], unique=False)
        batch_op.create_index("ix_file_nodes_parent", ["parent_id", "in_trash"], unique=False)
        batch_op.create_index(batch_op.f("ix_file_nodes_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(
            "uq_file_nodes_live_name",
            ["parent_id", "name_key"],
            unique=True,
            postgresql_where=sa.text("NOT in_trash AND parent_id IS NOT NULL"),
            sqlite_where=sa.text("NOT in_trash AND parent_id IS NOT NULL"),
        )
        batch_op.create_index(
            "uq_file_nodes_root",
            ["owner_id"],
            unique=True,
            postgresql_where=sa.text("parent_id IS NULL"),
            sqlite_where=sa.text("parent_id IS NULL"),
        )

    op.create_table(
        "storage_usage",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("used_bytes", sa.BigInteger(), nullable=False),
        sa.Column("quota_bytes", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_storage_usage_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_storage_usage_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storage_usage")),
        sa.UniqueConstraint("user_id", name=op.f("uq_storage_usage_user_id")),
    )
    with op.batch_alter_table("storage_usage", schema=None) as batch_op:
        batch_op.create_index(
            "uq_storage_usage_tenant",
            ["tenant_id"],
            unique=True,
            postgresql_where=sa.text("user_id IS NULL"),
            sqlite_where=sa.text("user_id IS NULL"),
        )

    op.create_table(
        "file_favorites",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("node_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["node_id"], ["file_nodes.id"], name=op.f("fk_file_favorites_node_id_file_nodes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_file_favorites_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_file_favorites_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "node_id", name=op.f("pk_file_favorites")),
    )
    with op.batch_alter_table("file_favorites", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_file_favorites_node_id"), ["node_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_file_favorites_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "file_name_terms",
        sa.Column("node_id", sa.Uuid(), nullable=False),
        sa.Column("term", sa.String(length=255).with_variant(sa.String(length=255, collation="C"), "postgresql"), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["node_id"], ["file_nodes.id"], name=op.f("fk_file_name_terms_node_id_file_nodes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_file_name_terms_owner_id_users"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_file_name_terms_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("node_id", "term", name=op.f("pk_file_name_terms")),
    )
    with op.batch_alter_table("file_name_terms", schema=None) as batch_op:
        batch_op.create_index("ix_file_name_terms_owner_term", ["owner_id", "term"], unique=False)
        batch_op.create_index(batch_op.f("ix_file_name_terms_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "file_versions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("file_id", sa.Uuid(), nullable=False),
        sa.Column("version_no", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("blob_key", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_file_versions_created_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["file_id"], ["file_nodes.id"], name=op.f("fk_file_versions_file_id_file_nodes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_file_versions_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_file_versions")),
        sa.UniqueConstraint("file_id", "version_no", name=op.f("uq_file_versions_file_id_version_no")),
    )
    with op.batch_alter_table("file_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_file_versions_file_id"), ["file_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_file_versions_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("file_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_file_versions_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_file_versions_file_id"))

    op.drop_table("file_versions")
    with op.batch_alter_table("file_name_terms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_file_name_terms_tenant_id"))
        batch_op.drop_index("ix_file_name_terms_owner_term")

    op.drop_table("file_name_terms")
    with op.batch_alter_table("file_favorites", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_file_favorites_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_file_favorites_node_id"))

    op.drop_table("file_favorites")
    with op.batch_alter_table("storage_usage", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_storage_usage_tenant", postgresql_where=sa.text("user_id IS NULL"), sqlite_where=sa.text("user_id IS NULL")
        )

    op.drop_table("storage_usage")
    with op.batch_alter_table("file_nodes", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_file_nodes_root", postgresql_where=sa.text("parent_id IS NULL"), sqlite_where=sa.text("parent_id IS NULL")
        )
        batch_op.drop_index(
            "uq_file_nodes_live_name",
            postgresql_where=sa.text("NOT in_trash AND parent_id IS NOT NULL"),
            sqlite_where=sa.text("NOT in_trash AND parent_id IS NOT NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_file_nodes_tenant_id"))
        batch_op.drop_index("ix_file_nodes_parent")
        batch_op.drop_index("ix_file_nodes_owner_updated")
        batch_op.drop_index("ix_file_nodes_owner_trashed")

    op.drop_table("file_nodes")

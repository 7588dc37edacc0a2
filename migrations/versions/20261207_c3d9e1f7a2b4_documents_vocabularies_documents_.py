"""documents: vocabularies, documents, extraction

Revision ID: c3d9e1f7a2b4
Revises: e2a7c4b91d3f
Create Date: 2026-12-07 04:12:42.206803
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c3d9e1f7a2b4"
down_revision: str | None = "e2a7c4b91d3f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "document_categories",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("parent_key", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("name_key", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["document_categories.id"],
            name=op.f("fk_document_categories_parent_id_document_categories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_document_categories_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_categories")),
        sa.UniqueConstraint(
            "tenant_id", "parent_key", "name_key", name=op.f("uq_document_categories_tenant_id_parent_key_name_key")
        ),
    )
    with op.batch_alter_table("document_categories", schema=None) as batch_op:
        batch_op.create_index("ix_document_categories_parent", ["parent_id"], unique=False)

    op.create_table(
        "document_correspondents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("name_key", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_document_correspondents_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_correspondents")),
        sa.UniqueConstraint("tenant_id", "name_key", name=op.f("uq_document_correspondents_tenant_id_name_key")),
    )
    op.create_table(
        "document_tags",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("name_key", sa.String(length=64), nullable=False),
        sa.Column("color", sa.String(length=7), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_document_tags_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_tags")),
        sa.UniqueConstraint("tenant_id", "name_key", name=op.f("uq_document_tags_tenant_id_name_key")),
    )
    op.create_table(
        "document_types",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("name_key", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_document_types_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_types")),
        sa.UniqueConstraint("tenant_id", "name_key", name=op.f("uq_document_types_tenant_id_name_key")),
    )
    op.create_table(
        "documents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("file_id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("type_id", sa.Uuid(), nullable=True),
        sa.Column("correspondent_id", sa.Uuid(), nullable=True),
        sa.Column("archive_serial", sa.Integer(), nullable=True),
        sa.Column("created_on", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["correspondent_id"],
            ["document_correspondents.id"],
            name=op.f("fk_documents_correspondent_id_document_correspondents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(["file_id"], ["file_nodes.id"], name=op.f("fk_documents_file_id_file_nodes"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_documents_owner_id_users"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_documents_tenant_id_tenants"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["type_id"], ["document_types.id"], name=op.f("fk_documents_type_id_document_types"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("file_id", name=op.f("uq_documents_file_id")),
        sa.UniqueConstraint("tenant_id", "archive_serial", name=op.f("uq_documents_tenant_id_archive_serial")),
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index("ix_documents_correspondent", ["correspondent_id"], unique=False)
        batch_op.create_index("ix_documents_owner_added", ["tenant_id", "owner_id", "added_at"], unique=False)
        batch_op.create_index("ix_documents_type", ["type_id"], unique=False)

    op.create_table(
        "document_category_links",
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("category_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["document_categories.id"],
            name=op.f("fk_document_category_links_category_id_document_categories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_document_category_links_document_id_documents"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("document_id", "category_id", name=op.f("pk_document_category_links")),
    )
    with op.batch_alter_table("document_category_links", schema=None) as batch_op:
        batch_op.create_index("ix_document_category_links_category", ["category_id"], unique=False)

    op.create_table(
        "document_changes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_document_changes_actor_id_users"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_document_changes_document_id_documents"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_changes")),
    )
    with op.batch_alter_table("document_changes", schema=None) as batch_op:
        batch_op.create_index("ix_document_changes_document", ["document_id", "at"], unique=False)

    op.create_table(
        "document_contents",
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_document_contents_document_id_documents"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_document_contents_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_document_contents")),
    )
    with op.batch_alter_table("document_contents", schema=None) as batch_op:
        batch_op.create_index("ix_document_contents_due", ["state", "next_attempt_at"], unique=False)

    op.create_table(
        "document_tag_links",
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("tag_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_document_tag_links_document_id_documents"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["document_tags.id"], name=op.f("fk_document_tag_links_tag_id_document_tags"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("document_id", "tag_id", name=op.f("pk_document_tag_links")),
    )
    with op.batch_alter_table("document_tag_links", schema=None) as batch_op:
        batch_op.create_index("ix_document_tag_links_tag", ["tag_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("document_tag_links", schema=None) as batch_op:
        batch_op.drop_index("ix_document_tag_links_tag")

    op.drop_table("document_tag_links")
    with op.batch_alter_table("document_contents", schema=None) as batch_op:
        batch_op.drop_index("ix_document_contents_due")

    op.drop_table("document_contents")
    with op.batch_alter_table("document_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_document_changes_document")

    op.drop_table("document_changes")
    with op.batch_alter_table("document_category_links", schema=None) as batch_op:
        batch_op.drop_index("ix_document_category_links_category")

    op.drop_table("document_category_links")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index("ix_documents_type")
        batch_op.drop_index("ix_documents_owner_added")
        batch_op.drop_index("ix_documents_correspondent")

    op.drop_table("documents")
    op.drop_table("document_types")
    op.drop_table("document_tags")
    op.drop_table("document_correspondents")
    with op.batch_alter_table("document_categories", schema=None) as batch_op:
        batch_op.drop_index("ix_document_categories_parent")

    op.drop_table("document_categories")

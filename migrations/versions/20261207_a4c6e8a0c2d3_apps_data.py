"""apps: the per-app data store (collections, documents, revisions, the changes feed)

Revision ID: a4c6e8a0c2d3
Revises: f3b5d7f9b1c2
Create Date: 2026-12-07 13:15:00.000000

A collection is a user's own (`space` = the user's id in hex) or its tenant's shared one (`space` = "shared");
its row is also its changes feed's counter (`last_seq`). Changes are keyed by (collection, seq); documents keep
tombstones; attachments belong to a document and go with it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a4c6e8a0c2d3"
down_revision: str | None = "f3b5d7f9b1c2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "app_data_collections",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=True),
        sa.Column("space", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("client_id", sa.String(length=200), nullable=True),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("documents", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_app_data_collections_owner_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_app_data_collections_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_data_collections")),
        sa.UniqueConstraint("tenant_id", "space", "name", name=op.f("uq_app_data_collections_tenant_id_space_name")),
    )
    with op.batch_alter_table("app_data_collections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_app_data_collections_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "app_data_documents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("collection_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("rev", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("charged_to", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["charged_to"], ["users.id"], name=op.f("fk_app_data_documents_charged_to_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["app_data_collections.id"],
            name=op.f("fk_app_data_documents_collection_id_app_data_collections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_app_data_documents_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_data_documents")),
        sa.UniqueConstraint("collection_id", "key", name=op.f("uq_app_data_documents_collection_id_key")),
    )

    op.create_table(
        "app_data_changes",
        sa.Column("collection_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("rev", sa.String(length=64), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["app_data_collections.id"],
            name=op.f("fk_app_data_changes_collection_id_app_data_collections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_app_data_changes_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("collection_id", "seq", name=op.f("pk_app_data_changes")),
    )

    op.create_table(
        "app_data_attachments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=200), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("blob_key", sa.String(length=64), nullable=True),
        sa.Column("staging_key", sa.String(length=64), nullable=True),
        sa.Column("charged_to", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["charged_to"], ["users.id"], name=op.f("fk_app_data_attachments_charged_to_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["app_data_documents.id"],
            name=op.f("fk_app_data_attachments_document_id_app_data_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_app_data_attachments_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_data_attachments")),
        sa.UniqueConstraint("document_id", "name", name=op.f("uq_app_data_attachments_document_id_name")),
    )


def downgrade() -> None:
    op.drop_table("app_data_attachments")
    op.drop_table("app_data_changes")
    op.drop_table("app_data_documents")
    with op.batch_alter_table("app_data_collections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_app_data_collections_owner_id"))
    op.drop_table("app_data_collections")

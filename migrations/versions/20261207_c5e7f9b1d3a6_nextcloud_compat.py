"""files: Nextcloud Login Flow v2 requests and chunked-upload transfers

Revision ID: c5e7f9b1d3a6
Revises: b3d5f7a9c1e4
Create Date: 2026-12-07 11:00:00.000000

A login flow holds only hashes of its two tokens (and, once granted, the app password sealed with the server key
until the client collects it). A transfer is a chunked upload's folder; its bytes are staged by a `file_uploads`
row (deleted with it), and each chunk is a row of `nextcloud_transfer_chunks`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c5e7f9b1d3a6"
down_revision: str | None = "b3d5f7a9c1e4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "nextcloud_login_flows",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("poll_token_hash", sa.String(length=64), nullable=False),
        sa.Column("login_token_hash", sa.String(length=64), nullable=False),
        sa.Column("client_name", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("login_name", sa.String(length=255), nullable=False),
        sa.Column("password_sealed", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_nextcloud_login_flows_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_nextcloud_login_flows_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nextcloud_login_flows")),
        sa.UniqueConstraint("login_token_hash", name=op.f("uq_nextcloud_login_flows_login_token_hash")),
        sa.UniqueConstraint("poll_token_hash", name=op.f("uq_nextcloud_login_flows_poll_token_hash")),
    )
    op.create_index(op.f("ix_nextcloud_login_flows_expires_at"), "nextcloud_login_flows", ["expires_at"], unique=False)
    op.create_table(
        "nextcloud_transfers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("upload_id", sa.Uuid(), nullable=False),
        sa.Column("destination", sa.Text(), nullable=False),
        sa.Column("total_length", sa.BigInteger(), nullable=True),
        sa.Column("in_order", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_nextcloud_transfers_owner_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_nextcloud_transfers_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["upload_id"], ["file_uploads.id"], name=op.f("fk_nextcloud_transfers_upload_id_file_uploads"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nextcloud_transfers")),
        sa.UniqueConstraint("upload_id", name=op.f("uq_nextcloud_transfers_upload_id")),
    )
    op.create_index(op.f("ix_nextcloud_transfers_tenant_id"), "nextcloud_transfers", ["tenant_id"], unique=False)
    op.create_table(
        "nextcloud_transfer_chunks",
        sa.Column("transfer_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("start", sa.BigInteger(), nullable=False),
        sa.Column("staging_key", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["transfer_id"],
            ["nextcloud_transfers.id"],
            name=op.f("fk_nextcloud_transfer_chunks_transfer_id_nextcloud_transfers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("transfer_id", "number", name=op.f("pk_nextcloud_transfer_chunks")),
    )


def downgrade() -> None:
    op.drop_table("nextcloud_transfer_chunks")
    op.drop_index(op.f("ix_nextcloud_transfers_tenant_id"), table_name="nextcloud_transfers")
    op.drop_table("nextcloud_transfers")
    op.drop_index(op.f("ix_nextcloud_login_flows_expires_at"), table_name="nextcloud_login_flows")
    op.drop_table("nextcloud_login_flows")

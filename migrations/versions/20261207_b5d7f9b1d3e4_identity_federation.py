"""identity: external identity providers and the accounts linked to them

Revision ID: b5d7f9b1d3e4
Revises: a4c6e8a0c2d3
Create Date: 2026-12-07 13:15:00.000000

Providers are platform-wide (super-admins) with the tenants they may sign in to; a link is unique per (provider,
subject) and per (provider, user); spent states and tickets are kept (hashed) a day so a callback never works twice.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b5d7f9b1d3e4"
down_revision: str | None = "a4c6e8a0c2d3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "identity_providers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("slug", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("ticket_url", sa.String(length=500), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("client_secret", sa.Text(), nullable=False),
        sa.Column("scopes", sa.String(length=500), nullable=False),
        sa.Column("username_claim", sa.String(length=100), nullable=False),
        sa.Column("email_claim", sa.String(length=100), nullable=False),
        sa.Column("name_claim", sa.String(length=100), nullable=False),
        sa.Column("groups_claim", sa.String(length=100), nullable=False),
        sa.Column("tenant_claim", sa.String(length=100), nullable=False),
        sa.Column("allowed_tenant_ids", sa.JSON(), nullable=False),
        sa.Column("jit_provisioning", sa.Boolean(), nullable=False),
        sa.Column("jit_role", sa.String(length=100), nullable=False),
        sa.Column("group_sync", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("button_label", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_providers")),
        sa.UniqueConstraint("slug", name=op.f("uq_identity_providers_slug")),
    )
    op.create_table(
        "federated_identities",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("synced_group_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["identity_providers.id"],
            name=op.f("fk_federated_identities_provider_id_identity_providers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_federated_identities_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_federated_identities_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federated_identities")),
        sa.UniqueConstraint("provider_id", "subject", name=op.f("uq_federated_identities_provider_id_subject")),
        sa.UniqueConstraint("provider_id", "user_id", name=op.f("uq_federated_identities_provider_id_user_id")),
    )
    with op.batch_alter_table("federated_identities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_federated_identities_provider_id"), ["provider_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_federated_identities_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_federated_identities_user_id"), ["user_id"], unique=False)
    op.create_table(
        "federation_spent_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_federation_spent_tokens")),
    )
    with op.batch_alter_table("federation_spent_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_federation_spent_tokens_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("federation_spent_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_federation_spent_tokens_expires_at"))
    op.drop_table("federation_spent_tokens")
    with op.batch_alter_table("federated_identities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_federated_identities_user_id"))
        batch_op.drop_index(batch_op.f("ix_federated_identities_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_federated_identities_provider_id"))
    op.drop_table("federated_identities")
    op.drop_table("identity_providers")

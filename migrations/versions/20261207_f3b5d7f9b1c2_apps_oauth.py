"""apps: OAuth2/OIDC clients, authorization codes, consents and app tokens

Revision ID: f3b5d7f9b1c2
Revises: e2a4c6e8a0b1
Create Date: 2026-12-07 13:15:00.000000

The provider's tables (clients, pending authorizations, grants with their refresh tokens, codes, client-credentials
tokens, consents), and `personal_access_tokens.client_id`: an app token is a token row of kind "oauth" issued to
that client.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f3b5d7f9b1c2"
down_revision: str | None = "e2a4c6e8a0b1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(table: str, column: str, target: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    referred = target.split(".", maxsplit=1)[0]
    return sa.ForeignKeyConstraint([column], [target], name=op.f(f"fk_{table}_{column}_{referred}"), ondelete=ondelete)


def _when(name: str, *, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "oauth_clients",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("confidential", sa.Boolean(), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=True),
        sa.Column("redirect_uris", sa.JSON(), nullable=False),
        sa.Column("post_logout_redirect_uris", sa.JSON(), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("grant_types", sa.JSON(), nullable=False),
        sa.Column("first_party", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        _when("created_at"),
        _when("secret_rotated_at", nullable=True),
        _fk("oauth_clients", "tenant_id", "tenants.id"),
        _fk("oauth_clients", "created_by", "users.id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_clients")),
        sa.UniqueConstraint("client_id", name=op.f("uq_oauth_clients_client_id")),
    )
    op.create_index(op.f("ix_oauth_clients_tenant_id"), "oauth_clients", ["tenant_id"], unique=False)

    op.create_table(
        "oauth_authorization_requests",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("client_pk", sa.Uuid(), nullable=False),
        sa.Column("redirect_uri", sa.String(length=2000), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=500), nullable=True),
        sa.Column("nonce", sa.String(length=500), nullable=True),
        sa.Column("code_challenge", sa.String(length=128), nullable=True),
        _when("created_at"),
        _when("expires_at"),
        _fk("oauth_authorization_requests", "tenant_id", "tenants.id"),
        _fk("oauth_authorization_requests", "user_id", "users.id"),
        _fk("oauth_authorization_requests", "client_pk", "oauth_clients.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_authorization_requests")),
    )
    op.create_index(op.f("ix_oauth_authorization_requests_user_id"), "oauth_authorization_requests", ["user_id"], unique=False)
    op.create_index(
        op.f("ix_oauth_authorization_requests_client_pk"), "oauth_authorization_requests", ["client_pk"], unique=False
    )

    op.create_table(
        "oauth_grants",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("client_pk", sa.Uuid(), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("nonce", sa.String(length=500), nullable=True),
        _when("auth_time"),
        _when("created_at"),
        _when("revoked_at", nullable=True),
        sa.Column("revoke_reason", sa.String(length=50), nullable=True),
        _fk("oauth_grants", "tenant_id", "tenants.id"),
        _fk("oauth_grants", "user_id", "users.id"),
        _fk("oauth_grants", "client_pk", "oauth_clients.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_grants")),
    )
    op.create_index(op.f("ix_oauth_grants_tenant_id"), "oauth_grants", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_oauth_grants_user_id"), "oauth_grants", ["user_id"], unique=False)
    op.create_index(op.f("ix_oauth_grants_client_pk"), "oauth_grants", ["client_pk"], unique=False)
    op.create_index("ix_oauth_grants_user_client", "oauth_grants", ["user_id", "client_pk"], unique=False)

    op.create_table(
        "oauth_codes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("client_pk", sa.Uuid(), nullable=False),
        sa.Column("redirect_uri", sa.String(length=2000), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("nonce", sa.String(length=500), nullable=True),
        sa.Column("code_challenge", sa.String(length=128), nullable=True),
        _when("created_at"),
        _when("expires_at"),
        _when("used_at", nullable=True),
        sa.Column("grant_id", sa.Uuid(), nullable=True),
        _fk("oauth_codes", "tenant_id", "tenants.id"),
        _fk("oauth_codes", "user_id", "users.id"),
        _fk("oauth_codes", "client_pk", "oauth_clients.id"),
        _fk("oauth_codes", "grant_id", "oauth_grants.id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_oauth_codes_code_hash")),
    )
    op.create_index(op.f("ix_oauth_codes_user_id"), "oauth_codes", ["user_id"], unique=False)
    op.create_index(op.f("ix_oauth_codes_client_pk"), "oauth_codes", ["client_pk"], unique=False)

    op.create_table(
        "oauth_refresh_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("grant_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("access_token_id", sa.Uuid(), nullable=True),
        _when("created_at"),
        _when("used_at", nullable=True),
        _fk("oauth_refresh_tokens", "grant_id", "oauth_grants.id"),
        _fk("oauth_refresh_tokens", "access_token_id", "personal_access_tokens.id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_oauth_refresh_tokens_token_hash")),
    )
    op.create_index(op.f("ix_oauth_refresh_tokens_grant_id"), "oauth_refresh_tokens", ["grant_id"], unique=False)

    op.create_table(
        "oauth_client_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("client_pk", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        _when("created_at"),
        _when("expires_at"),
        _when("revoked_at", nullable=True),
        _fk("oauth_client_tokens", "tenant_id", "tenants.id"),
        _fk("oauth_client_tokens", "client_pk", "oauth_clients.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_client_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_oauth_client_tokens_token_hash")),
    )
    op.create_index(op.f("ix_oauth_client_tokens_tenant_id"), "oauth_client_tokens", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_oauth_client_tokens_client_pk"), "oauth_client_tokens", ["client_pk"], unique=False)

    op.create_table(
        "oauth_consents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("client_pk", sa.Uuid(), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        _when("created_at"),
        _when("updated_at"),
        _fk("oauth_consents", "tenant_id", "tenants.id"),
        _fk("oauth_consents", "user_id", "users.id"),
        _fk("oauth_consents", "client_pk", "oauth_clients.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_consents")),
        sa.UniqueConstraint("user_id", "client_pk", name=op.f("uq_oauth_consents_user_id_client_pk")),
    )
    op.create_index(op.f("ix_oauth_consents_tenant_id"), "oauth_consents", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_oauth_consents_client_pk"), "oauth_consents", ["client_pk"], unique=False)

    with op.batch_alter_table("personal_access_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_id", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_personal_access_tokens_client_id"), ["client_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("personal_access_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_personal_access_tokens_client_id"))
        batch_op.drop_column("client_id")
    for table in (
        "oauth_consents",
        "oauth_client_tokens",
        "oauth_refresh_tokens",
        "oauth_codes",
        "oauth_grants",
        "oauth_authorization_requests",
        "oauth_clients",
    ):
        op.drop_table(table)

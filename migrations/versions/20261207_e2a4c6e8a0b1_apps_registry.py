"""apps: the service registry, health history and who may use each app

Revision ID: e2a4c6e8a0b1
Revises: d4f6a8c0e2b5
Create Date: 2026-12-07 13:15:00.000000

Services are platform-wide (`app_services`, one row per slug); their health checks are kept 7 days (at most 2,000
per service, `ix_app_service_checks_service_checked` serves both the history and the pruning). Settings and grants
belong to a tenant and a service and go with either.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e2a4c6e8a0b1"
down_revision: str | None = "d4f6a8c0e2b5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _grants_table(name: str, who: str, who_table: str) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.Column(who, sa.Uuid(), nullable=False),
        sa.Column("granted_by", sa.Uuid(), nullable=True),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["granted_by"], ["users.id"], name=op.f(f"fk_{name}_granted_by_users"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint([who], [f"{who_table}.id"], name=op.f(f"fk_{name}_{who}_{who_table}"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["service_id"], ["app_services.id"], name=op.f(f"fk_{name}_service_id_app_services"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f(f"fk_{name}_tenant_id_tenants"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
        sa.UniqueConstraint("service_id", who, name=op.f(f"uq_{name}_service_id_{who}")),
    )
    with op.batch_alter_table(name, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{name}_{who}"), [who], unique=False)
        batch_op.create_index(f"ix_{name}_tenant_service", ["tenant_id", "service_id"], unique=False)


def upgrade() -> None:
    op.create_table(
        "app_services",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("base_url", sa.String(length=2048), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("icon", sa.Text(), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("manifest", sa.JSON(), nullable=False),
        sa.Column("manifest_fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("status_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=1000), nullable=False),
        sa.Column("last_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_services")),
        sa.UniqueConstraint("slug", name=op.f("uq_app_services_slug")),
    )
    op.create_table(
        "app_service_checks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"], ["app_services.id"], name=op.f("fk_app_service_checks_service_id_app_services"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_service_checks")),
    )
    with op.batch_alter_table("app_service_checks", schema=None) as batch_op:
        batch_op.create_index("ix_app_service_checks_service_checked", ["service_id", "checked_at"], unique=False)
    op.create_table(
        "app_service_settings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"], ["app_services.id"], name=op.f("fk_app_service_settings_service_id_app_services"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_app_service_settings_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_app_service_settings_updated_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_service_settings")),
        sa.UniqueConstraint("service_id", "tenant_id", name=op.f("uq_app_service_settings_service_id_tenant_id")),
    )
    with op.batch_alter_table("app_service_settings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_app_service_settings_tenant_id"), ["tenant_id"], unique=False)
    _grants_table("app_user_permissions", "user_id", "users")
    _grants_table("app_group_permissions", "group_id", "groups")


def downgrade() -> None:
    for name, who in (("app_group_permissions", "group_id"), ("app_user_permissions", "user_id")):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{name}_tenant_service")
            batch_op.drop_index(batch_op.f(f"ix_{name}_{who}"))
        op.drop_table(name)
    with op.batch_alter_table("app_service_settings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_app_service_settings_tenant_id"))
    op.drop_table("app_service_settings")
    with op.batch_alter_table("app_service_checks", schema=None) as batch_op:
        batch_op.drop_index("ix_app_service_checks_service_checked")
    op.drop_table("app_service_checks")
    op.drop_table("app_services")

"""ops: metrics (series and their samples in raw, 1-minute and 1-hour tiers)

Revision ID: c6e8a0c2e4f6
Revises: b5d7f9b1d3e4
Create Date: 2026-12-08 10:00:00.000000

A series is a metric name with one set of labels (`labels_key`: the canonical string, unique with the name). Samples
are keyed by (series_id, at) with `at` in whole epoch seconds; the index on `at` serves the retention deletes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c6e8a0c2e4f6"
down_revision: str | None = "b5d7f9b1d3e4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIERS = ("metric_samples_minute", "metric_samples_hour")


def upgrade() -> None:
    op.create_table(
        "metric_series",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("labels_key", sa.String(length=2000), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_series")),
        sa.UniqueConstraint("name", "labels_key", name=op.f("uq_metric_series_name_labels_key")),
    )
    with op.batch_alter_table("metric_series", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_metric_series_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "metric_samples_raw",
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["series_id"], ["metric_series.id"], name=op.f("fk_metric_samples_raw_series_id_metric_series"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("series_id", "at", name=op.f("pk_metric_samples_raw")),
    )
    with op.batch_alter_table("metric_samples_raw", schema=None) as batch_op:
        batch_op.create_index("ix_metric_samples_raw_at", ["at"], unique=False)

    for table in TIERS:
        op.create_table(
            table,
            sa.Column("series_id", sa.Integer(), nullable=False),
            sa.Column("at", sa.BigInteger(), autoincrement=False, nullable=False),
            sa.Column("min", sa.Float(), nullable=False),
            sa.Column("max", sa.Float(), nullable=False),
            sa.Column("sum", sa.Float(), nullable=False),
            sa.Column("count", sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(
                ["series_id"], ["metric_series.id"], name=op.f(f"fk_{table}_series_id_metric_series"), ondelete="CASCADE"
            ),
            sa.PrimaryKeyConstraint("series_id", "at", name=op.f(f"pk_{table}")),
        )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(f"ix_{table}_at", ["at"], unique=False)


def downgrade() -> None:
    for table in ("metric_samples_hour", "metric_samples_minute", "metric_samples_raw"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table}_at")
        op.drop_table(table)
    with op.batch_alter_table("metric_series", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_metric_series_tenant_id"))
    op.drop_table("metric_series")

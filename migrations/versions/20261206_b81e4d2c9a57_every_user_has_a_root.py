"""Every user has a root folder: made with the user from now on, here for those made before.

Revision ID: b81e4d2c9a57
Revises: 3f9a2c7d4e10
Create Date: 2026-12-06
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "b81e4d2c9a57"
down_revision: str | None = "3f9a2c7d4e10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    connection = op.get_bind()
    missing = connection.execute(
        sa.text(
            "SELECT u.id, u.tenant_id FROM users u WHERE NOT EXISTS "
            "(SELECT 1 FROM file_nodes n WHERE n.owner_id = u.id AND n.parent_id IS NULL)"
        ).columns(id=sa.Uuid(), tenant_id=sa.Uuid())
    ).all()
    if not missing:
        return
    nodes = sa.table(
        "file_nodes",
        sa.column("id", sa.Uuid()),
        sa.column("tenant_id", sa.Uuid()),
        sa.column("owner_id", sa.Uuid()),
        sa.column("parent_id", sa.Uuid()),
        sa.column("kind", sa.String()),
        sa.column("name", sa.String()),
        sa.column("name_key", sa.String()),
        sa.column("size", sa.BigInteger()),
        sa.column("content_type", sa.String()),
        sa.column("version_no", sa.Integer()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
        sa.column("in_trash", sa.Boolean()),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        nodes,
        [
            {
                "id": uuid.uuid4(),
                "tenant_id": tenant_id,
                "owner_id": user_id,
                "parent_id": None,
                "kind": "root",
                "name": "",
                "name_key": "",
                "size": 0,
                "content_type": "",
                "version_no": 1,
                "created_at": now,
                "updated_at": now,
                "in_trash": False,
            }
            for user_id, tenant_id in missing
        ],
    )


def downgrade() -> None:
    # Roots are data every user keeps; an empty root made here is indistinguishable from one made on first use.
    pass

"""file_nodes.parent_id without ON DELETE CASCADE: no recursion through a deep tree (SQLite stops at 1,000 levels)

Revision ID: 3f9a2c7d4e10
Revises: 546d96619efd
Create Date: 2026-12-06 16:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "3f9a2c7d4e10"
down_revision: str | None = "546d96619efd"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FK = "fk_file_nodes_parent_id_file_nodes"


def _parent_key(ondelete: str | None) -> None:
    with op.batch_alter_table("file_nodes") as batch:
        batch.drop_constraint(FK, type_="foreignkey")
        batch.create_foreign_key(FK, "file_nodes", ["parent_id"], ["id"], ondelete=ondelete)


def upgrade() -> None:
    _parent_key(None)


def downgrade() -> None:
    _parent_key("CASCADE")

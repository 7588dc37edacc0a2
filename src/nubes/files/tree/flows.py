"""Work across domains for the tree: every user gets their root folder in the transaction that makes them.

Registered when this module is imported, which the files manifest does: any process that can make a user
(the server, `nubes` CLI commands, the tests) has loaded the manifests through the permission catalog.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.engine import Connection

from nubes.files.tree.models import FileNode
from nubes.identity.users.models import User


@event.listens_for(User, "after_insert")
def _add_root(_mapper: Any, connection: Connection, user: User) -> None:
    # Core INSERT on the flush's own connection: a mapper event must not add objects to the session.
    connection.execute(
        insert(FileNode).values(
            id=uuid.uuid4(), tenant_id=user.tenant_id, owner_id=user.id, parent_id=None, kind="root", name="", name_key=""
        )
    )

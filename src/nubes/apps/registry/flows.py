"""Work across domains for the registry: every new tenant gets each registered service's `<slug>-admin` group in the
transaction that makes it.

Registered when this module is imported, which the apps manifest does (as files' tree flows are): any process that
can make a tenant has loaded the manifests through the permission catalog. Tenants made before a service existed
get its group when the service is registered, and at each start (`service.register_configured`).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import event, insert, select
from sqlalchemy.engine import Connection

from nubes.apps.registry.manifest import admin_group_description, admin_group_name
from nubes.apps.registry.models import AppService
from nubes.core.db import utcnow
from nubes.identity.groups.models import Group
from nubes.identity.tenants.models import Tenant


@event.listens_for(Tenant, "after_insert")
def _add_service_admin_groups(_mapper: Any, connection: Connection, tenant: Tenant) -> None:
    # Core statements on the flush's own connection: a mapper event must not add objects to the session.
    slugs = list(connection.scalars(select(AppService.slug)))
    if slugs:
        connection.execute(
            insert(Group),
            [
                {
                    "id": uuid.uuid4(), "tenant_id": tenant.id, "name": admin_group_name(slug),
                    "description": admin_group_description(slug), "created_at": utcnow(),
                }
                for slug in slugs
            ],
        )  # fmt: skip

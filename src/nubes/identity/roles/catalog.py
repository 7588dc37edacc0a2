"""The permission catalog (every domain's codes, collected from the manifests) and the built-in roles every tenant gets."""

from __future__ import annotations

from nubes.core.permissions import Permission
from nubes.domains import DOMAINS

CATALOG: tuple[Permission, ...] = tuple(permission for domain in DOMAINS for permission in domain.permissions)
"""Every permission code of every domain (nubes.domains), in the order GET /api/admin/permissions lists them."""
CODES: frozenset[str] = frozenset(permission.code for permission in CATALOG)

# Built-in roles: name -> (description, parent role it inherits from, its own permissions). A tenant's built-in
# role rows keep their ids and parents; their permissions are read from here (service.role_graph), so a code added
# here reaches every tenant without a data migration.
_MEMBER = frozenset(
    {
        "files.read",
        "files.write",
        "files.share",
        "documents.read",
        "documents.write",
        "apps.use",
        "containers.read",
        "workspaces.use",
        "mail.use",
    }
)
BUILTIN_ROLES: dict[str, tuple[str, str | None, frozenset[str]]] = {
    "viewer": (
        "Sees the tenant's shared content, changes nothing",
        None,
        frozenset({"files.read", "documents.read", "containers.read"}),
    ),
    "member": ("Everyday use: files, documents, apps, workspaces, mail", "viewer", _MEMBER),
    "admin": (
        "Runs the tenant: users, roles, groups, settings, audit, containers",
        "member",
        frozenset(
            {"admin.users", "admin.roles", "admin.groups", "admin.audit", "admin.settings", "apps.manage", "documents.manage"}
        )
        | frozenset({"containers.manage", "containers.console", "ops.monitor", "ops.alerts"}),
    ),
    "owner": ("Everything in the tenant", "admin", CODES),
    # One per service with an admin group (Domain.admin_permissions): held through the group of the same name.
    **{
        f"{domain.name}-admin": (f"Manages {domain.title} for the organization", None, frozenset(domain.admin_permissions))
        for domain in DOMAINS
        if domain.admin_permissions
    },
}
SERVICE_ADMIN_GROUPS: dict[str, str] = {
    f"{domain.name}-admin": f"Members manage {domain.title} (its settings and shared vocabularies)"
    for domain in DOMAINS
    if domain.admin_permissions
}
"""The group every tenant gets per service with an admin role, by name (the role of the same name is its grant)."""

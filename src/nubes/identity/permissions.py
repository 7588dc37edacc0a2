"""The permission catalog and the built-in roles every tenant gets."""

from __future__ import annotations

from nubes.compute import permissions as compute_permissions
from nubes.core.permissions import Permission
from nubes.files import permissions as files_permissions
from nubes.ops import permissions as ops_permissions

PERMISSIONS: tuple[Permission, ...] = (
    Permission("tenant.manage", "Rename the tenant, set its quotas and policies, hand over ownership"),
    Permission("admin.users", "Create, change and deactivate users of the tenant"),
    Permission("admin.roles", "Create and change roles and assign them"),
    Permission("admin.groups", "Create groups and manage their members"),
    Permission("admin.audit", "Read and export the tenant's audit log"),
    Permission("admin.settings", "Change the tenant's settings and policies"),
)
"""The identity domain's own codes."""

# Codes of domains that are planned but not built yet; each moves to its domain's permissions.py when it lands.
_DOCUMENTS_AND_APPS: tuple[Permission, ...] = (
    Permission("documents.read", "See documents"),
    Permission("documents.write", "Add and change documents"),
    Permission("apps.use", "Sign in to apps with Nubes"),
    Permission("apps.manage", "Register apps and OAuth clients"),
)
_WORKSPACES_AND_MAIL: tuple[Permission, ...] = (
    Permission("workspaces.use", "Open IDE workspaces"),
    Permission("mail.use", "Read and send mail"),
)

CATALOG: tuple[Permission, ...] = (
    *PERMISSIONS,
    *files_permissions.PERMISSIONS,
    *_DOCUMENTS_AND_APPS,
    *compute_permissions.PERMISSIONS,
    *_WORKSPACES_AND_MAIL,
    *ops_permissions.PERMISSIONS,
)
"""Every permission code of every domain, in the order GET /api/admin/permissions lists them."""
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
        frozenset({"admin.users", "admin.roles", "admin.groups", "admin.audit", "admin.settings", "apps.manage"})
        | frozenset({"containers.manage", "containers.console", "ops.monitor"}),
    ),
    "owner": ("Everything in the tenant", "admin", CODES),
}

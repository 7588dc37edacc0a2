"""The permission catalog and the built-in roles every tenant gets."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Permission:
    """One permission code and what it allows."""

    code: str
    description: str


CATALOG: tuple[Permission, ...] = (
    Permission("tenant.manage", "Rename the tenant, set its quotas and policies, hand over ownership"),
    Permission("admin.users", "Create, change and deactivate users of the tenant"),
    Permission("admin.roles", "Create and change roles and assign them"),
    Permission("admin.groups", "Create groups and manage their members"),
    Permission("admin.audit", "Read and export the tenant's audit log"),
    Permission("admin.settings", "Change the tenant's settings and policies"),
    Permission("files.read", "See and download files"),
    Permission("files.write", "Upload, change, move and delete files"),
    Permission("files.share", "Share files with people and create public links"),
    Permission("documents.read", "See documents"),
    Permission("documents.write", "Add and change documents"),
    Permission("apps.use", "Sign in to apps with Nubes"),
    Permission("apps.manage", "Register apps and OAuth clients"),
    Permission("containers.read", "See containers, their logs and stats"),
    Permission("containers.manage", "Create, power and delete containers"),
    Permission("containers.console", "Open a container's console and files"),
    Permission("workspaces.use", "Open IDE workspaces"),
    Permission("mail.use", "Read and send mail"),
    Permission("ops.monitor", "See monitoring and metrics"),
)
CODES: frozenset[str] = frozenset(permission.code for permission in CATALOG)

# Built-in roles: name -> (description, parent role it inherits from, its own permissions).
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

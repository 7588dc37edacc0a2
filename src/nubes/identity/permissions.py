"""The permission codes of the identity domain."""

from __future__ import annotations

from nubes.core.permissions import Permission

PERMISSIONS: tuple[Permission, ...] = (
    Permission("tenant.manage", "Rename the tenant, set its quotas and policies, hand over ownership"),
    Permission("admin.users", "Create, change and deactivate users of the tenant"),
    Permission("admin.roles", "Create and change roles and assign them"),
    Permission("admin.groups", "Create groups and manage their members"),
    Permission("admin.audit", "Read and export the tenant's audit log"),
    Permission("admin.settings", "Change the tenant's settings and policies"),
)
"""The identity domain's own codes."""

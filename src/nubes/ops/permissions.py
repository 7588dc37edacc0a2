"""The permission codes of the ops domain."""

from __future__ import annotations

from nubes.core.permissions import Permission

PERMISSIONS: tuple[Permission, ...] = (
    Permission("ops.monitor", "See monitoring and metrics (a tenant admin sees the tenant's share)"),
    Permission("ops.alerts", "Manage alert rules, notification targets and silences"),
)

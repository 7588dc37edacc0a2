"""The permission codes of the compute domain."""

from __future__ import annotations

from nubes.core.permissions import Permission

PERMISSIONS: tuple[Permission, ...] = (
    Permission("containers.read", "See containers, their logs and stats"),
    Permission("containers.manage", "Create, power and delete containers"),
    Permission("containers.console", "Open a container's console and files"),
)

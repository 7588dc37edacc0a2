"""The permission codes of the ops domain."""

from __future__ import annotations

from nubes.core.permissions import Permission

PERMISSIONS: tuple[Permission, ...] = (Permission("ops.monitor", "See monitoring and metrics"),)

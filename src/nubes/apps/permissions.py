"""The apps domain's permission codes."""

from __future__ import annotations

from nubes.core.permissions import Permission

PERMISSIONS = (
    Permission("apps.use", "Open the apps you are allowed to use and sign in to apps with Nubes"),
    Permission("apps.manage", "Register services and OAuth clients, and grant who may use each app"),
)

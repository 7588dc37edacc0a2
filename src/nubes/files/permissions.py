"""The permission codes of the files domain."""

from __future__ import annotations

from nubes.core.permissions import Permission

PERMISSIONS: tuple[Permission, ...] = (
    Permission("files.read", "See and download files"),
    Permission("files.write", "Upload, change, move and delete files"),
    Permission("files.share", "Share files with people and create public links"),
)

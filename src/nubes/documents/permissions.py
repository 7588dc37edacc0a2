"""The permission codes of the documents domain."""

from __future__ import annotations

from nubes.core.permissions import Permission

PERMISSIONS: tuple[Permission, ...] = (
    Permission("documents.read", "See documents"),
    Permission("documents.write", "Add and change documents"),
    Permission("documents.manage", "Manage the organization's document types, correspondents, tags and categories"),
)

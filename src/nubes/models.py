"""Every domain's tables, imported in one place so migrations see the whole schema."""

from nubes.core.audit import AuditEvent
from nubes.core.db import Base
from nubes.files.models import FileFavorite, FileNameTerm, FileNode, FileVersion, StorageUsage
from nubes.identity.models import (
    Group,
    GroupMember,
    GroupRole,
    PersonalAccessToken,
    RefreshToken,
    Role,
    RolePermission,
    Session,
    SigningKey,
    Tenant,
    User,
    UserRole,
)
from nubes.ops.models import SystemSetting

__all__ = [
    "AuditEvent",
    "Base",
    "FileFavorite",
    "FileNameTerm",
    "FileNode",
    "FileVersion",
    "Group",
    "GroupMember",
    "GroupRole",
    "PersonalAccessToken",
    "RefreshToken",
    "Role",
    "RolePermission",
    "Session",
    "SigningKey",
    "StorageUsage",
    "SystemSetting",
    "Tenant",
    "User",
    "UserRole",
]

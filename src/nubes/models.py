"""Every domain's tables, imported in one place so migrations see the whole schema."""

from nubes.core.audit import AuditEvent
from nubes.core.db import Base
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
    "Group",
    "GroupMember",
    "GroupRole",
    "PersonalAccessToken",
    "RefreshToken",
    "Role",
    "RolePermission",
    "Session",
    "SigningKey",
    "SystemSetting",
    "Tenant",
    "User",
    "UserRole",
]

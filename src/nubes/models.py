"""Every domain's tables, imported in one place so migrations see the whole schema."""

from nubes.compute.models import Allocation, Cluster, Container, Egg, EggCategory, Job, Node
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
    "Allocation",
    "AuditEvent",
    "Base",
    "Cluster",
    "Container",
    "Egg",
    "EggCategory",
    "Group",
    "GroupMember",
    "GroupRole",
    "Job",
    "Node",
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

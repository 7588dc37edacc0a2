"""Every domain's tables, imported in one place so migrations see the whole schema."""

from nubes.core.audit import AuditEvent
from nubes.core.db import Base
from nubes.core.mail import OutboxMail
from nubes.files.models import FileFavorite, FileNameTerm, FileNode, FileVersion, StorageUsage
from nubes.identity.models import (
    AccountToken,
    Group,
    GroupMember,
    GroupRole,
    LoginChallenge,
    Passkey,
    PersonalAccessToken,
    RecoveryCode,
    RefreshToken,
    Role,
    RolePermission,
    Session,
    SigningKey,
    Tenant,
    TotpSecret,
    User,
    UserRole,
)
from nubes.ops.models import SystemSetting

__all__ = [
    "AccountToken",
    "AuditEvent",
    "Base",
    "FileFavorite",
    "FileNameTerm",
    "FileNode",
    "FileVersion",
    "Group",
    "GroupMember",
    "GroupRole",
    "LoginChallenge",
    "OutboxMail",
    "Passkey",
    "PersonalAccessToken",
    "RecoveryCode",
    "RefreshToken",
    "Role",
    "RolePermission",
    "Session",
    "SigningKey",
    "StorageUsage",
    "SystemSetting",
    "Tenant",
    "TotpSecret",
    "User",
    "UserRole",
]

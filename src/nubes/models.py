"""Every domain's tables, imported in one place so migrations see the whole schema."""

from nubes.compute.models import Allocation, Cluster, Container, Egg, EggCategory, Job, Node
from nubes.core.audit import AuditEvent
from nubes.core.db import Base
from nubes.core.mail import OutboxMail
from nubes.files.links.models import LinkPolicy, PublicLink
from nubes.files.quota.models import StorageUsage
from nubes.files.sharing.models import FileShare
from nubes.files.thumbnails.models import FileThumbnail
from nubes.files.tree.models import FileFavorite, FileNameTerm, FileNode
from nubes.files.uploads.models import FileUpload
from nubes.files.versions.models import FileVersion, TenantFilesSettings
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
    "Allocation",
    "AuditEvent",
    "Base",
    "Cluster",
    "Container",
    "Egg",
    "EggCategory",
    "FileFavorite",
    "FileNameTerm",
    "FileNode",
    "FileShare",
    "FileThumbnail",
    "FileUpload",
    "FileVersion",
    "Group",
    "GroupMember",
    "GroupRole",
    "Job",
    "LinkPolicy",
    "LoginChallenge",
    "Node",
    "OutboxMail",
    "Passkey",
    "PersonalAccessToken",
    "PublicLink",
    "RecoveryCode",
    "RefreshToken",
    "Role",
    "RolePermission",
    "Session",
    "SigningKey",
    "StorageUsage",
    "SystemSetting",
    "Tenant",
    "TenantFilesSettings",
    "TotpSecret",
    "User",
    "UserRole",
]

"""Every domain's tables, imported in one place so migrations see the whole schema."""

from nubes.compute.clusters.models import Cluster
from nubes.compute.containers.models import Container
from nubes.compute.eggs.models import Egg, EggCategory
from nubes.compute.jobs.models import Job
from nubes.compute.nodes.models import Allocation, Node
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
from nubes.identity.groups.models import Group, GroupMember, GroupRole
from nubes.identity.mfa.models import LoginChallenge, Passkey, RecoveryCode, TotpSecret
from nubes.identity.roles.models import Role, RolePermission, UserRole
from nubes.identity.sessions.models import PersonalAccessToken, RefreshToken, Session, SigningKey
from nubes.identity.tenants.models import Tenant
from nubes.identity.users.models import AccountToken, User
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

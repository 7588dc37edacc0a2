"""The files domain in the generic suites: public links and presigned URLs, bodies, and tenant A's objects."""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from nubes.core.db import utcnow
from nubes.files.links.models import PublicLink
from nubes.files.nextcloud.models import LoginFlow
from nubes.files.sharing.models import FileShare
from nubes.files.tree.models import FileNode
from nubes.files.uploads import service as uploads
from nubes.files.uploads.models import FileUpload
from nubes.files.versions.models import FileVersion
from nubes.identity.sessions.tokens import hash_token
from tests.access import TenantA

PUBLIC = frozenset(
    {
        # Public links: the 256-bit token in the path is the credential (plus the link's password when it has one).
        "public-link-get",
        "public-link-unlock",
        "public-link-download",
        "public-link-upload",
        # Presigned Nubes URLs: the path's token is the credential (an HMAC over the upload or file and an
        # expiry, keyed from the server secret; an upload token is single use). tests/files/test_presign.py.
        "blobs-presigned-put",
        "blobs-presigned-get",
    }
)
# Public operations whose path token is checked here anyway: tenant B's forged token must be refused.
TOKEN_CHECKED = frozenset({"blobs-presigned-put", "blobs-presigned-get"})

BODIES: dict[str, dict[str, Any]] = {
    "files-update": {"name": "renamed by another tenant"},
    "files-copy": {},
    "files-replace-content": {"overwritten": "by another tenant"},
    "admin-users-quota": {"quota_bytes": 0},
    "files-shares-create": {"group_id": "00000000-0000-4000-8000-000000000000", "permission": "view"},
    "files-shares-update": {"permission": "reshare"},
    "files-links-create": {"kind": "view"},
    "files-links-update": {"kind": "edit"},
    "admin-settings-links-update": {"max_expiry_days": 1},
    "public-link-unlock": {"password": "x"},
    "uploads-append": {"appended": "by another tenant"},
    "blobs-presigned-put": {"put": "with a forged token"},
    "admin-tenants-files-settings-update": {"keep_versions": 0, "keep_days": 0},
}


async def objects(tenant_a: TenantA) -> dict[str, str]:
    """The member's file with an old version, a group share, a view link, an upload in progress and its token."""
    session = tenant_a.session
    tenant_id, member_id = uuid.UUID(tenant_a.ids["tenant_id"]), uuid.UUID(tenant_a.ids["user_id"])
    root = await session.scalar(select(FileNode).where(FileNode.owner_id == member_id, FileNode.parent_id.is_(None)))
    assert root is not None  # made with the user
    file = FileNode(
        tenant_id=tenant_id, owner_id=member_id, parent_id=root.id, kind="file", name="a.txt", name_key="a.txt",
        size=1, blob_key="ab" * 16, sha256="0" * 64, version_no=2,
    )  # fmt: skip
    session.add(file)
    await session.flush()
    version = FileVersion(tenant_id=tenant_id, file_id=file.id, version_no=1, size=1, blob_key="cd" * 16, sha256="1" * 64)
    file_share = FileShare(
        tenant_id=tenant_id, node_id=file.id, owner_id=member_id, group_id=uuid.UUID(tenant_a.ids["group_id"]),
        permission="view", created_by=member_id,
    )  # fmt: skip
    link = PublicLink(
        tenant_id=tenant_id, node_id=file.id, owner_id=member_id, created_by=member_id, kind="view",
        token_hash="e" * 64, token_sealed="v1.sealed",
    )  # fmt: skip
    upload = FileUpload(
        tenant_id=tenant_id, owner_id=member_id, kind="tus", length=10, parent_id=root.id, name="u.bin",
        staging_key="ef" * 16, reserved=10, expires_at=utcnow() + timedelta(hours=1),
    )  # fmt: skip
    session.add_all([version, file_share, link, upload])
    await session.flush()
    return {
        "file_id": str(file.id),
        "version_id": str(version.id),
        "share_id": str(file_share.id),
        "link_id": str(link.id),
        "upload_id": str(upload.id),
        # A presigned-URL token for tenant A's upload, signed with a key that is not the server's.
        "token": uploads.make_token("not-the-server-secret", "upload", str(upload.id), utcnow() + timedelta(hours=1)),
        # A Nextcloud client's sign-in request that tenant A's member answered already (a pending one is anyone's
        # to answer: its login URL is the credential, and it signs the client in as whoever grants it).
        "login_token": await _answered_login_flow(tenant_a, tenant_id, member_id),
    }


async def _answered_login_flow(tenant_a: TenantA, tenant_id: uuid.UUID, member_id: uuid.UUID) -> str:
    login_token = secrets.token_urlsafe(32)
    tenant_a.session.add(
        LoginFlow(
            poll_token_hash=hash_token(secrets.token_urlsafe(32)),
            login_token_hash=hash_token(login_token),
            client_name="Nextcloud desktop client",
            state="granted",
            tenant_id=tenant_id,
            user_id=member_id,
            login_name="member",
            password_sealed="v1.sealed",
            expires_at=utcnow() + timedelta(minutes=20),
        )
    )
    await tenant_a.session.flush()
    return login_token

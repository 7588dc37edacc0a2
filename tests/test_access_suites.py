"""Suites every route joins by being in the OpenAPI schema: authentication required, and tenant isolation.

- Every operation not listed in PUBLIC answers 401 without credentials.
- Every operation with an object id in its path, called by the owner of another tenant on tenant A's
  object, answers 404 (or 403) and changes nothing in the database.

A new route with a new path parameter fails here until its kind of object is added to
`objects_of_tenant_a` (and a body to BODIES when the route needs one): that is the point.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.compute.clusters.models import Cluster
from nubes.compute.containers.models import Container
from nubes.compute.eggs.models import Egg, EggCategory
from nubes.compute.jobs.models import Job
from nubes.compute.nodes.models import Node
from nubes.config import Settings
from nubes.core.db import utcnow
from nubes.files.links.models import PublicLink
from nubes.files.sharing.models import FileShare
from nubes.files.tree.models import FileNode
from nubes.files.uploads import service as uploads
from nubes.files.uploads.models import FileUpload
from nubes.files.versions.models import FileVersion
from nubes.identity.groups.models import Group, GroupMember
from nubes.identity.mfa.models import Passkey
from nubes.identity.roles.models import Role
from nubes.identity.sessions.models import PersonalAccessToken, Session
from tests.factories import login, make_tenant, make_user
from tests.snapshots import database_snapshot

# Operations anyone may call (operationId). Keep this list short and deliberate.
PUBLIC = {
    "health",
    "ready",
    "version",
    "auth-login",
    "auth-refresh",
    "auth-logout",
    "auth-jwks",
    # Sign-up, mailed links and the second sign-in step: each proves itself with its own one-time secret.
    "auth-options",
    "auth-register",
    "auth-verify-email",
    "auth-verify-email-request",
    "auth-password-reset-request",
    "auth-password-reset",
    "auth-login-mfa",
    "auth-passkey-options",
    "auth-passkey-login",
    # An agent trades its one-time registration token for a node credential.
    "nodes-register",
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
# Public operations whose path token is checked here anyway: tenant B's forged token must be refused.
TOKEN_CHECKED = frozenset({"blobs-presigned-put", "blobs-presigned-get"})

# Operations on platform-wide catalog objects every tenant may read (not tenant-owned, so not isolated).
SHARED_CATALOG = {"eggs-get"}

# Bodies for operations that need one to get past validation (so the test reaches the authorization check).
BODIES: dict[str, dict[str, Any]] = {
    "users-me-password": {"current_password": "x", "new_password": "y"},
    "admin-users-create": {"username": "intruder", "password": "Intruder-Password-2024!"},
    "admin-users-update": {"display_name": "changed by another tenant", "is_active": False},
    "admin-tenants-create": {"name": "Intruders", "slug": "intruders"},
    "admin-tenants-update": {"status": "suspended"},
    "admin-roles-create": {"name": "intruder", "permissions": ["files.read"]},
    "admin-roles-update": {"permissions": ["tenant.manage"]},
    "admin-groups-create": {"name": "intruders"},
    "admin-groups-update": {"name": "renamed by another tenant"},
    "users-me-tokens-create": {"name": "probe", "scopes": ["files.read"]},
    "users-me-totp-confirm": {"code": "123456"},
    "users-me-totp-disable": {"password": "x"},
    "users-me-recovery-codes": {"password": "x"},
    "users-me-passkeys-create": {"token": "x", "name": "probe", "credential": {}},
    "users-me-passkeys-update": {"name": "renamed by another tenant"},
    "admin-settings-registration-update": {"enabled": True},
    "files-update": {"name": "renamed by another tenant"},
    "files-copy": {},
    "files-replace-content": {"overwritten": "by another tenant"},
    "admin-users-quota": {"quota_bytes": 0},
    "nodes-allocations-add": {"ip": "127.0.0.1", "ports": ["25600"]},
    "containers-power": {"action": "kill"},
    "files-shares-create": {"group_id": "00000000-0000-4000-8000-000000000000", "permission": "view"},
    "files-shares-update": {"permission": "reshare"},
    "files-links-create": {"kind": "view"},
    "files-links-update": {"kind": "edit"},
    "admin-settings-links-update": {"max_expiry_days": 1},
    "public-link-unlock": {"password": "x"},
    "uploads-append": {"appended": "by another tenant"},
    "blobs-presigned-put": {"put": "with a forged token"},
    "admin-tenants-files-settings-update": {"keep_versions": 0, "keep_days": 0},
    "eggs-update": {"name": "renamed by another tenant"},
    "containers-update": {"name": "renamed-by-another-tenant"},
    "egg-categories-update": {"name": "renamed by another tenant"},
    "containers-files-mkdir": {"path": "made-by-another-tenant"},
    "containers-files-rename": {"path": "a", "target": "b"},
    "containers-files-upload": {"overwritten": "by another tenant"},
}

_PARAM = re.compile(r"\{(\w+)\}")
_METHODS = ("get", "post", "put", "patch", "delete")


def _operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    schema = app.openapi()
    return [
        (method.upper(), path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in _METHODS
    ]


async def test_every_private_operation_requires_credentials(client: httpx.AsyncClient, app: FastAPI) -> None:
    checked = 0
    for method, path, operation in _operations(app):
        if operation["operationId"] in PUBLIC:
            continue
        url = _PARAM.sub(lambda _: str(uuid.uuid4()), path)
        response = await client.request(method, url, json=BODIES.get(operation["operationId"]))
        assert response.status_code == 401, f"{method} {path} answered {response.status_code} without credentials"
        checked += 1
    assert checked >= 10


ObjectFactory = Callable[[], Awaitable[str]]


@pytest.fixture
async def objects_of_tenant_a(session: AsyncSession, settings: Settings, client: httpx.AsyncClient) -> dict[str, ObjectFactory]:
    """One object of tenant A per kind of path parameter."""
    tenant = await make_tenant(session, "tenant-a")
    member = await make_user(session, settings, tenant, username="a-member")
    await login(client, member)
    device = await session.scalar(select(Session).where(Session.user_id == member.id))
    assert device is not None
    role = Role(tenant_id=tenant.id, name="a-custom")
    group = Group(tenant_id=tenant.id, name="a-team")
    session.add_all([role, group])
    await session.flush()
    session.add(GroupMember(group_id=group.id, user_id=member.id))
    token = PersonalAccessToken(
        tenant_id=tenant.id, user_id=member.id, name="a-token", token_hash="0" * 64, prefix="nbp_a", scopes=["files.read"]
    )
    passkey = Passkey(
        tenant_id=tenant.id, user_id=member.id, credential_id=b"a-credential", public_key=b"a-key", name="a-passkey"
    )
    session.add_all([token, passkey])
    root = await session.scalar(select(FileNode).where(FileNode.owner_id == member.id, FileNode.parent_id.is_(None)))
    assert root is not None  # made with the user
    file = FileNode(
        tenant_id=tenant.id, owner_id=member.id, parent_id=root.id, kind="file", name="a.txt", name_key="a.txt",
        size=1, blob_key="ab" * 16, sha256="0" * 64, version_no=2,
    )  # fmt: skip
    session.add(file)
    await session.flush()
    version = FileVersion(tenant_id=tenant.id, file_id=file.id, version_no=1, size=1, blob_key="cd" * 16, sha256="1" * 64)
    session.add(version)
    file_share = FileShare(
        tenant_id=tenant.id, node_id=file.id, owner_id=member.id, group_id=group.id, permission="view", created_by=member.id
    )
    link = PublicLink(
        tenant_id=tenant.id, node_id=file.id, owner_id=member.id, created_by=member.id, kind="view",
        token_hash="e" * 64, token_sealed="v1.sealed",
    )  # fmt: skip
    session.add_all([file_share, link])
    upload = FileUpload(
        tenant_id=tenant.id, owner_id=member.id, kind="tus", length=10, parent_id=root.id, name="u.bin",
        staging_key="ef" * 16, reserved=10, expires_at=utcnow() + timedelta(hours=1),
    )  # fmt: skip
    session.add(upload)
    cluster = Cluster(name="a-cluster")
    session.add(cluster)
    await session.flush()
    node = Node(cluster_id=cluster.id, name="a-node", cpu=100, memory_mb=1024, disk_mb=1024)
    category = EggCategory(name="a-category")
    session.add(category)
    await session.flush()
    egg = Egg(name="a-egg", document={}, category_id=category.id)
    session.add_all([node, egg])
    await session.flush()
    container = Container(
        tenant_id=tenant.id,
        name="a-container",
        egg_id=egg.id,
        node_id=node.id,
        image="x",
        cpu=10,
        memory_mb=64,
        disk_mb=64,
        startup="true",
        state="running",
    )
    session.add(container)
    await session.flush()
    job = Job(tenant_id=tenant.id, action="start", container_id=container.id, target_id=str(container.id), node_id=node.id)
    session.add(job)
    await session.flush()
    # Plain values: the snapshots expire ORM objects.
    ids = {
        "user_id": str(member.id),
        "session_id": str(device.id),
        "tenant_id": str(tenant.id),
        "role_id": str(role.id),
        "group_id": str(group.id),
        "token_id": str(token.id),
        "passkey_id": str(passkey.id),
        # Files and compute both name their id `node_id`: a file here (tenant-owned, so isolation is
        # tested); compute's node routes are for platform admins only and refuse tenant B regardless.
        "node_id": str(file.id),
        "version_id": str(version.id),
        "share_id": str(file_share.id),
        "link_id": str(link.id),
        "upload_id": str(upload.id),
        # A presigned-URL token for tenant A's upload, signed with a key that is not the server's.
        "token": uploads.make_token("not-the-server-secret", "upload", str(upload.id), utcnow() + timedelta(hours=1)),
        "egg_id": str(egg.id),
        # Platform-wide like eggs; changing one is for platform admins, so tenant B is refused (403).
        "category_id": str(category.id),
        "container_id": str(container.id),
        "job_id": str(job.id),
    }

    def factory(name: str) -> ObjectFactory:
        async def make() -> str:
            return ids[name]

        return make

    return {name: factory(name) for name in ids}


async def test_another_tenant_cannot_reach_tenant_a_objects(
    client: httpx.AsyncClient,
    app: FastAPI,
    session: AsyncSession,
    settings: Settings,
    objects_of_tenant_a: dict[str, ObjectFactory],
) -> None:
    tenant_b = await make_tenant(session, "tenant-b")
    owner_b = await login(client, await make_user(session, settings, tenant_b, username="b-owner", roles=("owner",)))
    checked = []
    for method, path, operation in _operations(app):
        names = _PARAM.findall(path)
        # Public operations are reached by a secret token, not a tenant's id: nothing to isolate by tenant.
        if not names or operation["operationId"] in SHARED_CATALOG | (PUBLIC - TOKEN_CHECKED):
            continue
        missing = [name for name in names if name not in objects_of_tenant_a]
        assert not missing, f"{method} {path}: add a tenant-A object for {missing} to objects_of_tenant_a"
        url = path
        for name in names:
            url = url.replace("{" + name + "}", await objects_of_tenant_a[name]())
        body = BODIES.get(operation["operationId"])
        if "requestBody" in operation and operation["requestBody"].get("required") and body is None:
            pytest.fail(f"{method} {path}: add a body for {operation['operationId']} to BODIES")
        before = await database_snapshot(session)
        response = await client.request(method, url, json=body, headers=owner_b.headers)
        assert response.status_code in {403, 404}, f"{method} {path} gave tenant B {response.status_code}: {response.text}"
        assert await database_snapshot(session) == before, f"{method} {path} changed tenant A's data for tenant B"
        checked.append(operation["operationId"])
    assert {
        "admin-users-get",
        "admin-users-update",
        "users-me-sessions-revoke",
        "admin-tenants-update",
        "admin-tenants-delete",
        "admin-roles-update",
        "admin-groups-members-add",
        "users-me-tokens-revoke",
        "users-me-passkeys-update",
        "users-me-passkeys-delete",
        "files-get",
        "files-download",
        "files-replace-content",
        "files-update",
        "files-copy",
        "files-trash",
        "files-version-download",
        "files-version-restore",
        "trash-purge",
        "admin-users-quota",
        "uploads-append",
        "uploads-terminate",
        "files-presign-download",
        "admin-tenants-files-settings",
        "admin-tenants-files-settings-update",
        "blobs-presigned-put",
        "blobs-presigned-get",
        "containers-get",
        "containers-power",
        "containers-delete",
        "containers-logs",
        "containers-update",
        "eggs-update",
        "egg-categories-update",
        "egg-categories-delete",
        "containers-files-list",
        "containers-files-download",
        "containers-files-upload",
        "containers-files-mkdir",
        "containers-files-rename",
        "containers-files-delete",
        "jobs-get",
        "nodes-revoke",
        "files-shares-create",
        "files-shares-list",
        "files-shares-update",
        "files-shares-delete",
        "files-links-create",
        "files-links-list",
        "files-links-update",
        "files-links-delete",
    } <= set(checked)

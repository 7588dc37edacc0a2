"""Version retention (keep N versions / N days, per tenant) and the admin route that sets it with the tenant quota."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core import jobs
from nubes.core.db import utcnow
from nubes.core.storage import LocalStorage, Storage
from nubes.files.versions import service as versions
from nubes.files.versions.models import FileVersion
from nubes.identity.tenants.models import Tenant
from tests.factories import SignedIn, login, make_tenant, make_user


@pytest.fixture
def storage(tmp_path: Path) -> Storage:
    """The disk backend only: retention changes rows and deletes blobs through the same calls on both backends."""
    return LocalStorage(tmp_path / "blobs", secret="test-secret")


@pytest.fixture
async def owner(client: httpx.AsyncClient, session: AsyncSession, settings: Settings, alice: SignedIn) -> SignedIn:
    tenant = await session.get_one(Tenant, alice.user.tenant_id)
    return await login(client, await make_user(session, settings, tenant, roles=("owner",)))


async def _write_versions(client: httpx.AsyncClient, alice: SignedIn, count: int) -> str:
    made = await client.post("/api/files/upload/raw", params={"name": "v.txt"}, content=b"v0", headers=alice.headers)
    file_id: str = made.json()["id"]
    for number in range(1, count + 1):
        response = await client.put(f"/api/files/{file_id}/content", content=f"v{number}".encode(), headers=alice.headers)
        assert response.status_code == 200
    return file_id


async def _used(client: httpx.AsyncClient, who: SignedIn) -> int:
    used: int = (await client.get("/api/users/me/quota", headers=who.headers)).json()["used_bytes"]
    return used


async def test_default_keeps_ten_versions(client: httpx.AsyncClient, alice: SignedIn, storage: Storage) -> None:
    file_id = await _write_versions(client, alice, 12)  # v0..v12: 12 earlier versions written
    versions = (await client.get(f"/api/files/{file_id}/versions", headers=alice.headers)).json()
    assert [version["version_no"] for version in versions] == list(range(12, 2, -1))
    await jobs.wait_for_after_commit()
    assert (await _used(client, alice)) == 3 + 8 * 2 + 2 * 3  # "v12" plus the ten kept contents v2..v11


async def test_admin_sets_retention_and_the_next_write_prunes(
    client: httpx.AsyncClient, alice: SignedIn, owner: SignedIn
) -> None:
    file_id = await _write_versions(client, alice, 5)
    url = f"/api/admin/tenants/{alice.user.tenant_id}/files-settings"
    read = await client.get(url, headers=owner.headers)
    assert read.status_code == 200
    assert read.json()["keep_versions"] == 10
    assert read.json()["keep_days"] == 0
    changed = await client.put(url, json={"keep_versions": 2, "keep_days": 0}, headers=owner.headers)
    assert changed.status_code == 200, changed.text
    assert changed.json()["keep_versions"] == 2
    before = await _used(client, alice)
    await client.put(f"/api/files/{file_id}/content", content=b"v6", headers=alice.headers)
    versions = (await client.get(f"/api/files/{file_id}/versions", headers=alice.headers)).json()
    assert [version["version_no"] for version in versions] == [6, 5]
    assert (await _used(client, alice)) == before + 2 - 4 * 2  # one new version in, four pruned
    # Members may not change it; a tenant owner may not raise their own quota.
    assert (await client.put(url, json={"keep_versions": 0, "keep_days": 0}, headers=alice.headers)).status_code == 403
    quota = await client.put(url, json={"keep_versions": 2, "keep_days": 0, "quota_bytes": 10**12}, headers=owner.headers)
    assert quota.status_code == 403
    assert (await client.put(url, json={"keep_versions": -1, "keep_days": 0}, headers=owner.headers)).status_code == 422


async def test_superadmin_sets_a_tenant_quota(
    client: httpx.AsyncClient, alice: SignedIn, session: AsyncSession, settings: Settings
) -> None:
    root_tenant = await make_tenant(session)
    platform = await login(client, await make_user(session, settings, root_tenant, roles=("owner",), superadmin=True))
    url = f"/api/admin/tenants/{alice.user.tenant_id}/files-settings"
    response = await client.put(url, json={"keep_versions": 3, "keep_days": 7, "quota_bytes": 10}, headers=platform.headers)
    assert response.status_code == 200, response.text
    assert response.json()["quota_bytes"] == 10
    assert (
        await client.post("/api/files/upload/raw", params={"name": "a"}, content=b"x" * 11, headers=alice.headers)
    ).status_code == 413
    assert (
        await client.post("/api/files/upload/raw", params={"name": "a"}, content=b"x" * 10, headers=alice.headers)
    ).status_code == 201
    # Another tenant's owner sees a 404 for this tenant.
    other = await login(client, await make_user(session, settings, await make_tenant(session), roles=("owner",)))
    assert (await client.get(url, headers=other.headers)).status_code == 404


async def test_sweep_applies_the_day_limit(
    client: httpx.AsyncClient, alice: SignedIn, session: AsyncSession, storage: Storage
) -> None:
    file_id = await _write_versions(client, alice, 3)
    await versions.set_files_settings(session=session, tenant_id=alice.user.tenant_id, keep_versions=0, keep_days=7)
    old = utcnow() - timedelta(days=8)
    await session.execute(update(FileVersion).where(FileVersion.version_no <= 2).values(created_at=old))
    before = await _used(client, alice)
    freed = await versions.sweep_versions(session=session, storage=storage)
    await session.commit()
    assert freed == 4
    remaining = list(await session.scalars(select(FileVersion.version_no).where(FileVersion.file_id == uuid.UUID(file_id))))
    assert remaining == [3]
    assert (await _used(client, alice)) == before - 4

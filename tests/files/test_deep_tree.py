"""Tree operations on a very deep tree (1,000 nested folders), on both databases: no 500, the quota stays right.

SQLite stops a chain of ON DELETE CASCADE at 1,000 levels ("too many levels of trigger recursion"),
so every tree operation must work level by level, never through the database's recursion.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core.principal import Principal
from nubes.files.tree import names, service
from nubes.files.tree.models import FileNode
from nubes.identity.tenants.models import Tenant
from tests.factories import SignedIn, login, make_tenant, make_user
from tests.files.test_tree import upload

# The tree's rules do not depend on the blob backend: the local disk is enough here.
pytestmark = pytest.mark.parametrize("storage", ["local"], indirect=True)

DEPTH = 1000
DATA = b"at the bottom"


async def nested(session: AsyncSession, who: SignedIn, depth: int = DEPTH, stem: str = "level") -> list[uuid.UUID]:
    """`depth` folders each inside the previous one, under the root (inserted directly: the API would take minutes)."""
    principal = Principal(user_id=who.user.id, tenant_id=who.user.tenant_id, username=who.user.username, permissions=frozenset())
    parent = await service.get_root(session=session, principal=principal)
    ids: list[uuid.UUID] = []
    parent_id = parent.id
    for level in range(depth):
        name = f"{stem} {level}"
        node = FileNode(
            id=uuid.uuid4(),
            tenant_id=who.user.tenant_id,
            owner_id=who.user.id,
            parent_id=parent_id,
            kind="folder",
            name=name,
            name_key=names.clash_key(name),
        )
        session.add(node)
        ids.append(node.id)
        parent_id = node.id
    await session.flush()
    return ids


async def used(client: httpx.AsyncClient, who: SignedIn) -> int:
    quota = (await client.get("/api/users/me/quota", headers=who.headers)).json()
    return int(quota["used_bytes"])


async def deep_tree(client: httpx.AsyncClient, session: AsyncSession, who: SignedIn) -> tuple[list[uuid.UUID], dict[str, Any]]:
    """1,000 nested folders with a file at the bottom."""
    ids = await nested(session, who)
    sent = await upload(client, who, "bottom.txt", DATA, str(ids[-1]))
    assert sent.status_code == 201, sent.text
    body: dict[str, Any] = sent.json()
    return ids, body


async def count_nodes(session: AsyncSession, who: SignedIn) -> int:
    return int(await session.scalar(select(func.count()).select_from(FileNode).where(FileNode.owner_id == who.user.id)) or 0)


async def test_deep_tree_is_trashed_restored_and_purged_one_by_one(
    client: httpx.AsyncClient, alice: SignedIn, session: AsyncSession
) -> None:
    before = await used(client, alice)
    ids, _ = await deep_tree(client, session, alice)
    assert await used(client, alice) == before + len(DATA)
    trashed = await client.delete(f"/api/files/{ids[0]}", headers=alice.headers)
    assert trashed.status_code == 200, trashed.text
    restored = await client.post(f"/api/trash/{ids[0]}/restore", headers=alice.headers)
    assert restored.status_code == 200, restored.text
    bottom = await client.get("/api/files", params={"parent_id": str(ids[-1])}, headers=alice.headers)
    assert [item["name"] for item in bottom.json()["items"]] == ["bottom.txt"]
    assert (await client.delete(f"/api/files/{ids[0]}", headers=alice.headers)).status_code == 200

    purged = await client.delete(f"/api/trash/{ids[0]}", headers=alice.headers)
    assert purged.status_code == 204, purged.text
    assert await used(client, alice) == before
    assert await count_nodes(session, alice) == 1  # the root alone


async def test_deep_tree_in_the_trash_is_emptied(client: httpx.AsyncClient, alice: SignedIn, session: AsyncSession) -> None:
    before = await used(client, alice)
    ids, _ = await deep_tree(client, session, alice)
    # A folder deep inside was deleted on its own first: emptying must handle a trashed node inside another.
    assert (await client.delete(f"/api/files/{ids[600]}", headers=alice.headers)).status_code == 200
    assert (await client.delete(f"/api/files/{ids[0]}", headers=alice.headers)).status_code == 200
    emptied = await client.delete("/api/trash", headers=alice.headers)
    assert emptied.status_code == 204, emptied.text
    assert await used(client, alice) == before
    assert await count_nodes(session, alice) == 1


async def test_deep_tree_is_copied_moved_and_zipped(client: httpx.AsyncClient, alice: SignedIn, session: AsyncSession) -> None:
    before = await used(client, alice)
    ids, _ = await deep_tree(client, session, alice)
    copied = await client.post(f"/api/files/{ids[0]}/copy", json={"name": "copy"}, headers=alice.headers)
    assert copied.status_code == 201, copied.text
    assert await used(client, alice) == before + 2 * len(DATA)
    assert await count_nodes(session, alice) == 1 + 2 * (DEPTH + 1)

    target = (await client.post("/api/files/folders", json={"name": "target"}, headers=alice.headers)).json()
    moved = await client.patch(f"/api/files/{ids[0]}", json={"parent_id": target["id"]}, headers=alice.headers)
    assert moved.status_code == 200, moved.text
    # Moving the tree into its own bottom is refused, however deep.
    cycle = await client.patch(f"/api/files/{target['id']}", json={"parent_id": str(ids[-1])}, headers=alice.headers)
    assert cycle.status_code == 422, cycle.text

    zipped = await client.get(f"/api/files/{ids[0]}/content", headers=alice.headers)
    assert zipped.status_code == 200, zipped.text
    with zipfile.ZipFile(io.BytesIO(zipped.content)) as archive:
        members = archive.namelist()
        assert len(members) == DEPTH  # 999 folders under the top one, and the file
        bottom = next(name for name in members if name.endswith("bottom.txt"))
        assert bottom.count("/") == DEPTH - 1
        assert archive.read(bottom) == DATA

    assert (await client.delete(f"/api/files/{target['id']}", headers=alice.headers)).status_code == 200
    assert (await client.delete(f"/api/files/{copied.json()['id']}", headers=alice.headers)).status_code == 200
    assert (await client.delete("/api/trash", headers=alice.headers)).status_code == 204
    assert await used(client, alice) == before
    assert await count_nodes(session, alice) == 1


async def test_a_tree_too_deep_for_a_zip_is_refused_before_sending(
    client: httpx.AsyncClient, alice: SignedIn, session: AsyncSession
) -> None:
    """GIVEN 300 nested folders with 250-character names (a path of 75 KB, past the 64 KB a zip entry can name)
    WHEN the top folder is downloaded as a zip
    THEN a clear 422 comes before any byte is sent, not a broken stream.
    """
    ids = await nested(session, alice, 300, stem="n" * 245)
    refused = await client.get(f"/api/files/{ids[0]}/content", headers=alice.headers)
    assert refused.status_code == 422, refused.text
    assert "nested too deep" in refused.json()["detail"]
    assert (await client.get(f"/api/files/{ids[100]}/content", headers=alice.headers)).status_code == 200


async def test_tenant_holding_a_deep_tree_is_deleted(
    client: httpx.AsyncClient, alice: SignedIn, session: AsyncSession, settings: Settings
) -> None:
    """GIVEN a tenant whose member holds 1,000 nested folders
    WHEN a super-admin deletes the tenant
    THEN it is gone with every node (no 500 from SQLite's cascade recursion limit)."""
    ids, _ = await deep_tree(client, session, alice)
    platform = await make_tenant(session)
    root = await login(client, await make_user(session, settings, platform, roles=("owner",), superadmin=True))
    tenant = await session.get(Tenant, alice.user.tenant_id)
    assert tenant is not None
    slug = tenant.slug
    deleted = await client.delete(f"/api/admin/tenants/{tenant.id}", params={"confirm": slug}, headers=root.headers)
    assert deleted.status_code == 204, deleted.text
    assert await session.scalar(select(func.count()).select_from(FileNode).where(FileNode.id.in_(ids))) == 0

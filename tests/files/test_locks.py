"""Locks through the REST API, on both databases: every write path refuses a node someone else locked (423 naming
the holder and the expiry), the lock's owner still writes, the holder or an administrator unlocks, others cannot."""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nubes.config import Settings
from nubes.core.audit import AuditEvent
from nubes.core.db import utcnow
from nubes.core.principal import Principal
from nubes.files.locks import service as locks
from nubes.files.locks.models import FileLock
from nubes.files.tree.models import FileNode
from tests.factories import SignedIn, login, make_tenant, make_user
from tests.files.test_tree import folder, upload

pytestmark = pytest.mark.parametrize("storage", ["local"], indirect=True)


def principal_of(who: SignedIn) -> Principal:
    return Principal(user_id=who.user.id, tenant_id=who.user.tenant_id, username=who.user.username, permissions=frozenset())


async def take_lock(
    session: AsyncSession, who: SignedIn, node_id: str, *, exclusive: bool = True, infinity: bool = False
) -> FileLock:
    node = await session.get_one(FileNode, uuid.UUID(node_id))
    return await locks.create(
        session=session, principal=principal_of(who), node=node, root=f"/dav/files/{who.user.username}/{node.name}",
        exclusive=exclusive, depth_infinity=infinity, owner_xml="<d:owner>desk</d:owner>", life=timedelta(minutes=30),
    )  # fmt: skip


@pytest.fixture
async def team(client: httpx.AsyncClient, session: AsyncSession, settings: Settings) -> dict[str, Any]:
    """Alice shares "Plans" (with report.txt and a sub-folder "Old" holding old.txt) with Bob to edit; Vera only reads
    files; Ada administers the tenant; Mallory administers another tenant."""
    tenant = await make_tenant(session)
    alice = await login(client, await make_user(session, settings, tenant, username=f"alice-{tenant.slug}"))
    bob = await login(client, await make_user(session, settings, tenant, username=f"bob-{tenant.slug}"))
    vera = await login(client, await make_user(session, settings, tenant, username=f"vera-{tenant.slug}", roles=("viewer",)))
    ada = await login(client, await make_user(session, settings, tenant, username=f"ada-{tenant.slug}", roles=("admin",)))
    other = await make_tenant(session)
    mallory = await login(client, await make_user(session, settings, other, username=f"mallory-{other.slug}", roles=("owner",)))
    plans = await folder(client, alice, "Plans")
    old = await folder(client, alice, "Old", plans["id"])
    report = (await upload(client, alice, "report.txt", b"quarterly numbers", plans["id"])).json()
    old_file = (await upload(client, alice, "old.txt", b"old numbers", old["id"])).json()
    elsewhere = await folder(client, bob, "Elsewhere")
    for user, permission in ((bob, "edit"), (vera, "view")):
        shared = await client.post(
            f"/api/files/{plans['id']}/shares", json={"user_id": str(user.user.id), "permission": permission},
            headers=alice.headers,
        )  # fmt: skip
        assert shared.status_code == 201, shared.text
    return {
        "alice": alice, "bob": bob, "vera": vera, "ada": ada, "mallory": mallory, "plans": plans, "old": old,
        "report": report, "old_file": old_file, "elsewhere": elsewhere,
    }  # fmt: skip


def assert_locked(response: httpx.Response, holder: str) -> None:
    assert response.status_code == 423, response.text
    body = response.json()
    assert body["type"] == "urn:nubes:problem:locked"
    assert body["locked_by"] == holder
    assert f"locked by {holder} until " in body["detail"]
    assert "lock_expires_at" in body


async def test_every_rest_write_refuses_a_file_someone_else_locked(
    client: httpx.AsyncClient, session: AsyncSession, team: dict[str, Any]
) -> None:
    """GIVEN Alice's exclusive lock on report.txt WHEN Bob (who may edit it) writes to it through the REST API
    THEN each write is a 423 that names Alice and the lock's expiry, and nothing changed."""
    alice, bob, report = team["alice"], team["bob"], team["report"]
    await take_lock(session, alice, report["id"])
    holder = alice.user.username
    file_url = f"/api/files/{report['id']}"
    assert_locked(await client.patch(file_url, json={"name": "renamed.txt"}, headers=bob.headers), holder)
    assert_locked(await client.patch(file_url, json={"parent_id": team["old"]["id"]}, headers=bob.headers), holder)
    assert_locked(await client.put(f"{file_url}/content", content=b"overwritten", headers=bob.headers), holder)
    assert_locked(await client.delete(file_url, headers=bob.headers), holder)
    # Bob's own copy of it is fine (a copy is a new file: locks never follow copies).
    copied = await client.post(f"{file_url}/copy", json={"parent_id": team["elsewhere"]["id"]}, headers=bob.headers)
    assert copied.status_code == 201, copied.text
    after = (await client.get(file_url, headers=alice.headers)).json()
    assert (after["name"], after["parent_id"], after["version_no"]) == ("report.txt", team["plans"]["id"], 1)


async def test_a_folder_locked_depth_infinity_refuses_new_members_and_changes_below(
    client: httpx.AsyncClient, session: AsyncSession, team: dict[str, Any]
) -> None:
    alice, bob, plans, old = team["alice"], team["bob"], team["plans"], team["old"]
    await take_lock(session, alice, plans["id"], infinity=True)
    holder = alice.user.username
    assert_locked(await upload(client, bob, "new.txt", b"new", plans["id"]), holder)
    assert_locked(await upload(client, bob, "deeper.txt", b"new", old["id"]), holder)
    raw = await client.post(
        "/api/files/upload/raw", params={"name": "raw.bin", "parent_id": old["id"]}, content=b"x" * 10, headers=bob.headers
    )
    assert_locked(raw, holder)
    made = await client.post("/api/files/folders", json={"name": "Sub", "parent_id": plans["id"]}, headers=bob.headers)
    assert_locked(made, holder)
    mine = (await upload(client, bob, "mine.txt", b"bob's", team["elsewhere"]["id"])).json()
    assert_locked(await client.post(f"/api/files/{mine['id']}/copy", json={"parent_id": old["id"]}, headers=bob.headers), holder)
    assert_locked(
        await client.put(f"/api/files/{team['old_file']['id']}/content", content=b"changed", headers=bob.headers), holder
    )
    assert_locked(await client.patch(f"/api/files/{old['id']}", json={"name": "Older"}, headers=bob.headers), holder)
    # The owner of the lock still works through the browser.
    assert (await upload(client, alice, "alice.txt", b"hers", plans["id"])).status_code == 201


async def test_a_lock_below_a_folder_refuses_deleting_or_moving_the_folder(
    client: httpx.AsyncClient, session: AsyncSession, team: dict[str, Any]
) -> None:
    alice, bob = team["alice"], team["bob"]
    await take_lock(session, bob, team["old_file"]["id"])  # Bob locks a file deep inside Alice's folder
    holder = bob.user.username
    assert_locked(await client.delete(f"/api/files/{team['old']['id']}", headers=alice.headers), holder)
    assert_locked(await client.patch(f"/api/files/{team['old']['id']}", json={"name": "Gone"}, headers=alice.headers), holder)
    # A depth-0 lock on a folder guards its members: nothing enters or leaves it.
    await take_lock(session, bob, team["elsewhere"]["id"])
    mine = (await upload(client, bob, "mine.txt", b"x", None)).json()
    moved = await client.patch(f"/api/files/{mine['id']}", json={"parent_id": team["elsewhere"]["id"]}, headers=bob.headers)
    assert moved.status_code == 200, moved.text  # Bob holds his own lock


async def test_depth_zero_folder_lock_guards_members_not_their_content(
    client: httpx.AsyncClient, session: AsyncSession, team: dict[str, Any]
) -> None:
    alice, bob, plans, report = team["alice"], team["bob"], team["plans"], team["report"]
    await take_lock(session, alice, plans["id"])
    holder = alice.user.username
    changed = await client.put(f"/api/files/{report['id']}/content", content=b"fine", headers=bob.headers)
    assert changed.status_code == 200, changed.text  # the file itself is not locked
    assert_locked(await upload(client, bob, "new.txt", b"x", plans["id"]), holder)
    assert_locked(await client.delete(f"/api/files/{report['id']}", headers=bob.headers), holder)  # leaves the folder
    assert_locked(await client.patch(f"/api/files/{report['id']}", json={"name": "r.txt"}, headers=bob.headers), holder)


async def test_shared_locks_let_each_holder_write(client: httpx.AsyncClient, session: AsyncSession, team: dict[str, Any]) -> None:
    alice, bob, report = team["alice"], team["bob"], team["report"]
    await take_lock(session, alice, report["id"], exclusive=False)
    await take_lock(session, bob, report["id"], exclusive=False)
    changed = await client.put(f"/api/files/{report['id']}/content", content=b"bob's turn", headers=bob.headers)
    assert changed.status_code == 200, changed.text
    with pytest.raises(locks.ConflictingLock):
        await take_lock(session, alice, report["id"])  # an exclusive lock cannot join shared ones


async def test_an_expired_lock_is_no_lock(client: httpx.AsyncClient, session: AsyncSession, team: dict[str, Any]) -> None:
    lock = await take_lock(session, team["alice"], team["report"]["id"])
    await session.execute(
        update(FileLock).where(FileLock.id == lock.id).values(expires_at=lock.created_at - timedelta(seconds=1))
    )
    renamed = await client.patch(f"/api/files/{team['report']['id']}", json={"name": "mine now.txt"}, headers=team["bob"].headers)
    assert renamed.status_code == 200, renamed.text
    listed = await client.get(f"/api/files/{team['report']['id']}/lock", headers=team["alice"].headers)
    assert listed.json() == {"items": []}


async def test_lock_info_and_the_folder_listing_of_locks(
    client: httpx.AsyncClient, session: AsyncSession, team: dict[str, Any]
) -> None:
    alice, bob, plans, report = team["alice"], team["bob"], team["plans"], team["report"]
    lock = await take_lock(session, alice, report["id"], exclusive=False)
    seen = await client.get(f"/api/files/{report['id']}/lock", headers=bob.headers)
    assert seen.status_code == 200, seen.text
    [item] = seen.json()["items"]
    assert (item["id"], item["locked_by"], item["scope"], item["depth"], item["inherited"], item["can_unlock"]) == (
        str(lock.id),
        alice.user.username,
        "shared",
        "0",
        False,
        False,
    )
    assert (await client.get(f"/api/files/{report['id']}/lock", headers=alice.headers)).json()["items"][0]["can_unlock"]
    listed = await client.get("/api/files/locks", params={"parent_id": plans["id"]}, headers=bob.headers)
    assert [entry["node_id"] for entry in listed.json()["items"]] == [report["id"]]
    await take_lock(session, alice, plans["id"], exclusive=False, infinity=True)
    inherited = (await client.get(f"/api/files/{report['id']}/lock", headers=bob.headers)).json()["items"]
    assert sorted(entry["inherited"] for entry in inherited) == [False, True]
    # Another tenant sees nothing of it.
    assert (await client.get(f"/api/files/{report['id']}/lock", headers=team["mallory"].headers)).status_code == 404
    assert (
        await client.get("/api/files/locks", params={"parent_id": plans["id"]}, headers=team["mallory"].headers)
    ).status_code == 404


async def test_unlock_by_its_owner_or_an_admin_only(
    client: httpx.AsyncClient, session: AsyncSession, team: dict[str, Any]
) -> None:
    alice, bob, report = team["alice"], team["bob"], team["report"]
    await take_lock(session, alice, report["id"])
    url = f"/api/files/{report['id']}/lock"
    refused = await client.delete(url, headers=bob.headers)
    assert refused.status_code == 403, refused.text
    assert f"locked by {alice.user.username} until" in refused.json()["detail"]
    assert (await client.delete(url, headers=team["vera"].headers)).status_code == 403  # files.read only
    assert (await client.delete(url, headers=team["mallory"].headers)).status_code == 404  # another tenant's admin
    forced = await client.delete(url, headers=team["ada"].headers)  # the tenant's admin, who cannot even see the file
    assert forced.status_code == 204, forced.text
    assert await session.scalar(select(FileLock).where(FileLock.node_id == uuid.UUID(report["id"]))) is None
    assert (await client.delete(url, headers=team["ada"].headers)).status_code == 404  # nothing left to unlock
    await take_lock(session, bob, report["id"])
    assert (await client.delete(url, headers=bob.headers)).status_code == 204  # his own
    renamed = await client.patch(f"/api/files/{report['id']}", json={"name": "free.txt"}, headers=alice.headers)
    assert renamed.status_code == 200, renamed.text


async def test_trash_and_move_drop_the_locks_of_what_they_move(
    client: httpx.AsyncClient, session: AsyncSession, team: dict[str, Any]
) -> None:
    """A lock never follows its resource to another URL (RFC 4918 7.5): the owner's move or delete removes it."""
    alice = team["alice"]
    await take_lock(session, alice, team["old_file"]["id"])
    await take_lock(session, alice, team["report"]["id"])
    moved = await client.patch(f"/api/files/{team['old']['id']}", json={"name": "Archive"}, headers=alice.headers)
    assert moved.status_code == 200, moved.text
    trashed = await client.delete(f"/api/files/{team['report']['id']}", headers=alice.headers)
    assert trashed.status_code == 200, trashed.text
    assert list(await session.scalars(select(FileLock))) == []


async def test_the_sweep_deletes_expired_locks_only(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession], team: dict[str, Any]
) -> None:
    expired = await take_lock(session, team["alice"], team["report"]["id"])
    live = await take_lock(session, team["alice"], team["old_file"]["id"])
    await session.execute(update(FileLock).where(FileLock.id == expired.id).values(expires_at=utcnow() - timedelta(seconds=1)))
    await session.commit()
    assert await locks.sweep(sessions) == 1
    assert set(await session.scalars(select(FileLock.id))) == {live.id}


async def test_a_forced_unlock_is_audited(client: httpx.AsyncClient, session: AsyncSession, team: dict[str, Any]) -> None:
    await take_lock(session, team["alice"], team["report"]["id"])
    assert (await client.delete(f"/api/files/{team['report']['id']}/lock", headers=team["ada"].headers)).status_code == 204
    event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "files.unlock"))
    assert event is not None
    assert (event.actor_id, str(event.target_id)) == (team["ada"].user.id, team["report"]["id"])


async def test_resumable_uploads_are_refused_before_any_byte(
    client: httpx.AsyncClient, session: AsyncSession, team: dict[str, Any]
) -> None:
    """tus: a new file into a locked folder and new content of a locked file are refused when the upload is created."""
    alice, bob = team["alice"], team["bob"]
    await take_lock(session, alice, team["old"]["id"], infinity=True)

    def meta(**values: str) -> str:
        return ",".join(f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in values.items())

    tus = {**bob.headers, "Tus-Resumable": "1.0.0", "Upload-Length": "5"}
    into = await client.post(
        "/api/uploads", headers={**tus, "Upload-Metadata": meta(filename="n.txt", parent_id=team["old"]["id"])}
    )
    assert_locked(into, alice.user.username)
    onto = await client.post("/api/uploads", headers={**tus, "Upload-Metadata": meta(target_id=team["old_file"]["id"])})
    assert_locked(onto, alice.user.username)

"""Sharing through the API, on both databases: shares with users and groups, permission levels, revocation, isolation."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.core.audit import AuditEvent
from nubes.identity.groups.models import Group, GroupMember
from tests.factories import SignedIn, login, make_tenant, make_user
from tests.files.test_tree import folder, upload

# Sharing rules do not depend on the blob backend: the local disk is enough here.
pytestmark = pytest.mark.parametrize("storage", ["local"], indirect=True)


@pytest.fixture
async def team(client: httpx.AsyncClient, session: AsyncSession, settings: Settings) -> dict[str, Any]:
    """Alice, Bob and Carol in one tenant (Bob in the group "designers"), and Mallory in another tenant."""
    tenant = await make_tenant(session)
    alice = await login(client, await make_user(session, settings, tenant, username=f"alice-{tenant.slug}"))
    bob = await login(client, await make_user(session, settings, tenant, username=f"bob-{tenant.slug}"))
    carol = await login(client, await make_user(session, settings, tenant, username=f"carol-{tenant.slug}"))
    group = Group(tenant_id=tenant.id, name="designers")
    session.add(group)
    await session.flush()
    session.add(GroupMember(group_id=group.id, user_id=bob.user.id))
    other = await make_tenant(session)
    mallory = await login(client, await make_user(session, settings, other, username=f"mallory-{other.slug}", roles=("owner",)))
    other_group = Group(tenant_id=other.id, name="outsiders")
    session.add(other_group)
    await session.flush()
    return {
        "alice": alice,
        "bob": bob,
        "carol": carol,
        "group": str(group.id),
        "mallory": mallory,
        "other_group": str(other_group.id),
    }


async def share(client: httpx.AsyncClient, who: SignedIn, node_id: str, **body: Any) -> httpx.Response:
    return await client.post(f"/api/files/{node_id}/shares", json=body, headers=who.headers)


async def shared_folder(client: httpx.AsyncClient, owner: SignedIn) -> tuple[dict[str, Any], dict[str, Any]]:
    """A folder "Plans" (under "Private") holding report.txt."""
    private = await folder(client, owner, "Private")
    plans = await folder(client, owner, "Plans", private["id"])
    report = await upload(client, owner, "report.txt", b"quarterly numbers", plans["id"])
    assert report.status_code == 201, report.text
    return plans, report.json()


async def test_view_share_lets_a_user_read_only_and_revocation_is_immediate(
    client: httpx.AsyncClient, team: dict[str, Any], session: AsyncSession
) -> None:
    alice, bob = team["alice"], team["bob"]
    plans, report = await shared_folder(client, alice)
    assert (await client.get(f"/api/files/{plans['id']}", headers=bob.headers)).status_code == 404

    created = await share(client, alice, plans["id"], user_id=str(bob.user.id), permission="view")
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["user"]["id"] == str(bob.user.id)
    assert body["permission"] == "view"
    assert body["shared_by"]["id"] == str(alice.user.id)

    mine = (await client.get("/api/shares/with-me", headers=bob.headers)).json()
    assert [(item["node"]["name"], item["permission"], item["shared_by"]["id"]) for item in mine["items"]] == [
        ("Plans", "view", str(alice.user.id))
    ]
    listing = await client.get("/api/files", params={"parent_id": plans["id"]}, headers=bob.headers)
    assert listing.status_code == 200, listing.text
    assert [item["name"] for item in listing.json()["items"]] == ["report.txt"]
    assert listing.json()["path"] == []  # nothing above the shared folder ("Private") shows
    download = await client.get(f"/api/files/{report['id']}/content", headers=bob.headers)
    assert download.status_code == 200
    assert download.content == b"quarterly numbers"

    # View only: no upload, rename, new content or resharing.
    refused = await upload(client, bob, "mine.txt", b"x", plans["id"])
    assert refused.status_code == 403, refused.text
    renamed = await client.patch(f"/api/files/{report['id']}", json={"name": "r.txt"}, headers=bob.headers)
    assert renamed.status_code == 403
    put = await client.put(f"/api/files/{report['id']}/content", content=b"new", headers=bob.headers)
    assert put.status_code == 403
    reshared = await share(client, bob, plans["id"], user_id=str(team["carol"].user.id), permission="view")
    assert reshared.status_code == 403
    # Searching is confined to one's own tree.
    assert (await client.get("/api/files/search", params={"q": "report"}, headers=bob.headers)).json()["items"] == []

    revoked = await client.delete(f"/api/files/{plans['id']}/shares/{body['id']}", headers=alice.headers)
    assert revoked.status_code == 204
    assert (await client.get(f"/api/files/{report['id']}/content", headers=bob.headers)).status_code == 404
    assert (await client.get("/api/shares/with-me", headers=bob.headers)).json()["items"] == []

    actions = set(
        await session.scalars(
            select(AuditEvent.action).where(AuditEvent.target_id == plans["id"], AuditEvent.action.like("files.share%"))
        )
    )
    assert actions == {"files.share.create", "files.share.revoke"}


async def test_group_edit_share_writes_on_the_owners_quota(
    client: httpx.AsyncClient, team: dict[str, Any], session: AsyncSession
) -> None:
    alice, bob, carol = team["alice"], team["bob"], team["carol"]
    plans, report = await shared_folder(client, alice)
    created = await share(client, alice, plans["id"], group_id=team["group"], permission="edit")
    assert created.status_code == 201, created.text
    assert created.json()["group"]["name"] == "designers"
    mine = (await client.get("/api/shares/with-me", headers=bob.headers)).json()["items"]
    assert [(item["node"]["id"], [group["name"] for group in item["via_groups"]]) for item in mine] == [
        (plans["id"], ["designers"])
    ]
    assert (await client.get("/api/shares/with-me", headers=carol.headers)).json()["items"] == []

    before_alice = (await client.get("/api/users/me/quota", headers=alice.headers)).json()["used_bytes"]
    before_bob = (await client.get("/api/users/me/quota", headers=bob.headers)).json()["used_bytes"]
    added = await upload(client, bob, "sketch.txt", b"0123456789", plans["id"])
    assert added.status_code == 201, added.text
    assert (await client.get("/api/users/me/quota", headers=alice.headers)).json()["used_bytes"] == before_alice + 10
    assert (await client.get("/api/users/me/quota", headers=bob.headers)).json()["used_bytes"] == before_bob
    # Alice sees Bob's upload in her own folder.
    names = [
        item["name"]
        for item in (await client.get("/api/files", params={"parent_id": plans["id"]}, headers=alice.headers)).json()["items"]
    ]
    assert names == ["report.txt", "sketch.txt"]
    put = await client.put(f"/api/files/{report['id']}/content", content=b"revised numbers", headers=bob.headers)
    assert put.status_code == 200, put.text
    assert put.json()["version_no"] == 2
    sub = await client.post("/api/files/folders", json={"name": "Drafts", "parent_id": plans["id"]}, headers=bob.headers)
    assert sub.status_code == 201, sub.text

    # Edit is not reshare; and the shared folder itself stays the owner's to delete.
    assert (await share(client, bob, plans["id"], user_id=str(carol.user.id), permission="view")).status_code == 403
    assert (await client.delete(f"/api/files/{plans['id']}", headers=bob.headers)).status_code == 403
    assert (await client.delete(f"/api/files/{added.json()['id']}", headers=bob.headers)).status_code == 200
    # Moving out of Alice's tree into Bob's own is refused (he may copy instead).
    mine_root = (await client.get("/api/files", headers=bob.headers)).json()["folder"]["id"]
    moved = await client.patch(f"/api/files/{report['id']}", json={"parent_id": mine_root}, headers=bob.headers)
    assert moved.status_code in {404, 422}
    copied = await client.post(f"/api/files/{report['id']}/copy", json={"parent_id": mine_root}, headers=bob.headers)
    assert copied.status_code == 201, copied.text
    assert (await client.get("/api/users/me/quota", headers=bob.headers)).json()["used_bytes"] == before_bob + len(
        b"revised numbers"
    )

    # Out of the group, out of the folder: at once, with no new sign-in.
    await session.execute(delete(GroupMember).where(GroupMember.user_id == bob.user.id))
    await session.flush()
    assert (await client.get(f"/api/files/{report['id']}", headers=bob.headers)).status_code == 404
    assert (await client.get("/api/shares/with-me", headers=bob.headers)).json()["items"] == []


async def test_reshare_never_grants_more_than_held(client: httpx.AsyncClient, team: dict[str, Any]) -> None:
    alice, bob, carol = team["alice"], team["bob"], team["carol"]
    plans, _ = await shared_folder(client, alice)
    to_bob = (await share(client, alice, plans["id"], user_id=str(bob.user.id), permission="edit")).json()
    assert (await share(client, bob, plans["id"], user_id=str(carol.user.id), permission="view")).status_code == 403
    raised = await client.patch(
        f"/api/files/{plans['id']}/shares/{to_bob['id']}", json={"permission": "reshare"}, headers=alice.headers
    )
    assert raised.status_code == 200, raised.text
    to_carol = await share(client, bob, plans["id"], user_id=str(carol.user.id), permission="reshare")
    assert to_carol.status_code == 201, to_carol.text
    listed = (await client.get(f"/api/files/{plans['id']}/shares", headers=bob.headers)).json()
    assert {entry["user"]["id"] for entry in listed} == {str(bob.user.id), str(carol.user.id)}
    # Bob cannot change the share Alice made to him, only the one he made.
    assert (
        await client.patch(f"/api/files/{plans['id']}/shares/{to_bob['id']}", json={"permission": "view"}, headers=bob.headers)
    ).status_code == 403
    # Carol may leave the share made to her.
    left = await client.delete(f"/api/files/{plans['id']}/shares/{to_carol.json()['id']}", headers=carol.headers)
    assert left.status_code == 204
    # Sharing twice with the same person is a conflict; sharing with the owner or oneself is refused.
    assert (await share(client, alice, plans["id"], user_id=str(bob.user.id), permission="view")).status_code == 409
    assert (await share(client, bob, plans["id"], user_id=str(alice.user.id), permission="view")).status_code == 422
    assert (await share(client, alice, plans["id"], permission="view")).status_code == 422
    both = await share(client, alice, plans["id"], user_id=str(carol.user.id), group_id=team["group"], permission="view")
    assert both.status_code == 422


async def test_shares_stay_inside_the_tenant(client: httpx.AsyncClient, team: dict[str, Any], session: AsyncSession) -> None:
    alice, mallory = team["alice"], team["mallory"]
    plans, _ = await shared_folder(client, alice)
    assert (await share(client, alice, plans["id"], user_id=str(mallory.user.id), permission="view")).status_code == 404
    assert (await share(client, alice, plans["id"], group_id=team["other_group"], permission="view")).status_code == 404
    assert (await client.get(f"/api/files/{plans['id']}/shares", headers=mallory.headers)).status_code == 404
    assert (await share(client, mallory, plans["id"], user_id=str(mallory.user.id), permission="view")).status_code == 404
    assert (await client.get("/api/shares/with-me", headers=mallory.headers)).json()["items"] == []
    found = (await client.get("/api/directory", params={"q": ""}, headers=alice.headers)).json()["items"]
    names = {(entry["kind"], entry["detail"] if entry["kind"] == "user" else entry["name"]) for entry in found}
    assert ("user", team["bob"].user.username) in names
    assert ("group", "designers") in names
    assert ("user", mallory.user.username) not in names
    assert ("group", "outsiders") not in names
    assert ("user", alice.user.username) not in names  # not oneself
    only_bob = (await client.get("/api/directory", params={"q": "bob"}, headers=alice.headers)).json()["items"]
    assert [entry["detail"] for entry in only_bob] == [team["bob"].user.username]


async def test_reshares_and_their_links_end_with_the_resharers_access(
    client: httpx.AsyncClient, team: dict[str, Any], session: AsyncSession
) -> None:
    """GIVEN Alice shares Plans with Bob to reshare, and Bob shares it with Carol and makes a public link
    WHEN Alice lowers Bob to view, or revokes his share
    THEN Carol's access and Bob's link end at once, and Alice sees both listed as ended (they come back
    only when Alice gives Bob reshare again).
    """
    alice, bob, carol = team["alice"], team["bob"], team["carol"]
    plans, report = await shared_folder(client, alice)
    to_bob = (await share(client, alice, plans["id"], user_id=str(bob.user.id), permission="reshare")).json()
    to_carol = await share(client, bob, plans["id"], user_id=str(carol.user.id), permission="edit")
    assert to_carol.status_code == 201, to_carol.text
    assert to_carol.json()["active"] is True
    link = await client.post(f"/api/files/{plans['id']}/links", json={"kind": "view"}, headers=bob.headers)
    assert link.status_code == 201, link.text
    public = f"/api/public/links/{link.json()['token']}"
    carol_reads = f"/api/files/{report['id']}/content"

    async def carol_and_link() -> tuple[int, int, int]:
        shared = (await client.get("/api/shares/with-me", headers=carol.headers)).json()["items"]
        return (
            (await client.get(carol_reads, headers=carol.headers)).status_code,
            (await client.get(public)).status_code,
            len(shared),
        )

    async def listed_active() -> tuple[dict[str, bool], list[bool]]:
        shares = (await client.get(f"/api/files/{plans['id']}/shares", headers=alice.headers)).json()
        links = (await client.get(f"/api/files/{plans['id']}/links", headers=alice.headers)).json()
        return {entry["user"]["id"]: entry["active"] for entry in shares}, [entry["active"] for entry in links]

    assert await carol_and_link() == (200, 200, 1)
    assert await listed_active() == ({str(bob.user.id): True, str(carol.user.id): True}, [True])

    # Reshare -> view: Bob keeps reading, but what he gave through his share ends.
    lowered = await client.patch(
        f"/api/files/{plans['id']}/shares/{to_bob['id']}", json={"permission": "view"}, headers=alice.headers
    )
    assert lowered.status_code == 200, lowered.text
    assert await carol_and_link() == (404, 410, 0)
    assert (await client.get(carol_reads, headers=bob.headers)).status_code == 200
    assert (await upload(client, carol, "mine.txt", b"x", plans["id"])).status_code == 404
    assert await listed_active() == ({str(bob.user.id): True, str(carol.user.id): False}, [False])
    assert "maker lost access" in set(
        await session.scalars(select(AuditEvent.detail["reason"].as_string()).where(AuditEvent.action == "files.link.access"))
    )

    # Reshare again: what Bob made works again; revoked: it ends again.
    raised = await client.patch(
        f"/api/files/{plans['id']}/shares/{to_bob['id']}", json={"permission": "reshare"}, headers=alice.headers
    )
    assert raised.status_code == 200, raised.text
    assert await carol_and_link() == (200, 200, 1)
    assert (await client.delete(f"/api/files/{plans['id']}/shares/{to_bob['id']}", headers=alice.headers)).status_code == 204
    assert await carol_and_link() == (404, 410, 0)
    assert await listed_active() == ({str(carol.user.id): False}, [False])


async def test_reshares_cannot_keep_each_other_alive_and_end_with_group_or_account(
    client: httpx.AsyncClient, team: dict[str, Any], session: AsyncSession
) -> None:
    """GIVEN Bob holds reshare through his group and shares Plans with Carol (reshare), who shares a folder in it back with Bob
    WHEN Bob leaves the group (or, given back, his account is deactivated)
    THEN neither Carol nor Bob keeps any access: two reshares cannot hold each other up once the owner's grant is gone.
    """
    alice, bob, carol = team["alice"], team["bob"], team["carol"]
    plans, report = await shared_folder(client, alice)
    inner = await folder(client, alice, "Inner", plans["id"])
    assert (await share(client, alice, plans["id"], group_id=team["group"], permission="reshare")).status_code == 201
    assert (await share(client, bob, plans["id"], user_id=str(carol.user.id), permission="reshare")).status_code == 201
    back = await share(client, carol, inner["id"], user_id=str(bob.user.id), permission="reshare")
    assert back.status_code == 201, back.text
    inner_url = f"/api/files?parent_id={inner['id']}"
    assert (await client.get(inner_url, headers=bob.headers)).status_code == 200
    assert (await client.get(inner_url, headers=carol.headers)).status_code == 200

    await session.execute(delete(GroupMember).where(GroupMember.user_id == bob.user.id))
    await session.flush()
    assert (await client.get(inner_url, headers=bob.headers)).status_code == 404
    assert (await client.get(inner_url, headers=carol.headers)).status_code == 404
    assert (await client.get(f"/api/files/{report['id']}", headers=carol.headers)).status_code == 404

    # Back in the group, then deactivated: Carol's access, made by Bob, ends with his account.
    session.add(GroupMember(group_id=uuid.UUID(team["group"]), user_id=bob.user.id))
    await session.flush()
    assert (await client.get(f"/api/files/{report['id']}", headers=carol.headers)).status_code == 200
    bob.user.is_active = False
    await session.flush()
    assert (await client.get(f"/api/files/{report['id']}", headers=carol.headers)).status_code == 404

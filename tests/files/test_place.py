"""Where a file is listed (`GET /api/files/{id}/place`), on both databases: its place in its folder's listing order,
so the page holding it is found in a large folder; nothing about a folder the caller cannot list."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.identity.tenants.models import Tenant
from tests.factories import SignedIn, login, make_tenant, make_user
from tests.files.test_sharing import share
from tests.files.test_tree import folder, upload

# Listing order does not depend on the blob backend: the local disk is enough here.
pytestmark = pytest.mark.parametrize("storage", ["local"], indirect=True)


async def _place(client: httpx.AsyncClient, who: SignedIn, node_id: str, status: int = 200) -> Any:
    response = await client.get(f"/api/files/{node_id}/place", headers=who.headers)
    assert response.status_code == status, response.text
    return response.json()


async def test_the_place_of_each_entry_is_its_index_in_the_listing(client: httpx.AsyncClient, alice: SignedIn) -> None:
    """GIVEN a folder of folders and files whose names differ in case, accents and digits
    WHEN each entry's place is asked
    THEN it is the entry's index in the folder's listing, read page by page (folders first, then by name)."""
    box = await folder(client, alice, "box")
    names = ["b.txt", "A.txt", "a (2).txt", "Émile.txt", "10.txt", "9.txt", "zeta", "Alpha", "z.TXT", "m.txt", "M (3).txt"]
    for name in names:
        if "." in name:
            assert (await upload(client, alice, name, b"x", box["id"])).status_code == 201
        else:
            await folder(client, alice, name, box["id"])
    listed: list[dict[str, Any]] = []
    for offset in range(0, len(names), 4):
        page = await client.get(
            "/api/files", params={"parent_id": box["id"], "limit": 4, "offset": offset}, headers=alice.headers
        )
        listed += page.json()["items"]
    assert len(listed) == len(names)
    for index, entry in enumerate(listed):
        expected = {"folder_id": box["id"], "offset": index, "total": len(names)}
        assert await _place(client, alice, entry["id"]) == expected, entry

    # In the root too; trashed siblings are not counted, a trashed entry has no place.
    top = await upload(client, alice, "top.txt", b"x")
    root_items = (await client.get("/api/files", headers=alice.headers)).json()
    place = await _place(client, alice, top.json()["id"])
    assert (place["folder_id"], place["total"]) == (root_items["folder"]["id"], root_items["total"])
    assert root_items["items"][place["offset"]]["id"] == top.json()["id"]
    assert (await client.delete(f"/api/files/{listed[0]['id']}", headers=alice.headers)).status_code == 200
    assert await _place(client, alice, listed[-1]["id"]) == {
        "folder_id": box["id"],
        "offset": len(names) - 2,
        "total": len(names) - 1,
    }
    await _place(client, alice, listed[0]["id"], 404)
    # The root itself is in no folder.
    await _place(client, alice, root_items["folder"]["id"], 404)


async def test_no_place_in_a_folder_the_caller_cannot_list(
    client: httpx.AsyncClient, alice: SignedIn, session: AsyncSession, settings: Settings
) -> None:
    """A file shared alone tells nothing of its owner's folder (not even how many entries it holds); a file in a
    shared folder has its place there; another user's or another tenant's file is not found."""
    tenant = await session.get(Tenant, alice.user.tenant_id)
    assert tenant is not None
    bob = await login(client, await make_user(session, settings, tenant))
    mallory = await login(client, await make_user(session, settings, await make_tenant(session), roles=("owner",)))
    private = await folder(client, alice, "Private")
    report = (await upload(client, alice, "report.txt", b"numbers", private["id"])).json()
    await upload(client, alice, "secret.txt", b"more", private["id"])
    plans = await folder(client, alice, "Plans", private["id"])
    plan = (await upload(client, alice, "plan.txt", b"plan", plans["id"])).json()

    for who in (bob, mallory):
        await _place(client, who, report["id"], 404)
    assert (await share(client, alice, report["id"], user_id=str(bob.user.id), permission="view")).status_code == 201
    refused = await client.get(f"/api/files/{report['id']}/place", headers=bob.headers)
    assert refused.status_code == 404
    assert private["id"] not in refused.text
    assert (await share(client, alice, plans["id"], user_id=str(bob.user.id), permission="view")).status_code == 201
    assert await _place(client, bob, plan["id"]) == {"folder_id": plans["id"], "offset": 0, "total": 1}
    await _place(client, bob, plans["id"], 404)  # the shared folder's own folder is still Alice's alone
    await _place(client, mallory, plan["id"], 404)
    await _place(client, alice, "not-an-id", 404)

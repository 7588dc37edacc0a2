"""Saved views through the API, on both engines: saving, listing in order, changing and deleting, the checks of the
query (as the documents list's), views of others (private ones unseen, shared ones read-only), and a view whose
terms were deleted since (it still opens, without them)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.documents.conftest import Team
from tests.factories import SignedIn


async def _json(response: httpx.Response, status: int) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _save(client: httpx.AsyncClient, who: SignedIn, **body: Any) -> dict[str, Any]:
    view: dict[str, Any] = await _json(await client.post("/api/documents/views", json=body, headers=who.headers), 201)
    return view


async def test_a_view_is_saved_listed_changed_and_deleted(client: httpx.AsyncClient, team: Team) -> None:
    alice, manager = team.alice, team.manager
    tag = await _json(await client.post("/api/documents/tags", json={"name": "unpaid"}, headers=manager.headers), 201)
    first = await _save(
        client, alice, name="  Unpaid  ", query={"tag_id": tag["id"], "q": " acme ", "sort": "title"},
        columns=["tags", "added", "tags"], in_sidebar=True,
    )  # fmt: skip
    assert first["name"] == "Unpaid"
    assert first["query"] == {
        "type_id": None, "correspondent_id": None, "tag_id": tag["id"], "category_id": None, "q": "acme", "scope": "mine",
        "sort": "title",
    }  # fmt: skip
    assert first["columns"] == ["tags", "added"]
    assert (first["in_sidebar"], first["on_overview"], first["shared"], first["mine"]) == (True, False, False, True)
    second = await _save(client, alice, name="Shared with me", query={"scope": "shared"})
    assert second["position"] == first["position"] + 1
    assert second["columns"] == ["type", "correspondent", "tags", "created", "added", "text"]

    listed = await _json(await client.get("/api/documents/views", headers=alice.headers), 200)
    assert [view["name"] for view in listed] == ["Unpaid", "Shared with me"]
    moved = await _json(
        await client.patch(
            f"/api/documents/views/{second['id']}", json={"position": 0, "on_overview": True}, headers=alice.headers
        ),
        200,
    )
    assert (moved["position"], moved["on_overview"], moved["query"]["scope"]) == (0, True, "shared")
    await _json(await client.patch(f"/api/documents/views/{first['id']}", json={"position": 1}, headers=alice.headers), 200)
    listed = await _json(await client.get("/api/documents/views", headers=alice.headers), 200)
    assert [view["name"] for view in listed] == ["Shared with me", "Unpaid"]

    renamed = await client.patch(f"/api/documents/views/{first['id']}", json={"name": "Shared with me"}, headers=alice.headers)
    assert renamed.status_code == 409
    changed = await _json(
        await client.patch(f"/api/documents/views/{first['id']}", json={"query": {"sort": "-created"}}, headers=alice.headers),
        200,
    )
    assert (changed["query"]["tag_id"], changed["query"]["sort"]) == (None, "-created")  # the query is replaced whole
    assert (await client.delete(f"/api/documents/views/{first['id']}", headers=alice.headers)).status_code == 204
    assert (await client.get(f"/api/documents/views/{first['id']}", headers=alice.headers)).status_code == 404
    assert [view["id"] for view in await _json(await client.get("/api/documents/views", headers=alice.headers), 200)] == [
        second["id"]
    ]


async def test_a_view_is_checked_as_the_documents_list_checks_its_query(client: httpx.AsyncClient, team: Team) -> None:
    alice, mallory = team.alice, team.mallory
    theirs = await _json(await client.post("/api/documents/tags", json={"name": "theirs"}, headers=mallory.headers), 201)
    bad: list[dict[str, Any]] = [
        {"name": ""},
        {"name": "x" * 121},
        {"name": "v", "query": {"sort": "size"}},
        {"name": "v", "query": {"scope": "everyone"}},
        {"name": "v", "query": {"q": "w" * 201}},
        {"name": "v", "query": {"tag_id": "not-an-id"}},
        {"name": "v", "query": {"limit": 10}},
        {"name": "v", "columns": ["owner"]},
        {"name": "v", "position": -1},
        {"name": "v", "position": False},
        {"name": "v", "in_sidebar": "yes"},
        {"name": "v", "colour": "red"},
        {"name": "v", "query": {"tag_id": theirs["id"]}},  # another organization's tag
        {"name": "v", "query": {"type_id": str(uuid.uuid4())}},
    ]
    for body in bad:
        response = await client.post("/api/documents/views", json=body, headers=alice.headers)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    # Whatever the list accepts, a view saves; and what a view holds, the list accepts.
    view = await _save(client, alice, name="Everything", query={"scope": "all", "sort": "-modified", "q": "x"})
    listing = await client.get(
        "/api/documents", params={k: v for k, v in view["query"].items() if v is not None}, headers=alice.headers
    )
    assert listing.status_code == 200
    assert (await _json(await client.get("/api/documents/views", headers=alice.headers), 200))[0]["id"] == view["id"]


async def test_views_of_others_are_unseen_and_shared_ones_read_only(client: httpx.AsyncClient, team: Team) -> None:
    alice, bob, manager, mallory = team.alice, team.bob, team.manager, team.mallory
    private = await _save(client, alice, name="Mine")
    for who in (bob, mallory):
        url = f"/api/documents/views/{private['id']}"
        assert (await client.get(url, headers=who.headers)).status_code == 404
        assert (await client.patch(url, json={"name": "taken"}, headers=who.headers)).status_code == 404
        assert (await client.delete(url, headers=who.headers)).status_code == 404
        assert await _json(await client.get("/api/documents/views", headers=who.headers), 200) == []

    # Sharing with the organization takes documents.manage.
    refused = await client.post("/api/documents/views", json={"name": "For all", "shared": True}, headers=alice.headers)
    assert refused.status_code == 403
    assert (
        await client.patch(f"/api/documents/views/{private['id']}", json={"shared": True}, headers=alice.headers)
    ).status_code == 403
    shared = await _save(client, manager, name="Team invoices", shared=True)
    seen = await _json(await client.get("/api/documents/views", headers=bob.headers), 200)
    assert [(view["name"], view["mine"], view["shared"]) for view in seen] == [("Team invoices", False, True)]
    assert seen[0]["owner_name"]
    url = f"/api/documents/views/{shared['id']}"
    assert (await client.get(url, headers=bob.headers)).status_code == 200
    assert (await client.patch(url, json={"name": "bob's"}, headers=bob.headers)).status_code == 403
    assert (await client.delete(url, headers=bob.headers)).status_code == 403
    assert (await client.get(url, headers=mallory.headers)).status_code == 404
    assert await _json(await client.get("/api/documents/views", headers=mallory.headers), 200) == []
    # Alice's own come first, then the shared ones.
    assert [view["name"] for view in await _json(await client.get("/api/documents/views", headers=alice.headers), 200)] == [
        "Mine",
        "Team invoices",
    ]
    assert (await client.get("/api/documents/views/not-an-id", headers=alice.headers)).status_code in {404, 422}


async def test_a_view_whose_terms_were_deleted_still_opens(client: httpx.AsyncClient, team: Team) -> None:
    alice, manager = team.alice, team.manager
    tag = await _json(await client.post("/api/documents/tags", json={"name": "old"}, headers=manager.headers), 201)
    kind = await _json(await client.post("/api/documents/types", json={"name": "Bill"}, headers=manager.headers), 201)
    category = await _json(await client.post("/api/documents/categories", json={"name": "Home"}, headers=manager.headers), 201)
    view = await _save(
        client,
        alice,
        name="Old bills",
        query={"tag_id": tag["id"], "type_id": kind["id"], "category_id": category["id"], "q": "x"},
    )
    assert (await client.delete(f"/api/documents/tags/{tag['id']}", headers=manager.headers)).status_code in {200, 204}
    assert (await client.delete(f"/api/documents/types/{kind['id']}", headers=manager.headers)).status_code in {200, 204}
    read = await _json(await client.get(f"/api/documents/views/{view['id']}", headers=alice.headers), 200)
    assert (read["query"]["tag_id"], read["query"]["type_id"]) == (None, None)
    assert (read["query"]["category_id"], read["query"]["q"]) == (category["id"], "x")
    listed = await _json(await client.get("/api/documents/views", headers=alice.headers), 200)
    assert listed[0]["query"]["tag_id"] is None
    # Changing something else keeps it opening.
    renamed = await client.patch(f"/api/documents/views/{view['id']}", json={"name": "Bills"}, headers=alice.headers)
    assert renamed.status_code == 200, renamed.text

"""Saved views through the API, on both engines: saving, listing in order, changing and deleting, the checks of the
query (as the documents list's), views of others (private ones unseen, shared ones read-only), and a view whose
terms were deleted since (it still opens, without them); custom-field filters saved, checked like the list's, and a
view whose field was deleted since (it reads back, saying the field is gone)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.documents.conftest import Team, upload_document
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
        "sort": "title", "custom_field_id": None, "custom_field_value": None, "custom_field_min": None,
        "custom_field_max": None,
    }  # fmt: skip
    assert first["custom_field_removed"] is False
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


async def _field(client: httpx.AsyncClient, team: Team, name: str, data_type: str, **extra: Any) -> dict[str, Any]:
    body = {"name": name, "data_type": data_type, **extra}
    made: dict[str, Any] = await _json(await client.post("/api/documents/fields", json=body, headers=team.manager.headers), 201)
    return made


async def test_a_view_keeps_custom_field_filters_and_the_list_it_opens_applies_them(
    client: httpx.AsyncClient, team: Team
) -> None:
    """GIVEN documents carrying a select and a number field WHEN views filter by them THEN they read back as saved
    and the documents list given the view's query finds what the filter says."""
    alice = team.alice
    state = await _field(client, team, "State", "select", options=[{"label": "Open"}, {"label": "Paid"}])
    amount = await _field(client, team, "Amount", "number")
    open_id, paid_id = (option["id"] for option in state["options"])
    made = {}
    for name, option, number in (("one", open_id, 5), ("two", paid_id, 50), ("three", paid_id, 500)):
        document = await _json(await upload_document(client, alice, f"{name}.txt", name.encode()), 201)
        values = [{"field_id": state["id"], "value": option}, {"field_id": amount["id"], "value": number}]
        await _json(
            await client.patch(f"/api/documents/{document['id']}", json={"custom_fields": values}, headers=alice.headers), 200
        )
        made[document["id"]] = name

    paid = await _save(client, alice, name="Paid", query={"custom_field_id": state["id"], "custom_field_value": paid_id})
    middle = await _save(
        client, alice, name="Middle",
        query={"custom_field_id": amount["id"], "custom_field_min": "10", "custom_field_max": "100", "sort": "title"},
    )  # fmt: skip
    carried = await _save(client, alice, name="Any amount", query={"custom_field_id": amount["id"]})
    for view, expected in ((paid, {"two", "three"}), (middle, {"two"}), (carried, {"one", "two", "three"})):
        read = await _json(await client.get(f"/api/documents/views/{view['id']}", headers=alice.headers), 200)
        assert read["query"] == view["query"]
        assert read["custom_field_removed"] is False
        query = {key: value for key, value in read["query"].items() if value is not None}
        page = await _json(await client.get("/api/documents", params=query, headers=alice.headers), 200)
        assert {made[item["id"]] for item in page["items"]} == expected, view["name"]
    assert (middle["query"]["custom_field_min"], middle["query"]["custom_field_max"]) == ("10", "100")

    # A change replaces the query whole; a label names a select's option as the list takes it.
    changed = await _json(
        await client.patch(
            f"/api/documents/views/{paid['id']}",
            json={"query": {"custom_field_id": state["id"], "custom_field_value": "open"}},
            headers=alice.headers,
        ),
        200,
    )
    assert changed["query"]["custom_field_value"] == "open"


async def test_custom_field_filters_of_a_view_are_checked_with_reasons(client: httpx.AsyncClient, team: Team) -> None:
    alice, mallory = team.alice, team.mallory
    amount = await _field(client, team, "Amount", "number")
    due = await _field(client, team, "Due", "date")
    done = await _field(client, team, "Done", "boolean")
    note = await _field(client, team, "Note", "text")
    state = await _field(client, team, "State", "select", options=[{"label": "Open"}])
    theirs = await _json(
        await client.post("/api/documents/fields", json={"name": "Theirs", "data_type": "number"}, headers=mallory.headers),
        201,
    )
    for query, reason in [
        ({"custom_field_value": "5"}, "give custom_field_id"),
        ({"custom_field_min": "5"}, "give custom_field_id"),
        ({"custom_field_id": "not-an-id"}, "UUID"),
        ({"custom_field_id": amount["id"], "custom_field_min": "x" * 65}, "64"),
        ({"custom_field_id": note["id"], "custom_field_value": "x" * 2049}, "2048"),
        ({"custom_field_id": amount["id"], "custom_field_min": 5}, "string"),
        ({"custom_field_id": amount["id"], "custom_field_value": "many"}, "not a number"),
        ({"custom_field_id": amount["id"], "custom_field_max": "nan"}, "finite"),
        ({"custom_field_id": due["id"], "custom_field_min": "yesterday"}, "ISO date"),
        ({"custom_field_id": due["id"], "custom_field_max": "2026-02-30"}, "ISO date"),
        ({"custom_field_id": done["id"], "custom_field_value": "maybe"}, "true or false"),
        ({"custom_field_id": note["id"], "custom_field_min": "a"}, "range"),
        ({"custom_field_id": state["id"], "custom_field_value": "Closed"}, "option"),
        ({"custom_field_id": theirs["id"]}, "No custom field"),
        ({"custom_field_id": str(uuid.uuid4())}, "No custom field"),
    ]:
        response = await client.post("/api/documents/views", json={"name": "v", "query": query}, headers=alice.headers)
        assert response.status_code == 422, (query, response.text)
        assert reason in response.text, (query, response.text)
    assert await _json(await client.get("/api/documents/views", headers=alice.headers), 200) == []
    # The same checks on a change, which leaves the view as it was.
    view = await _save(client, alice, name="Done", query={"custom_field_id": done["id"], "custom_field_value": "true"})
    refused = await client.patch(
        f"/api/documents/views/{view['id']}",
        json={"query": {"custom_field_id": done["id"], "custom_field_value": "maybe"}},
        headers=alice.headers,
    )
    assert refused.status_code == 422
    read = await _json(await client.get(f"/api/documents/views/{view['id']}", headers=alice.headers), 200)
    assert read["query"]["custom_field_value"] == "true"


async def test_a_view_whose_custom_field_was_deleted_reads_back_as_removed(client: httpx.AsyncClient, team: Team) -> None:
    """GIVEN a view filtering by a number field WHEN a manager deletes the field THEN the view still reads back (its
    query unchanged, flagged as naming a removed field), the list it opens is empty rather than an error, and it can
    be changed to drop the filter."""
    alice, manager = team.alice, team.manager
    amount = await _field(client, team, "Amount", "number")
    document = await _json(await upload_document(client, alice, "one.txt", b"one"), 201)
    values = [{"field_id": amount["id"], "value": 50}]
    await _json(
        await client.patch(f"/api/documents/{document['id']}", json={"custom_fields": values}, headers=alice.headers), 200
    )
    view = await _save(client, alice, name="Big", query={"custom_field_id": amount["id"], "custom_field_min": "10", "q": "one"})
    assert (await client.delete(f"/api/documents/fields/{amount['id']}", headers=manager.headers)).status_code in {200, 204}

    read = await _json(await client.get(f"/api/documents/views/{view['id']}", headers=alice.headers), 200)
    assert read["custom_field_removed"] is True
    assert (read["query"]["custom_field_id"], read["query"]["custom_field_min"], read["query"]["q"]) == (
        amount["id"], "10", "one",
    )  # fmt: skip
    listed = await _json(await client.get("/api/documents/views", headers=alice.headers), 200)
    assert [item["custom_field_removed"] for item in listed] == [True]
    query = {key: value for key, value in read["query"].items() if value is not None}
    page = await _json(await client.get("/api/documents", params=query, headers=alice.headers), 200)
    assert (page["items"], page["total"]) == ([], 0)
    # Renaming keeps it; saving its query again without the field clears the flag.
    renamed = await _json(
        await client.patch(f"/api/documents/views/{view['id']}", json={"name": "Was big"}, headers=alice.headers), 200
    )
    assert renamed["custom_field_removed"] is True
    cleared = await _json(
        await client.patch(f"/api/documents/views/{view['id']}", json={"query": {"q": "one"}}, headers=alice.headers), 200
    )
    assert (cleared["custom_field_removed"], cleared["query"]["custom_field_id"]) == (False, None)

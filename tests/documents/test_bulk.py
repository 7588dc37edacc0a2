"""Bulk actions through the API, on both engines: tags, type, correspondent and categories on many documents at
once (each change in each document's history), all or none when one of them is not the caller's to change,
removing and trashing, sharing (the recipient then sees the documents), a zip of their files, and the limits."""

from __future__ import annotations

import io
import uuid
import zipfile
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from nubes.config import Settings
from nubes.identity.tenants.models import Tenant
from tests.documents.conftest import Team, upload_document
from tests.factories import SignedIn, login, make_user


async def _json(response: httpx.Response, status: int) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _document(client: httpx.AsyncClient, who: SignedIn, name: str, data: bytes) -> dict[str, Any]:
    document: dict[str, Any] = await _json(await upload_document(client, who, name, data), 201)
    return document


async def _bulk(client: httpx.AsyncClient, who: SignedIn, **body: Any) -> httpx.Response:
    return await client.post("/api/documents/bulk", json=body, headers=who.headers)


async def _get(client: httpx.AsyncClient, who: SignedIn, document: dict[str, Any]) -> dict[str, Any]:
    read: dict[str, Any] = await _json(await client.get(f"/api/documents/{document['id']}", headers=who.headers), 200)
    return read


async def test_tags_type_correspondent_and_categories_change_on_every_document(client: httpx.AsyncClient, team: Team) -> None:
    alice, manager = team.alice, team.manager
    one, two = await _document(client, alice, "one.txt", b"1"), await _document(client, alice, "two.txt", b"2")
    ids = [one["id"], two["id"]]
    paid = await _json(await client.post("/api/documents/tags", json={"name": "paid"}, headers=manager.headers), 201)
    late = await _json(await client.post("/api/documents/tags", json={"name": "late"}, headers=manager.headers), 201)
    kind = await _json(await client.post("/api/documents/types", json={"name": "Invoice"}, headers=manager.headers), 201)
    acme = await _json(await client.post("/api/documents/correspondents", json={"name": "Acme"}, headers=manager.headers), 201)
    home = await _json(await client.post("/api/documents/categories", json={"name": "Home"}, headers=manager.headers), 201)
    await _json(await client.patch(f"/api/documents/{one['id']}", json={"tag_ids": [paid["id"]]}, headers=alice.headers), 200)

    result = await _json(await _bulk(client, alice, action="add_tags", document_ids=ids, tag_ids=[paid["id"], late["id"]]), 200)
    assert (result["action"], sorted(result["changed"]), result["unchanged"]) == ("add_tags", sorted(ids), [])
    for document in (one, two):
        assert sorted(tag["name"] for tag in (await _get(client, alice, document))["tags"]) == ["late", "paid"]
    result = await _json(await _bulk(client, alice, action="add_tags", document_ids=ids, tag_ids=[paid["id"]]), 200)
    assert (result["changed"], sorted(result["unchanged"])) == ([], sorted(ids))
    result = await _json(await _bulk(client, alice, action="remove_tags", document_ids=ids, tag_ids=[late["id"]]), 200)
    assert sorted(result["changed"]) == sorted(ids)
    assert [tag["name"] for tag in (await _get(client, alice, two))["tags"]] == ["paid"]

    await _json(await _bulk(client, alice, action="set_type", document_ids=ids, type_id=kind["id"]), 200)
    await _json(await _bulk(client, alice, action="set_correspondent", document_ids=ids, correspondent_id=acme["id"]), 200)
    await _json(await _bulk(client, alice, action="add_categories", document_ids=ids, category_ids=[home["id"]]), 200)
    read = await _get(client, alice, one)
    assert (read["type"]["name"], read["correspondent"]["name"], [c["name"] for c in read["categories"]]) == (
        "Invoice",
        "Acme",
        ["Home"],
    )
    await _json(await _bulk(client, alice, action="set_type", document_ids=ids, type_id=None), 200)
    await _json(await _bulk(client, alice, action="set_correspondent", document_ids=ids, correspondent_id=None), 200)
    await _json(await _bulk(client, alice, action="remove_categories", document_ids=ids, category_ids=[home["id"]]), 200)
    read = await _get(client, alice, two)
    assert (read["type"], read["correspondent"], read["categories"]) == (None, None, [])

    history = await _json(await client.get(f"/api/documents/{two['id']}/history", headers=alice.headers), 200)
    fields = [next(iter(entry["changes"])) for entry in reversed(history)]
    assert fields == [
        "tag_ids", "tag_ids", "type_id", "correspondent_id", "category_ids", "type_id", "correspondent_id", "category_ids",
    ]  # fmt: skip
    assert history[-1]["changes"]["tag_ids"] == [[], sorted([paid["id"], late["id"]])]
    assert history[-1]["actor"]["id"] == str(alice.user.id)
    assert history[2]["changes"]["type_id"] == [kind["id"], None]
    # A term of another organization, or none at all, is refused.
    theirs = await _json(await client.post("/api/documents/tags", json={"name": "x"}, headers=team.mallory.headers), 201)
    assert (await _bulk(client, alice, action="add_tags", document_ids=ids, tag_ids=[theirs["id"]])).status_code == 422
    assert (await _bulk(client, alice, action="set_type", document_ids=ids, type_id=str(uuid.uuid4()))).status_code == 422


async def test_one_document_the_caller_may_not_change_changes_nothing(client: httpx.AsyncClient, team: Team) -> None:
    """GIVEN Alice's document, Bob's private one, one Bob shares with her to view, and Mallory's (another tenant)
    WHEN Alice tags them in one bulk action
    THEN nothing changes: the unseen ones are "not found" (Bob's private one is not told apart from a made-up id), the
    one she may only view is "forbidden", each named."""
    alice, bob, manager = team.alice, team.bob, team.manager
    mine = await _document(client, alice, "mine.txt", b"a")
    private = await _document(client, bob, "private.txt", b"b")
    viewed = await _document(client, bob, "viewed.txt", b"c")
    shared = await client.post(
        f"/api/files/{viewed['file_id']}/shares", json={"user_id": str(alice.user.id), "permission": "view"}, headers=bob.headers
    )
    assert shared.status_code == 201
    foreign = await _document(client, team.mallory, "foreign.txt", b"d")
    tag = await _json(await client.post("/api/documents/tags", json={"name": "t"}, headers=manager.headers), 201)

    for other, status in [(private, 404), (foreign, 404), ({"id": str(uuid.uuid4())}, 404), (viewed, 403)]:
        response = await _bulk(client, alice, action="add_tags", document_ids=[mine["id"], other["id"]], tag_ids=[tag["id"]])
        assert response.status_code == status, response.text
        problem = response.json()
        assert problem["document_ids"] == [other["id"]]
        assert (other["id"] if status == 404 else "viewed") in problem["detail"]
        assert "private" not in problem["detail"]
        assert (await _get(client, alice, mine))["tags"] == []
    for action in ({"action": "remove"}, {"action": "trash"}, {"action": "share", "user_id": str(manager.user.id)}):
        response = await _bulk(client, alice, document_ids=[mine["id"], private["id"]], **action)
        assert response.status_code == 404, response.text
    await _get(client, alice, mine)
    assert (await client.get(f"/api/files/{mine['file_id']}", headers=alice.headers)).status_code == 200
    # Reading is enough to download, not to change.
    zipped = await client.post(
        "/api/documents/bulk/zip", json={"document_ids": [mine["id"], viewed["id"]]}, headers=alice.headers
    )
    assert zipped.status_code == 200
    refused = await client.post(
        "/api/documents/bulk/zip", json={"document_ids": [mine["id"], private["id"]]}, headers=alice.headers
    )
    assert refused.status_code == 404


async def test_removing_keeps_the_files_and_trashing_moves_them_to_the_trash(client: httpx.AsyncClient, team: Team) -> None:
    alice = team.alice
    one, two, three = [await _document(client, alice, f"{name}.txt", name.encode()) for name in ("one", "two", "three")]
    result = await _json(await _bulk(client, alice, action="remove", document_ids=[one["id"], two["id"]]), 200)
    assert sorted(result["changed"]) == sorted([one["id"], two["id"]])
    assert (await client.get(f"/api/documents/{one['id']}", headers=alice.headers)).status_code == 404
    assert (await client.get(f"/api/files/{one['file_id']}/content", headers=alice.headers)).content == b"one"

    await _json(await _bulk(client, alice, action="trash", document_ids=[three["id"]]), 200)
    assert (await client.get(f"/api/documents/{three['id']}", headers=alice.headers)).status_code == 404
    trash = await _json(await client.get("/api/trash", headers=alice.headers), 200)
    assert [item["id"] for item in trash["items"]] == [three["file_id"]]
    assert (await client.post(f"/api/trash/{three['file_id']}/restore", headers=alice.headers)).status_code == 200
    history = await _json(await client.get(f"/api/documents/{three['id']}/history", headers=alice.headers), 200)
    assert history[0]["changes"] == {"trashed": [False, True]}


async def test_sharing_in_bulk_lets_the_recipient_see_the_documents(client: httpx.AsyncClient, team: Team) -> None:
    alice, bob = team.alice, team.bob
    one, two = await _document(client, alice, "one.txt", b"1"), await _document(client, alice, "two.txt", b"2")
    ids = [one["id"], two["id"]]
    assert (await _json(await client.get("/api/documents", params={"scope": "shared"}, headers=bob.headers), 200))["total"] == 0
    result = await _json(await _bulk(client, alice, action="share", document_ids=ids, user_id=str(bob.user.id)), 200)
    assert sorted(result["changed"]) == sorted(ids)
    seen = await _json(await client.get("/api/documents", params={"scope": "shared"}, headers=bob.headers), 200)
    assert sorted(item["id"] for item in seen["items"]) == sorted(ids)
    assert (await client.patch(f"/api/documents/{one['id']}", json={"title": "bob's"}, headers=bob.headers)).status_code == 403

    # Again: nothing to do; with edit: the shares get edit, and Bob may change them.
    again = await _json(await _bulk(client, alice, action="share", document_ids=ids, user_id=str(bob.user.id)), 200)
    assert (again["changed"], sorted(again["unchanged"])) == ([], sorted(ids))
    await _json(await _bulk(client, alice, action="share", document_ids=ids, user_id=str(bob.user.id), permission="edit"), 200)
    assert (await client.patch(f"/api/documents/{one['id']}", json={"title": "bob's"}, headers=bob.headers)).status_code == 200
    shares = await _json(await client.get(f"/api/files/{two['file_id']}/shares", headers=alice.headers), 200)
    assert [(share["user"]["id"], share["permission"]) for share in shares] == [(str(bob.user.id), "edit")]
    history = await _json(await client.get(f"/api/documents/{two['id']}/history", headers=alice.headers), 200)
    assert [entry["changes"]["shared_with"][1].rsplit(" ", 1)[1] for entry in history] == ["(edit)", "(view)"]

    # Bob holds edit, not reshare: he cannot share them on; another organization's user is nobody.
    assert (await _bulk(client, bob, action="share", document_ids=ids, user_id=str(team.manager.user.id))).status_code == 403
    mallory = str(team.mallory.user.id)
    assert (await _bulk(client, alice, action="share", document_ids=ids, user_id=mallory)).status_code == 404
    both = await _bulk(client, alice, action="share", document_ids=ids, user_id=str(bob.user.id), group_id=str(uuid.uuid4()))
    assert both.status_code == 422
    reshare = await _bulk(client, alice, action="share", document_ids=ids, user_id=str(bob.user.id), permission="reshare")
    assert reshare.status_code == 422


async def test_a_zip_holds_each_documents_file(client: httpx.AsyncClient, team: Team) -> None:
    alice = team.alice
    first = await _document(client, alice, "report.txt", b"first report")
    folder = await _json(await client.post("/api/files/folders", json={"name": "Old"}, headers=alice.headers), 201)
    made = await client.post(
        "/api/files/upload",
        params={"parent_id": folder["id"]},
        files={"file": ("report.txt", b"older report")},
        headers=alice.headers,
    )
    second = await _json(await client.post("/api/documents", json={"file_id": made.json()["id"]}, headers=alice.headers), 201)
    picture = await _document(client, alice, "scan.png", bytes(range(256)) * 40)
    response = await client.post(
        "/api/documents/bulk/zip", json={"document_ids": [first["id"], second["id"], picture["id"]]}, headers=alice.headers
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert "documents.zip" in response.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.namelist() == ["report.txt", "report (2).txt", "scan.png"]
        assert archive.read("report.txt") == b"first report"
        assert archive.read("report (2).txt") == b"older report"
        assert archive.read("scan.png") == bytes(range(256)) * 40


async def test_the_limits_and_who_may_act(
    client: httpx.AsyncClient, team: Team, session: AsyncSession, settings: Settings
) -> None:
    alice = team.alice
    document = await _document(client, alice, "one.txt", b"1")
    too_many = [str(uuid.uuid4()) for _ in range(501)]
    bad: list[dict[str, Any]] = [
        {"action": "remove", "document_ids": too_many},
        {"action": "remove", "document_ids": []},
        {"action": "remove"},
        {"action": "burn", "document_ids": [document["id"]]},
        {"document_ids": [document["id"]]},
        {"action": "add_tags", "document_ids": [document["id"]], "tag_ids": []},
        {"action": "set_type", "document_ids": [document["id"]]},
        {"action": "remove", "document_ids": ["nope"]},
        {"action": "share", "document_ids": [document["id"]]},
    ]
    for body in bad:
        response = await client.post("/api/documents/bulk", json=body, headers=alice.headers)
        assert response.status_code == 422, (body, response.text)
    assert (
        await client.post("/api/documents/bulk/zip", json={"document_ids": too_many}, headers=alice.headers)
    ).status_code == 422
    # 500 are fine (the unknown ones are named, up to a few, then counted).
    many = await _bulk(client, alice, action="remove", document_ids=[document["id"], *too_many[:499]])
    assert many.status_code == 404
    assert "and 494 more" in many.json()["detail"]
    assert len(many.json()["document_ids"]) == 499

    tenant = await session.get(Tenant, alice.user.tenant_id)
    assert tenant is not None
    viewer = await login(client, await make_user(session, settings, tenant, roles=("viewer",)))
    assert (await _bulk(client, viewer, action="remove", document_ids=[document["id"]])).status_code == 403
    assert (
        await client.post("/api/documents/bulk", json={"action": "remove", "document_ids": [document["id"]]})
    ).status_code == 401
    await _get(client, alice, document)

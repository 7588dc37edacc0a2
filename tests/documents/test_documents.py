"""Documents through the API, on both engines: uploads into Documents, files made documents, metadata and its
history, access through the file's owner and shares, the trash, tenancy, and the extraction jobs on real files."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from nubes.documents.extraction.tasks import ExtractionWorker
from tests.documents import samples
from tests.documents.conftest import Team, upload_document
from tests.factories import SignedIn
from tests.files.test_tree import upload


async def _json(response: httpx.Response, status: int) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _document(client: httpx.AsyncClient, who: SignedIn, name: str, data: bytes) -> dict[str, Any]:
    document: dict[str, Any] = await _json(await upload_document(client, who, name, data), 201)
    return document


async def test_an_upload_lands_in_the_documents_folder_and_its_text_is_read_by_the_job(
    client: httpx.AsyncClient, team: Team, extraction: ExtractionWorker
) -> None:
    alice = team.alice
    document = await _document(client, alice, "Invoice 4711.pdf", samples.text_pdf(["Invoice 4711 from Acme", "Total 99 EUR"]))
    assert document["title"] == "Invoice 4711"
    assert document["extraction"]["state"] == "pending"
    root = await _json(await client.get("/api/files", headers=alice.headers), 200)
    folder = next(item for item in root["items"] if item["name"] == "Documents")
    inside = await _json(await client.get("/api/files", params={"parent_id": folder["id"]}, headers=alice.headers), 200)
    assert [item["id"] for item in inside["items"]] == [document["file_id"]]

    assert await extraction.run_due() == 1
    read = await _json(await client.get(f"/api/documents/{document['id']}/text", headers=alice.headers), 200)
    assert "Invoice 4711 from Acme" in read["text"]
    assert read["extraction"] | {"updated_at": None} == {
        "state": "done", "progress": 100, "method": "text-layer", "pages": 1, "error": None, "updated_at": None,
    }  # fmt: skip

    # The same content again is a duplicate: refused, nothing kept; kept when asked to.
    again = await upload_document(client, alice, "copy.pdf", samples.text_pdf(["Invoice 4711 from Acme", "Total 99 EUR"]))
    assert again.status_code == 409
    assert document["id"] in again.json()["detail"]
    inside = await _json(await client.get("/api/files", params={"parent_id": folder["id"]}, headers=alice.headers), 200)
    assert len(inside["items"]) == 1
    kept = await upload_document(
        client, alice, "Invoice 4711.pdf", samples.text_pdf(["Invoice 4711 from Acme", "Total 99 EUR"]), allow_duplicate="true"
    )
    assert kept.status_code == 201
    assert kept.json()["file_name"] == "Invoice 4711 (2).pdf"


@pytest.mark.parametrize(
    ("name", "make", "method", "words"),
    [
        ("scan.pdf", lambda: samples.scanned_pdf(["Payslip November", "Net salary 2345"]), "ocr", ["Payslip", "2345"]),
        ("photo.png", lambda: samples.png(["Contract renewal", "Signed by Alice"]), "ocr", ["Contract", "renewal"]),
        ("notes.docx", lambda: samples.word_document(["Meeting notes", "Budget approved"]), "office", ["Budget", "1234.56"]),
        ("mail.eml", lambda: samples.email_message("Your invoice", "Pay by Friday"), "email", ["Subject: Your", "invoice.pdf"]),
        ("readme.txt", "Plain words, ünïcode too".encode, "plain", ["ünïcode"]),
    ],
)  # fmt: skip
async def test_each_kind_of_file_is_read(
    client: httpx.AsyncClient, team: Team, extraction: ExtractionWorker, *, name: str, make: Any, method: str, words: list[str]
) -> None:
    document = await _document(client, team.alice, name, make())
    assert await extraction.run_due() == 1
    read = await _json(await client.get(f"/api/documents/{document['id']}/text", headers=team.alice.headers), 200)
    assert read["extraction"]["state"] == "done", read
    assert read["extraction"]["method"] == method
    for word in words:
        assert word in read["text"]


async def test_hostile_files_fail_with_their_reason_and_never_block_the_queue(
    client: httpx.AsyncClient, team: Team, extraction: ExtractionWorker
) -> None:
    bad = {
        "locked.pdf": (samples.encrypted_pdf(), "encrypted"),
        "broken.pdf": (samples.corrupt_pdf(), "damaged"),
        "bomb.png": (samples.bomb_png(), "pixels"),
        "archive.zip": (b"PK\x03\x04 not really", "does not read text"),
    }
    ids = {name: (await _document(client, team.alice, name, data))["id"] for name, (data, _) in bad.items()}
    good = await _document(client, team.alice, "fine.txt", b"readable after all the bad ones")
    assert await extraction.run_due() == len(bad) + 1  # one round settles them all, the good one included
    for name, (_, reason) in bad.items():
        read = await _json(await client.get(f"/api/documents/{ids[name]}/text", headers=team.alice.headers), 200)
        assert read["extraction"]["state"] == "failed", name
        assert reason in read["extraction"]["error"], read["extraction"]["error"]
        assert read["text"] == ""
    done = await _json(await client.get(f"/api/documents/{good['id']}/text", headers=team.alice.headers), 200)
    assert done["text"] == "readable after all the bad ones"
    assert await extraction.run_due() == 0  # failed for good: no retries of files that will never read


async def test_a_new_content_and_reanalyse_read_the_text_again(
    client: httpx.AsyncClient, team: Team, extraction: ExtractionWorker
) -> None:
    alice = team.alice
    document = await _document(client, alice, "memo.txt", b"first draft")
    await extraction.run_due()
    replaced = await client.put(f"/api/files/{document['file_id']}/content", content=b"final version", headers=alice.headers)
    assert replaced.status_code == 200, replaced.text
    state = await _json(await client.get(f"/api/documents/{document['id']}", headers=alice.headers), 200)
    assert state["extraction"]["state"] == "pending"
    await extraction.run_due()
    assert (await _json(await client.get(f"/api/documents/{document['id']}/text", headers=alice.headers), 200))[
        "text"
    ] == "final version"
    again = await _json(await client.post(f"/api/documents/{document['id']}/reanalyse", headers=alice.headers), 202)
    assert again["extraction"]["state"] == "pending"
    assert await extraction.run_due() == 1


async def test_metadata_vocabularies_history_and_filters(client: httpx.AsyncClient, team: Team) -> None:
    alice, manager = team.alice, team.manager
    # Only documents.manage changes the vocabularies; everyone reads them.
    assert (await client.post("/api/documents/types", json={"name": "Invoice"}, headers=alice.headers)).status_code == 403
    invoice = await _json(await client.post("/api/documents/types", json={"name": "Invoice"}, headers=manager.headers), 201)
    assert (await client.post("/api/documents/types", json={"name": "INVOICE"}, headers=manager.headers)).status_code == 409
    acme = await _json(await client.post("/api/documents/correspondents", json={"name": "Acme"}, headers=manager.headers), 201)
    paid = await _json(
        await client.post("/api/documents/tags", json={"name": "paid", "color": "#22AA44"}, headers=manager.headers), 201
    )
    assert paid["color"] == "#22aa44"
    bad_color = await client.post("/api/documents/tags", json={"name": "red", "color": "red"}, headers=manager.headers)
    assert bad_color.status_code == 422
    finance = await _json(await client.post("/api/documents/categories", json={"name": "Finance"}, headers=manager.headers), 201)
    taxes = await _json(
        await client.post(
            "/api/documents/categories", json={"name": "Taxes", "parent_id": finance["id"]}, headers=manager.headers
        ),
        201,
    )
    assert taxes["path"] == ["Finance", "Taxes"]

    first = await _document(client, alice, "a.txt", b"first")
    second = await _document(client, alice, "b.txt", b"second")
    change = {"type_id": invoice["id"], "correspondent_id": acme["id"], "tag_ids": [paid["id"]], "category_ids": [taxes["id"]],
              "archive_serial": 17, "created_on": "2026-11-30", "notes": "paid in full", "title": "Acme invoice"}  # fmt: skip
    updated = await _json(await client.patch(f"/api/documents/{first['id']}", json=change, headers=alice.headers), 200)
    assert updated["type"]["name"] == "Invoice"
    assert [tag["name"] for tag in updated["tags"]] == ["paid"]
    assert [category["name"] for category in updated["categories"]] == ["Taxes"]
    clash = await client.patch(f"/api/documents/{second['id']}", json={"archive_serial": 17}, headers=alice.headers)
    assert clash.status_code == 409
    history = await _json(await client.get(f"/api/documents/{first['id']}/history", headers=alice.headers), 200)
    assert history[0]["actor"]["name"] == alice.user.username
    assert history[0]["changes"]["title"] == ["a", "Acme invoice"]
    assert history[0]["changes"]["type_id"] == [None, invoice["id"]]

    for query, expected in [
        ({"type_id": invoice["id"]}, [first["id"]]),
        ({"tag_id": paid["id"]}, [first["id"]]),
        ({"category_id": taxes["id"]}, [first["id"]]),
        ({"q": "acme"}, [first["id"]]),
        ({"q": "100%_"}, []),
        ({"sort": "title"}, [first["id"], second["id"]]),
    ]:
        page = await _json(await client.get("/api/documents", params=query, headers=alice.headers), 200)
        assert [item["id"] for item in page["items"]] == expected, query

    # Deleting a term keeps the documents, without it.
    deleted = await client.delete(f"/api/documents/types/{invoice['id']}", headers=manager.headers)
    assert deleted.status_code == 204
    assert deleted.headers["X-Documents-Affected"] == "1"
    assert (await _json(await client.get(f"/api/documents/{first['id']}", headers=alice.headers), 200))["type"] is None


async def test_the_category_tree_moves_merges_and_deletes_with_what_happens_stated(client: httpx.AsyncClient, team: Team) -> None:
    manager, alice = team.manager, team.alice

    async def category(name: str, parent: str | None = None) -> dict[str, Any]:
        made: dict[str, Any] = await _json(
            await client.post("/api/documents/categories", json={"name": name, "parent_id": parent}, headers=manager.headers), 201
        )
        return made

    home, bills, power = await category("Home"), await category("Bills"), None
    power = await category("Power", bills["id"])
    into_own_child = await client.patch(
        f"/api/documents/categories/{bills['id']}", json={"parent_id": power["id"]}, headers=manager.headers
    )
    assert into_own_child.status_code == 422
    moved = await _json(
        await client.patch(f"/api/documents/categories/{bills['id']}", json={"parent_id": home["id"]}, headers=manager.headers),
        200,
    )
    assert moved["path"] == ["Home", "Bills"]
    document = await _document(client, alice, "bill.txt", b"a bill")
    await client.patch(f"/api/documents/{document['id']}", json={"category_ids": [power["id"]]}, headers=alice.headers)
    what = await _json(
        await client.delete(f"/api/documents/categories/{home['id']}", params={"dry_run": "true"}, headers=manager.headers), 200
    )
    assert what == {"categories": 3, "documents": 1}
    assert len(await _json(await client.get("/api/documents/categories", headers=alice.headers), 200)) == 3  # a dry run

    other = await category("Utilities")
    merged = await _json(
        await client.post(
            f"/api/documents/categories/{bills['id']}/merge", json={"into_id": other["id"]}, headers=manager.headers
        ),
        200,
    )
    tree = await _json(await client.get("/api/documents/categories", headers=alice.headers), 200)
    assert {tuple(entry["path"]) for entry in tree} == {("Home",), ("Utilities",), ("Utilities", "Power")}
    assert merged["id"] == other["id"]
    gone = await _json(await client.delete(f"/api/documents/categories/{other['id']}", headers=manager.headers), 200)
    assert gone == {"categories": 2, "documents": 1}
    assert (await _json(await client.get(f"/api/documents/{document['id']}", headers=alice.headers), 200))["categories"] == []


async def test_access_follows_the_file_and_removing_a_document_keeps_the_file(client: httpx.AsyncClient, team: Team) -> None:
    alice, bob, mallory = team.alice, team.bob, team.mallory
    document = await _document(client, alice, "plan.txt", b"the plan")
    url = f"/api/documents/{document['id']}"
    assert (await client.get(url, headers=bob.headers)).status_code == 404
    assert (await client.get(url, headers=mallory.headers)).status_code == 404
    assert (await client.patch(url, json={"title": "mine now"}, headers=mallory.headers)).status_code == 404
    assert (await client.post("/api/documents", json={"file_id": document["file_id"]}, headers=bob.headers)).status_code == 404

    shared = await client.post(
        f"/api/files/{document['file_id']}/shares",
        json={"user_id": str(bob.user.id), "permission": "view"},
        headers=alice.headers,
    )
    assert shared.status_code == 201, shared.text
    seen = await _json(await client.get(url, headers=bob.headers), 200)
    assert seen["mine"] is False
    for scope, expected in [("mine", []), ("shared", [document["id"]]), ("all", [document["id"]])]:
        page = await _json(await client.get("/api/documents", params={"scope": scope}, headers=bob.headers), 200)
        assert [item["id"] for item in page["items"]] == expected, scope
    shared_list = await _json(await client.get("/api/documents", params={"scope": "shared"}, headers=alice.headers), 200)
    assert shared_list["total"] == 0  # her own are not "shared with her"
    assert (await _json(await client.get("/api/documents", params={"scope": "all"}, headers=mallory.headers), 200))["total"] == 0
    assert (await client.patch(url, json={"title": "bob's"}, headers=bob.headers)).status_code == 403
    assert (await client.delete(url, headers=bob.headers)).status_code == 403

    # The trash hides the document; a restore brings it back; removing the document keeps the file.
    kind = await _json(await client.post("/api/documents/types", json={"name": "Plan"}, headers=team.manager.headers), 201)
    await client.patch(url, json={"type_id": kind["id"]}, headers=alice.headers)
    assert (await client.delete(f"/api/files/{document['file_id']}", headers=alice.headers)).status_code == 200
    assert (await _json(await client.get("/api/documents", headers=alice.headers), 200))["total"] == 0
    counted = await _json(await client.get("/api/documents/types", headers=alice.headers), 200)
    assert [(entry["name"], entry["document_count"]) for entry in counted] == [("Plan", 0)]  # as the list: trash left out
    assert (await client.get(url, headers=alice.headers)).status_code == 404
    assert (await client.post(f"/api/trash/{document['file_id']}/restore", headers=alice.headers)).status_code == 200
    assert (await _json(await client.get("/api/documents", headers=alice.headers), 200))["total"] == 1
    assert (await client.delete(url, headers=alice.headers)).status_code == 204
    assert (await client.get(url, headers=alice.headers)).status_code == 404
    assert (await client.get(f"/api/files/{document['file_id']}/content", headers=alice.headers)).content == b"the plan"


async def test_any_file_can_become_a_document_once(client: httpx.AsyncClient, team: Team) -> None:
    alice = team.alice
    made = await upload(client, alice, "scan-later.txt", b"some words")
    assert made.status_code == 201
    document = await _json(await client.post("/api/documents", json={"file_id": made.json()["id"]}, headers=alice.headers), 201)
    assert document["file_name"] == "scan-later.txt"
    twice = await client.post("/api/documents", json={"file_id": made.json()["id"]}, headers=alice.headers)
    assert twice.status_code == 409
    folder = await _json(await client.post("/api/files/folders", json={"name": "Box"}, headers=alice.headers), 201)
    assert (await client.post("/api/documents", json={"file_id": folder["id"]}, headers=alice.headers)).status_code == 422


async def test_vocabularies_and_ids_stay_in_their_tenant(client: httpx.AsyncClient, team: Team) -> None:
    theirs = await _json(await client.post("/api/documents/tags", json={"name": "secret"}, headers=team.mallory.headers), 201)
    assert await _json(await client.get("/api/documents/tags", headers=team.alice.headers), 200) == []
    document = await _document(client, team.alice, "x.txt", b"x")
    foreign = await client.patch(f"/api/documents/{document['id']}", json={"tag_ids": [theirs["id"]]}, headers=team.alice.headers)
    assert foreign.status_code == 422
    assert (await client.delete(f"/api/documents/tags/{theirs['id']}", headers=team.manager.headers)).status_code == 404


async def test_the_documents_admin_group_of_each_tenant_manages_the_vocabularies(client: httpx.AsyncClient, team: Team) -> None:
    """Every tenant gets a `documents-admin` group (seed 002's per-service admin group): its members manage the
    vocabularies without being tenant admins; taken out of it, they cannot any more, at once."""
    groups = await _json(await client.get("/api/admin/groups", headers=team.manager.headers), 200)
    group = next(entry for entry in groups if entry["name"] == "documents-admin")
    new_type = {"name": "Receipt"}
    assert (await client.post("/api/documents/types", json=new_type, headers=team.alice.headers)).status_code == 403
    joined = await client.put(f"/api/admin/groups/{group['id']}/members/{team.alice.user.id}", headers=team.manager.headers)
    assert joined.status_code == 204, joined.text
    assert (await client.post("/api/documents/types", json=new_type, headers=team.alice.headers)).status_code == 201
    assert (await client.get("/api/admin/users", headers=team.alice.headers)).status_code == 403  # no tenant admin
    left = await client.delete(f"/api/admin/groups/{group['id']}/members/{team.alice.user.id}", headers=team.manager.headers)
    assert left.status_code == 204
    assert (await client.post("/api/documents/types", json={"name": "Bill"}, headers=team.alice.headers)).status_code == 403
    other_groups = await _json(await client.get("/api/admin/groups", headers=team.mallory.headers), 200)
    assert [entry["id"] for entry in other_groups if entry["name"] == "documents-admin"] != [group["id"]]

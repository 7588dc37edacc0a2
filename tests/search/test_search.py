"""Full-text search on both engines: documents indexed by the indexer after extraction and metadata changes, found
by words, phrases, prefixes and filters, ranked, with marked snippets; and only by whoever may open them, counts
included, at once when a share is made or revoked; hostile query syntax answered, never failed."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nubes.documents.extraction.tasks import ExtractionWorker
from nubes.search import service
from nubes.search.tasks import Indexer
from tests.documents import samples
from tests.documents.conftest import Team, extraction, team, upload_document
from tests.factories import SignedIn

__all__ = ["extraction", "team"]  # the fixtures, imported for this module


@pytest.fixture
def indexer(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> Indexer:
    return Indexer(sessions, lambda: app.state.storage)


async def _settle(extraction: ExtractionWorker, indexer: Indexer) -> None:
    """Run the background work a server would: read the texts, then index until nothing is left."""
    while await extraction.run_due():
        pass
    while await indexer.run_due():
        pass


async def _search(client: httpx.AsyncClient, who: SignedIn, q: str) -> Any:
    response = await client.get("/api/search", params={"q": q}, headers=who.headers)
    assert response.status_code == 200, response.text
    return response.json()


NOTHING = {
    "items": [], "total": 0, "total_exact": True, "ranked": 0,
    "facets": {"type": [], "correspondent": [], "tag": [], "year": []},
}  # fmt: skip


async def _titles(client: httpx.AsyncClient, who: SignedIn, q: str) -> list[str]:
    return [item["title"] for item in (await _search(client, who, q))["items"]]


async def test_words_phrases_prefixes_filters_ranks_and_snippets(
    client: httpx.AsyncClient, team: Team, extraction: ExtractionWorker, indexer: Indexer
) -> None:
    alice, manager = team.alice, team.manager
    invoice = await upload_document(
        client, alice, "Acme invoice.pdf", samples.text_pdf(["Invoice 4711", "Total due 99 EUR", "Thanks"])
    )
    payslip = await upload_document(client, alice, "November.png", samples.png(["Payslip November", "Acme pays 2345"]))
    letter = await upload_document(client, alice, "Letter.txt", b"A letter that mentions nothing of interest.")
    assert {invoice.status_code, payslip.status_code, letter.status_code} == {201}
    await _settle(extraction, indexer)

    found = await _search(client, alice, "acme")
    assert found["total"] == 2
    assert [item["title"] for item in found["items"]] == ["Acme invoice", "November"]  # the title weighs more
    parts = found["items"][1]["snippet"]
    assert {"text": "Acme", "match": True} in parts
    assert any(not part["match"] for part in parts)
    assert await _titles(client, alice, '"total due"') == ["Acme invoice"]
    assert await _titles(client, alice, '"due total"') == []
    assert await _titles(client, alice, "pay*") == ["November"]
    assert await _titles(client, alice, "invoice 4711 acme") == ["Acme invoice"]

    # Metadata is indexed too, and filters narrow by it; a change reaches the index through the indexer.
    paid = (await client.post("/api/documents/tags", json={"name": "paid"}, headers=manager.headers)).json()
    await client.patch(f"/api/documents/{invoice.json()['id']}", json={"tag_ids": [paid["id"]]}, headers=alice.headers)
    await _settle(extraction, indexer)
    assert await _titles(client, alice, "tag:paid") == ["Acme invoice"]
    assert await _titles(client, alice, "acme tag:paid") == ["Acme invoice"]
    assert await _titles(client, alice, "paid") == ["Acme invoice"]
    assert await _titles(client, alice, "acme tag:unknown") == []
    year = invoice.json()["added_at"][:4]
    assert sorted(await _titles(client, alice, f"year:{year}")) == ["Acme invoice", "Letter", "November"]

    # Facets count the matches by tag, type, correspondent and year; a `field:value` narrows to one.
    facets = (await _search(client, alice, "acme"))["facets"]
    assert facets["tag"] == [{"value": "paid", "term_id": paid["id"], "count": 1}]
    assert facets["year"] == [{"value": year, "term_id": None, "count": 2}]
    assert facets["type"] == facets["correspondent"] == []

    # Removing the document takes it out of the index; the file stays.
    await client.delete(f"/api/documents/{invoice.json()['id']}", headers=alice.headers)
    assert await _titles(client, alice, "acme") == ["November"]


async def test_only_what_the_caller_may_open_is_found_or_counted(
    client: httpx.AsyncClient, team: Team, extraction: ExtractionWorker, indexer: Indexer
) -> None:
    alice, bob, mallory = team.alice, team.bob, team.mallory
    made = await upload_document(client, alice, "secret plan.txt", b"zeppelin budget for the launch")
    assert made.status_code == 201
    await _settle(extraction, indexer)
    assert (await _search(client, alice, "zeppelin"))["total"] == 1
    for outsider in (bob, mallory):
        assert await _search(client, outsider, "zeppelin") == NOTHING
        assert (await _search(client, outsider, "year:2026"))["total"] == 0

    # A share of the folder above it: found at once (the permission is in the query, nothing is reindexed).
    folder = (await client.get(f"/api/files/{made.json()['file_id']}", headers=alice.headers)).json()["parent_id"]
    share = await client.post(f"/api/files/{folder}/shares", json={"user_id": str(bob.user.id)}, headers=alice.headers)
    assert share.status_code == 201, share.text
    assert await _titles(client, bob, "zeppelin") == ["secret plan"]
    assert await _search(client, mallory, "zeppelin") == NOTHING
    assert (await client.delete(f"/api/files/{folder}/shares/{share.json()['id']}", headers=alice.headers)).status_code == 204
    assert await _search(client, bob, "zeppelin") == NOTHING

    # A share of another folder of hers lets Bob's queries walk Alice's entries in the index, never find or count
    # those she did not share (facets included).
    other = (await client.post("/api/files/folders", json={"name": "Shared"}, headers=alice.headers)).json()
    assert (
        await client.post(f"/api/files/{other['id']}/shares", json={"user_id": str(bob.user.id)}, headers=alice.headers)
    ).status_code == 201
    assert await _search(client, bob, "zeppelin") == NOTHING
    assert await _search(client, bob, "year:2026") == NOTHING

    # The trash hides it from its owner too, until restored.
    assert (await client.delete(f"/api/files/{made.json()['file_id']}", headers=alice.headers)).status_code == 200
    assert (await _search(client, alice, "zeppelin"))["total"] == 0
    assert (await client.post(f"/api/trash/{made.json()['file_id']}/restore", headers=alice.headers)).status_code == 200
    assert (await _search(client, alice, "zeppelin"))["total"] == 1


@pytest.mark.parametrize(
    "q", ['"', "*", "NEAR(a b)", "'--", "a:b", ")(", 'zeppelin"', "tag:", "-x", "AND OR NOT", "x" * 500, "\u00e9t\u00e9*", "%_"]
)
async def test_hostile_query_syntax_is_answered_never_failed(client: httpx.AsyncClient, team: Team, q: str) -> None:
    response = await client.get("/api/search", params={"q": q}, headers=team.alice.headers)
    assert response.status_code == 200, response.text
    assert response.json()["total"] == 0


async def test_a_rebuild_empties_the_index_and_the_indexer_fills_it_again(
    client: httpx.AsyncClient, team: Team, extraction: ExtractionWorker, indexer: Indexer, session: AsyncSession
) -> None:
    """What `nubes search rebuild` does (with a progress bar over `pending`): start over, then index every document."""
    for index in range(3):
        made = await upload_document(client, team.alice, f"note {index}.txt", f"walrus number {index}".encode())
        assert made.status_code == 201
    await _settle(extraction, indexer)
    assert (await _search(client, team.alice, "walrus"))["total"] == 3
    await service.rebuild(session)
    await session.commit()
    assert await service.pending(session) == (3, 0)
    assert (await _search(client, team.alice, "walrus"))["total"] == 0
    await _settle(extraction, indexer)
    assert await service.pending(session) == (3, 3)
    assert (await _search(client, team.alice, "walrus"))["total"] == 3


async def test_a_renamed_tag_is_found_by_its_new_name(
    client: httpx.AsyncClient, team: Team, extraction: ExtractionWorker, indexer: Indexer
) -> None:
    tag = (await client.post("/api/documents/tags", json={"name": "draft"}, headers=team.manager.headers)).json()
    made = await upload_document(client, team.alice, "memo.txt", b"a memo")
    await client.patch(f"/api/documents/{made.json()['id']}", json={"tag_ids": [tag["id"]]}, headers=team.alice.headers)
    await _settle(extraction, indexer)
    assert await _titles(client, team.alice, "draft") == ["memo"]
    renamed = await client.patch(f"/api/documents/tags/{tag['id']}", json={"name": "final"}, headers=team.manager.headers)
    assert renamed.status_code == 200
    await _settle(extraction, indexer)
    assert await _titles(client, team.alice, "final") == ["memo"]
    assert await _titles(client, team.alice, "draft") == []


async def test_a_query_matching_more_than_it_ranks_says_so_and_ranks_the_newest(
    client: httpx.AsyncClient,
    team: Team,
    *,
    extraction: ExtractionWorker,
    indexer: Indexer,
    monkeypatch: pytest.MonkeyPatch,
    engine_name: str,
) -> None:
    """Past CANDIDATES matches the answer ranks the newest and says so; its total is an estimate of the caller's own
    matches: SQLite counts them in the index (files in the trash too), PostgreSQL's planner estimates them."""
    for index in range(4):
        made = await upload_document(client, team.alice, f"walrus {index}.txt", f"walrus walrus number {index}".encode())
        assert made.status_code == 201
    await _settle(extraction, indexer)
    assert (await _search(client, team.alice, "walrus"))["total_exact"] is True
    monkeypatch.setattr(service, "CANDIDATES", 3)
    found = await _search(client, team.alice, "walrus")
    assert (found["total_exact"], found["ranked"]) == (False, 3)
    assert found["total"] == 4 if engine_name == "sqlite" else found["total"] >= 3
    assert len({item["title"] for item in found["items"]}) == 3
    assert sum(bucket["count"] for bucket in found["facets"]["year"]) == 3
    assert await _search(client, team.bob, "walrus") == NOTHING


async def _upload(client: httpx.AsyncClient, who: SignedIn, name: str, data: bytes, parent_id: str | None = None) -> Any:
    params = {"parent_id": parent_id} if parent_id else {}
    response = await client.post("/api/files/upload", params=params, files={"file": (name, data)}, headers=who.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def _kinds(client: httpx.AsyncClient, who: SignedIn, q: str, **params: str) -> list[tuple[str, str]]:
    response = await client.get("/api/search", params={"q": q, **params}, headers=who.headers)
    assert response.status_code == 200, response.text
    return sorted((item["kind"], item["title"]) for item in response.json()["items"])


async def test_plain_files_are_found_by_name_and_by_the_text_of_their_content(
    client: httpx.AsyncClient, team: Team, extraction: ExtractionWorker, indexer: Indexer
) -> None:
    alice, bob = team.alice, team.bob
    folder = (await client.post("/api/files/folders", json={"name": "Reading"}, headers=alice.headers)).json()["id"]
    notes = await _upload(client, alice, "notes.txt", b"a quokka smiled at the camera")
    await _upload(client, alice, "paper.pdf", samples.text_pdf(["The platypus lays eggs"]), folder)
    await _upload(client, alice, "quokka photo.png", samples.png(["not read: images only as documents"]))
    await _settle(extraction, indexer)

    assert await _kinds(client, alice, "quokka") == [("file", "notes.txt"), ("file", "quokka photo.png")]
    assert await _kinds(client, alice, "platypus") == [("file", "paper.pdf")]
    assert await _kinds(client, alice, "quokka", kind="document") == []
    hit = (await _search(client, alice, "platypus"))["items"][0]
    assert hit["document_id"] is None
    assert {"text": "platypus", "match": True} in hit["snippet"]
    assert await _search(client, bob, "platypus") == NOTHING
    share = await client.post(f"/api/files/{folder}/shares", json={"user_id": str(bob.user.id)}, headers=alice.headers)
    assert share.status_code == 201, share.text
    assert await _kinds(client, bob, "platypus") == [("file", "paper.pdf")]
    assert await _search(client, bob, "quokka") == NOTHING

    # A rename reaches the index; a file made a document is found once, as the document, and again as a file after.
    renamed = await client.patch(f"/api/files/{notes['id']}", json={"name": "wombat.txt"}, headers=alice.headers)
    assert renamed.status_code == 200, renamed.text
    await _settle(extraction, indexer)
    assert await _kinds(client, alice, "wombat") == [("file", "wombat.txt")]
    made = await client.post("/api/documents", json={"file_id": notes["id"]}, headers=alice.headers)
    assert made.status_code == 201, made.text
    await _settle(extraction, indexer)
    assert await _kinds(client, alice, "quokka smiled") == [("document", "wombat")]
    assert (await client.delete(f"/api/documents/{made.json()['id']}", headers=alice.headers)).status_code == 204
    await _settle(extraction, indexer)
    assert await _kinds(client, alice, "quokka smiled") == [("file", "wombat.txt")]

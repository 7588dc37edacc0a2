"""The documents inbox, on both engines: a file put in `Documents/Inbox` through the files API becomes its owner's
document and moves up into Documents (its name made free there); what the organization refuses goes to
`Inbox/Refused` and is not tried again; only files directly in an inbox, alive, are taken; each owner's for them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nubes.documents.consumption.tasks import InboxWorker
from nubes.documents.extraction.tasks import ExtractionWorker
from tests.documents.conftest import Team, extraction, team
from tests.factories import SignedIn

__all__ = ["extraction", "team"]  # the fixtures, imported for this module


@pytest.fixture
def inbox(app: FastAPI, sessions: async_sessionmaker[AsyncSession]) -> InboxWorker:
    """The worker the app runs, bound to the test's transaction."""
    return InboxWorker(sessions)


async def _folder(client: httpx.AsyncClient, who: SignedIn, name: str, parent_id: str | None = None) -> str:
    response = await client.post("/api/files/folders", json={"name": name, "parent_id": parent_id}, headers=who.headers)
    assert response.status_code == 201, response.text
    folder_id: str = response.json()["id"]
    return folder_id


async def _inbox(client: httpx.AsyncClient, who: SignedIn) -> tuple[str, str]:
    """The ids of `Documents` and `Documents/Inbox` of `who`, made through the files API."""
    documents = await _folder(client, who, "Documents")
    return documents, await _folder(client, who, "Inbox", documents)


async def _put(client: httpx.AsyncClient, who: SignedIn, folder_id: str, name: str, data: bytes) -> dict[str, Any]:
    response = await client.post(
        "/api/files/upload", params={"parent_id": folder_id}, files={"file": (name, data, "text/plain")}, headers=who.headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _names(client: httpx.AsyncClient, who: SignedIn, folder_id: str) -> list[str]:
    response = await client.get("/api/files", params={"parent_id": folder_id}, headers=who.headers)
    assert response.status_code == 200, response.text
    return sorted(item["name"] for item in response.json()["items"])


async def _documents(client: httpx.AsyncClient, who: SignedIn) -> list[str]:
    response = await client.get("/api/documents", headers=who.headers)
    assert response.status_code == 200, response.text
    return sorted(item["title"] for item in response.json()["items"])


async def test_a_file_in_the_inbox_becomes_a_document_in_documents(
    client: httpx.AsyncClient, team: Team, inbox: InboxWorker, extraction: ExtractionWorker
) -> None:
    alice = team.alice
    documents, box = await _inbox(client, alice)
    await _put(client, alice, documents, "scan.txt", b"an older scan")
    dropped = await _put(client, alice, box, "scan.txt", b"walrus invoice from the inbox")
    nested = await _folder(client, alice, "Later", box)
    await _put(client, alice, nested, "not yet.txt", b"only files directly in the inbox are taken")
    trashed = await _put(client, alice, box, "gone.txt", b"in the trash")
    assert (await client.delete(f"/api/files/{trashed['id']}", headers=alice.headers)).status_code == 200

    assert await inbox.run_due() == 1
    assert await _documents(client, alice) == ["scan"]  # titled by the name it came with
    assert await _names(client, alice, documents) == ["Inbox", "scan (2).txt", "scan.txt"]
    assert await _names(client, alice, box) == ["Later"]
    moved = (await client.get(f"/api/files/{dropped['id']}", headers=alice.headers)).json()
    assert (moved["parent_id"], moved["name"]) == (documents, "scan (2).txt")
    # Its text is read as any document's.
    while await extraction.run_due():
        pass
    document = (await client.get("/api/documents", headers=alice.headers)).json()["items"][0]
    text = await client.get(f"/api/documents/{document['id']}/text", headers=alice.headers)
    assert "walrus" in text.json()["text"]
    assert await inbox.run_due() == 0  # nothing left; the nested folder's file stays
    assert await _names(client, alice, nested) == ["not yet.txt"]
    assert await _documents(client, team.bob) == []


async def test_what_the_organization_refuses_goes_to_refused_once(
    client: httpx.AsyncClient, team: Team, inbox: InboxWorker
) -> None:
    limited = await client.put(
        "/api/documents/settings", json={"max_upload_bytes": 0, "allowed_types": ["pdf"]}, headers=team.manager.headers
    )
    assert limited.status_code == 200, limited.text
    alice = team.alice
    _, box = await _inbox(client, alice)
    await _put(client, alice, box, "notes.txt", b"not a pdf")
    assert await inbox.run_due() == 1
    assert await _documents(client, alice) == []
    refused = next(
        item for item in (await client.get("/api/files", params={"parent_id": box}, headers=alice.headers)).json()["items"]
    )
    assert refused["name"] == "Refused"
    assert await _names(client, alice, refused["id"]) == ["notes.txt"]
    assert await inbox.run_due() == 0  # not tried again


async def test_each_owner_gets_their_own_and_a_file_already_a_document_only_moves(
    client: httpx.AsyncClient, team: Team, inbox: InboxWorker
) -> None:
    alice, bob = team.alice, team.bob
    _, alice_box = await _inbox(client, alice)
    bob_documents, bob_box = await _inbox(client, bob)
    await _put(client, alice, alice_box, "alice.txt", b"hers")
    already = await _put(client, bob, bob_box, "bob.txt", b"his")
    added = await client.post("/api/documents", json={"file_id": already["id"]}, headers=bob.headers)
    assert added.status_code == 201, added.text
    assert await inbox.run_due() == 2
    assert await _documents(client, alice) == ["alice"]
    assert await _documents(client, bob) == ["bob"]
    assert await _names(client, bob, bob_documents) == ["Inbox", "bob.txt"]

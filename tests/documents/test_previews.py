"""First-page previews in the documents list: where the thumbnail of each document's file stands, and who sees it."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from nubes.files.thumbnails.tasks import ThumbnailWorker
from tests.documents import samples
from tests.documents.conftest import Team, upload_document


async def _json(response: httpx.Response, status: int) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _previews(page: dict[str, Any]) -> dict[str, str]:
    return {item["file_name"]: item["preview"] for item in page["items"]}


async def test_the_list_says_where_each_preview_stands_and_a_share_shows_it(
    client: httpx.AsyncClient, team: Team, app: FastAPI, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """GIVEN a PDF, an encrypted PDF, a PNG and a .docx uploaded as documents WHEN the thumbnail worker has not run
    THEN the three that get previews are `pending` and the .docx `none`; once it ran, the PDF and the PNG are `ready`,
    the encrypted PDF `none`; a new content is `pending` again; whoever the file is shared with sees the preview and
    can fetch it, nobody else can."""
    alice, bob, mallory = team.alice, team.bob, team.mallory
    pdf = await _json(await upload_document(client, alice, "invoice.pdf", samples.pages_pdf([["Total 12.50"], ["Terms"]])), 201)
    await _json(await upload_document(client, alice, "locked.pdf", samples.encrypted_pdf()), 201)
    await _json(await upload_document(client, alice, "scan.png", samples.png(["Receipt"])), 201)
    await _json(await upload_document(client, alice, "letter.docx", samples.word_document(["Dear Alice"])), 201)

    listed = await _json(await client.get("/api/documents", headers=alice.headers), 200)
    assert _previews(listed) == {"invoice.pdf": "pending", "locked.pdf": "pending", "scan.png": "pending", "letter.docx": "none"}
    assert all(item["sha256"] is not None and len(item["sha256"]) == 64 for item in listed["items"])

    assert await ThumbnailWorker(sessions, lambda: app.state.storage).run_due() == 3
    listed = await _json(await client.get("/api/documents", headers=alice.headers), 200)
    assert _previews(listed) == {"invoice.pdf": "ready", "locked.pdf": "none", "scan.png": "ready", "letter.docx": "none"}
    one = await _json(await client.get(f"/api/documents/{pdf['id']}", headers=alice.headers), 200)
    assert one["preview"] == "ready"
    thumbnail = f"/api/files/{pdf['file_id']}/thumbnail"
    assert (await client.get(thumbnail, headers=alice.headers)).headers["content-type"] == "image/webp"

    # Neither a colleague it is not shared with nor another tenant sees it.
    assert (await client.get(thumbnail, headers=bob.headers)).status_code == 404
    assert (await client.get(thumbnail, headers=mallory.headers)).status_code == 404
    shared = await client.post(
        f"/api/files/{pdf['file_id']}/shares", json={"user_id": str(bob.user.id), "permission": "view"}, headers=alice.headers
    )
    assert shared.status_code == 201, shared.text
    seen = await _json(await client.get(f"/api/documents/{pdf['id']}", headers=bob.headers), 200)
    assert (seen["preview"], seen["sha256"]) == ("ready", one["sha256"])
    assert (await client.get(thumbnail, headers=bob.headers)).status_code == 200

    # A new content: the preview is being made again, for the new hash.
    replaced = await client.put(
        f"/api/files/{pdf['file_id']}/content",
        content=samples.pages_pdf([["Total 99.00"]]),
        headers={**alice.headers, "Content-Type": "application/pdf"},
    )
    assert replaced.status_code == 200, replaced.text
    again = await _json(await client.get(f"/api/documents/{pdf['id']}", headers=alice.headers), 200)
    assert again["preview"] == "pending"
    assert again["sha256"] != one["sha256"]

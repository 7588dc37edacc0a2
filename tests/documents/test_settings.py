"""The organization's documents settings: upload limits checked before anything is kept, OCR languages the server
has (others refused with what to install), the tenant's languages used by the extraction, managers only."""

from __future__ import annotations

import httpx

from nubes.documents.extraction.tasks import ExtractionWorker
from nubes.documents.settings.service import installed_languages
from tests.documents import samples
from tests.documents.conftest import Team, upload_document


async def test_limits_are_checked_before_anything_is_kept(client: httpx.AsyncClient, team: Team) -> None:
    manager, alice = team.manager, team.alice
    defaults = (await client.get("/api/documents/settings", headers=alice.headers)).json()
    assert defaults["max_upload_bytes"] == 0
    assert defaults["allowed_types"] == []
    assert defaults["ocr_languages"] == "eng"
    assert "eng" in defaults["installed_languages"]
    change = {"max_upload_bytes": 1000, "allowed_types": ["PDF", "png", "pdf"], "ocr_languages": "eng"}
    assert (await client.put("/api/documents/settings", json=change, headers=alice.headers)).status_code == 403
    stored = await client.put("/api/documents/settings", json=change, headers=manager.headers)
    assert stored.status_code == 200, stored.text
    assert stored.json()["allowed_types"] == ["pdf", "png"]

    wrong_type = await upload_document(client, alice, "notes.txt", b"words")
    assert wrong_type.status_code == 422
    assert ".pdf, .png" in wrong_type.json()["detail"]
    too_big = await upload_document(client, alice, "big.pdf", samples.text_pdf(["x" * 40] * 30))
    assert too_big.status_code == 413
    fine = await upload_document(client, alice, "ok.pdf", samples.text_pdf(["fine"]))
    assert fine.status_code == 201
    files = (await client.get("/api/files/search", params={"q": "big"}, headers=alice.headers)).json()["items"]
    assert files == []  # nothing of the refused upload was kept
    # Another organization's limits are its own.
    theirs = await upload_document(client, team.mallory, "notes.txt", b"words")
    assert theirs.status_code == 201


async def test_ocr_languages_must_be_installed_and_are_used(
    client: httpx.AsyncClient, team: Team, extraction: ExtractionWorker
) -> None:
    manager = team.manager
    missing = await client.put(
        "/api/documents/settings", json={"max_upload_bytes": 0, "allowed_types": [], "ocr_languages": "eng+klingon"},
        headers=manager.headers,
    )  # fmt: skip
    assert missing.status_code == 422
    assert "klingon" in missing.json()["detail"]
    assert "tesseract-ocr-klingon" in missing.json()["detail"]
    assert "eng" in installed_languages()
    ok = await client.put(
        "/api/documents/settings",
        json={"max_upload_bytes": 0, "allowed_types": [], "ocr_languages": "eng"},
        headers=manager.headers,
    )
    assert ok.status_code == 200
    made = await upload_document(client, team.alice, "scan.png", samples.png(["Quarterly report"]))
    await extraction.run_due()
    text = (await client.get(f"/api/documents/{made.json()['id']}/text", headers=team.alice.headers)).json()
    assert "Quarterly" in text["text"]

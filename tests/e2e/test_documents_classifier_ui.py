"""The documents classifier in the browser: Manage's Classifier card trains on demand ("Retrain now") and shows what
it learnt per field; a new document's Details then show the classifier's suggestion (its source, confidence and the
words that drove it) and a date read from its text, accepted with one click."""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.documents.test_classifier import CONTRACTS, INVOICES
from tests.e2e.browsing import collect_problems
from tests.e2e.conftest import ALSO_THROUGH_THE_DEPLOYMENT, Server

pytestmark = [pytest.mark.e2e, ALSO_THROUGH_THE_DEPLOYMENT]

READ_WITHIN_S = 60
"""How long the server's extraction jobs may take to read a text file on a loaded machine."""
TRAINED_WITHIN_MS = 60_000


async def _api(page: Page, method: str, path: str, body: Any = None) -> Any:
    """Call the API as the UI does (JSON, with the session's CSRF token)."""
    return await page.evaluate(
        """async ([method, path, body]) => {
            const token = decodeURIComponent(document.cookie.split('; ').find(c => c.startsWith('nubes_csrf=')).split('=')[1]);
            const init = {method, headers: {'X-CSRF-Token': token}};
            if (body !== null) { init.body = JSON.stringify(body); init.headers['Content-Type'] = 'application/json'; }
            const answer = await fetch(path, init);
            const text = await answer.text();
            return {status: answer.status, body: text ? JSON.parse(text) : null};
        }""",
        [method, path, body],
    )


async def _upload(page: Page, name: str, text: str) -> Any:
    """Upload a text document and wait until the server's extraction job read it."""
    made = await page.evaluate(
        """async ([name, text]) => {
            const token = decodeURIComponent(document.cookie.split('; ').find(c => c.startsWith('nubes_csrf=')).split('=')[1]);
            const body = new FormData();
            body.append('file', new File([text], name, {type: 'text/plain'}));
            const answer = await fetch('/api/documents/upload', {method: 'POST', body, headers: {'X-CSRF-Token': token}});
            return {status: answer.status, body: await answer.json()};
        }""",
        [name, text],
    )
    assert made["status"] == 201, made
    deadline = time.monotonic() + READ_WITHIN_S
    while True:
        document = await _api(page, "GET", f"/api/documents/{made['body']['id']}")
        if (document["body"]["extraction"] or {}).get("state") == "done":
            return document["body"]
        assert time.monotonic() < deadline, f"{name} not read within {READ_WITHIN_S} s"
        await asyncio.sleep(0.3)


async def test_retrain_in_manage_then_a_new_document_shows_why_it_is_an_invoice(
    page: Page, server: Server, artifacts: Path, engine_name: str
) -> None:
    problems = collect_problems(page)
    suffix = secrets.token_hex(3)
    await page.goto(server.url + "/documents")
    types = {}
    made_here: list[dict[str, Any]] = []
    for kind in ("Invoice", "Contract"):
        made = await _api(page, "POST", "/api/documents/types", {"name": f"{kind} {suffix}"})
        assert made["status"] == 201, made
        types[kind] = made["body"]
    try:
        for index, (invoice, contract) in enumerate(zip(INVOICES, CONTRACTS, strict=True)):
            for kind, text in (("Invoice", invoice), ("Contract", contract)):
                document = await _upload(page, f"{kind.lower()}-{suffix}-{index}.txt", f"{text} Ref {suffix}{index}{kind}.")
                made_here.append(document)
                changed = await _api(page, "PATCH", f"/api/documents/{document['id']}", {"type_id": types[kind]["id"]})
                assert changed["status"] == 200, changed

        # Manage: confirming queued a training; "Retrain now" runs it at once and the card shows what it learnt.
        await page.goto(server.url + "/documents/manage")
        card = page.get_by_test_id("classifier-status")
        await expect(card).to_have_attribute("data-state", "queued")
        await page.get_by_role("button", name="Retrain now").click()
        await expect(card).to_have_attribute("data-state", "idle", timeout=TRAINED_WITHIN_MS)
        types_row = card.locator('[data-testid="classifier-field"][data-field="type"]')
        await expect(types_row).to_contain_text(f"Invoice {suffix}")
        await expect(types_row).to_contain_text(f"Contract {suffix}")
        await expect(card).to_contain_text(re.compile(r"Last trained: .+, on \d+ confirmed documents"))
        await card.scroll_into_view_if_needed()
        await page.screenshot(path=artifacts / f"documents-classifier-manage-{engine_name}.png", full_page=True)

        # A new invoice: its Details show the classifier's type (with the words why) and its date from the text.
        letter = "Berlin, 7 December 2026\n\n" + "Invoice 5005 from Zeta Gardening for hedge trimming. Amount due 80 EUR. "
        letter += f"Please pay by bank transfer; VAT included. {suffix}"
        document = await _upload(page, f"garden-{suffix}.txt", letter)
        made_here.append(document)
        await page.goto(f"{server.url}/documents?doc={document['id']}")
        panel = page.get_by_test_id("document-panel")
        learnt = panel.locator('[data-testid="suggestion"][data-source="classifier"][data-field="type"]')
        await expect(learnt).to_have_attribute("data-name", f"Invoice {suffix}")
        await expect(learnt).to_contain_text(re.compile(r"Classifier\s*Suggested type: Invoice \w+ — \d+% · words “[a-z]+”"))
        await expect(learnt).to_contain_text("learnt from confirmed documents")
        dated = panel.locator('[data-testid="suggestion"][data-field="date"]')
        await expect(dated).to_contain_text("the text says “7 December 2026”")
        await page.screenshot(path=artifacts / f"documents-classifier-suggestions-{engine_name}.png")
        suggestions = panel.get_by_role("region", name="Suggestions")
        await suggestions.screenshot(path=artifacts / f"documents-classifier-suggestion-{engine_name}.png")

        await learnt.get_by_role("button", name=f"Accept type Invoice {suffix}").click()
        await expect(learnt).to_have_count(0)
        await expect(panel.get_by_label("Type").locator("option:checked")).to_have_text(f"Invoice {suffix}")
        await dated.get_by_role("button", name=re.compile(r"^Accept date ")).click()
        await expect(dated).to_have_count(0)
        assert (await _api(page, "GET", f"/api/documents/{document['id']}"))["body"]["created_on"] == "2026-12-07"
    finally:
        # The types and documents go (the model's classes of deleted types are never suggested): the server is shared
        # by the other browser tests of this worker, whose lists, searches and suggestions must not see them.
        for made in types.values():
            assert (await _api(page, "DELETE", f"/api/documents/types/{made['id']}"))["status"] == 204
        for document in made_here:
            assert (await _api(page, "DELETE", f"/api/files/{document['file_id']}"))["status"] == 200
            assert (await _api(page, "DELETE", f"/api/trash/{document['file_id']}"))["status"] == 204
    assert problems == []

"""The AI assistant in the browser: the owner sets up the organization's provider on Manage (URL, model, the key
written once and shown only as "Key set"), tests the connection, and a document read afterwards gets the provider's
suggestions, marked "AI" with the model's explanation.

The provider is the stub of tests/documents/test_assistant.py (no real model runs on this machine), on 127.0.0.1:
this module starts a server of its own with NUBES_AI_ALLOW_PRIVATE_URLS=true and an empty database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.conftest import empty_database, engine_of
from tests.documents.test_assistant import KEY, LETTER, Stub, provider_stub
from tests.e2e.browsing import collect_problems, signed_in_context
from tests.e2e.conftest import Server
from tests.serving import serve

pytestmark = [pytest.mark.e2e]


@pytest.fixture(scope="module")
async def ai_database_url(engine_name: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    async with empty_database(engine_of(engine_name), tmp_path_factory.mktemp("ai-db") / "nubes.db") as url:
        yield url


@pytest.fixture(scope="module")
def ai_server(ai_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve(ai_database_url, tmp_path_factory.mktemp("ai-serve"), NUBES_AI_ALLOW_PRIVATE_URLS="true") as running:
        yield running


@pytest.fixture
def ai_stub() -> Iterator[Stub]:
    with provider_stub() as running:
        yield running


async def test_the_owner_sets_up_the_provider_and_its_suggestions_show(
    browser: Browser, ai_server: Server, ai_stub: Stub, artifacts: Path, engine_name: str
) -> None:
    server = ai_server
    headers = {"Authorization": f"Bearer {server.admin_token()}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as api:
        for path, name in (("types", "Invoice"), ("types", "Contract"), ("correspondents", "Acme"), ("tags", "paid")):
            assert (await api.post(f"/api/documents/{path}", json={"name": name})).status_code == 201
    ai_stub.answer = {
        "type": {"name": "Invoice", "confidence": 0.88},
        "correspondent": {"name": "Acme", "confidence": 0.8},
        "tags": ["paid", "unknown-tag"],
        "words": ["Rechnung", "Invoice"],
        "explanation": "A bill from Acme that was paid.",
    }

    context = await signed_in_context(browser, server, server.admin_username, server.admin_password)
    page: Page = await context.new_page()
    problems = collect_problems(page)
    await page.goto(server.url + "/documents/manage")
    card = page.get_by_role("form", name="AI assistant")
    await expect(card).to_be_visible()
    await card.get_by_label("Suggest types, correspondents and tags with the AI provider").check()
    await card.get_by_label("Provider URL").fill(ai_stub.base_url)
    await card.get_by_label("Model").fill("stub-1")
    await card.get_by_label("API key").fill(KEY)
    await card.get_by_role("button", name="Save").click()
    await expect(card.get_by_text("Saved the AI assistant's settings.")).to_be_visible()
    await expect(card.get_by_test_id("assistant-key")).to_have_attribute("data-key-set", "true")
    await expect(card.get_by_text("Key set")).to_be_visible()
    await card.get_by_role("button", name="Test connection").click()
    result = card.get_by_test_id("assistant-test-result")
    await expect(result).to_contain_text("Connected: the provider offers 2 models")
    assert KEY not in await page.content()
    section = page.locator("section").filter(has=page.get_by_role("heading", name="AI assistant"))
    await page.set_viewport_size({"width": 1280, "height": 1600})  # the whole card below the sticky top bar
    await section.evaluate("node => node.scrollIntoView({block: 'center'})")
    await section.screenshot(path=artifacts / f"documents-assistant-card-{engine_name}.png")

    # A document read now is sent to the provider; its answer shows as "AI" suggestions (the unknown tag is not).
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as api:
        made = await api.post("/api/documents/upload", files={"file": ("acme-invoice.txt", LETTER.encode())})
        assert made.status_code == 201, made.text
        document = made.json()
        for _ in range(120):
            found = (await api.get(f"/api/documents/{document['id']}/suggestions")).json()
            if any(item["source"] == "llm" for item in found):
                break
            await asyncio.sleep(0.5)
        assert {(item["source"], item["name"]) for item in found} == {("llm", "Invoice"), ("llm", "Acme"), ("llm", "paid")}
    await page.goto(f"{server.url}/documents?doc={document['id']}")
    panel = page.get_by_test_id("document-panel")
    suggestion = panel.locator('[data-testid="suggestion"][data-field="type"][data-name="Invoice"]')
    await expect(suggestion).to_have_attribute("data-source", "llm")
    await expect(suggestion).to_contain_text("AI")
    await expect(suggestion).to_contain_text("A bill from Acme that was paid.")
    await page.screenshot(path=artifacts / f"documents-assistant-suggestions-{engine_name}.png")
    await suggestion.get_by_role("button", name="Accept type Invoice").click()
    await expect(suggestion).to_have_count(0)
    assert problems == []
    await context.close()

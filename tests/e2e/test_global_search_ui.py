"""The top bar's search in the browser: Ctrl+K and "/" put the cursor in it, typed words find a document (its
matched word marked), ArrowDown moves to it and Enter opens its slide-over on the documents page; Esc closes."""

from __future__ import annotations

import asyncio
import secrets
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.e2e.browsing import collect_problems
from tests.e2e.conftest import ALSO_THROUGH_THE_DEPLOYMENT, Server

pytestmark = [pytest.mark.e2e, ALSO_THROUGH_THE_DEPLOYMENT]

INDEXED_WITHIN_S = 60
"""How long the server's extraction and indexing jobs may take to make a new document findable on a loaded machine."""


async def _upload_document(page: Page, name: str, text: str) -> Any:
    """Add a document as the documents page does (multipart, with the session's CSRF token)."""
    return await page.evaluate(
        """async ([name, text]) => {
            const token = decodeURIComponent(document.cookie.split('; ').find(c => c.startsWith('nubes_csrf=')).split('=')[1]);
            const body = new FormData();
            body.append('file', new File([text], name, {type: 'text/plain'}));
            const answer = await fetch('/api/documents/upload', {method: 'POST', body, headers: {'X-CSRF-Token': token}});
            return {status: answer.status, body: await answer.json()};
        }""",
        [name, text],
    )


async def _wait_until_found(page: Page, word: str) -> None:
    """Until the server's background jobs (text extraction, then the index) made the document findable."""
    deadline = time.monotonic() + INDEXED_WITHIN_S
    while True:
        found = await page.evaluate(
            "async q => (await (await fetch('/api/search/everything?q=' + encodeURIComponent(q))).json()).documents.total",
            word,
        )
        if found:
            return
        assert time.monotonic() < deadline, f"{word!r} not found within {INDEXED_WITHIN_S} s"
        await asyncio.sleep(0.5)


async def test_type_move_open_a_document_and_the_shortcuts(page: Page, server: Server, artifacts: Path, engine_name: str) -> None:
    """GIVEN a document whose text (not its name) holds a rare word, and a file named with it
    WHEN Ctrl+K focuses the top bar's search, the word is typed, ArrowDown moves past the file to the document and
    Enter opens it
    THEN the list showed them under Files and Documents (the word marked in the document's snippet), and the
    documents page shows the document's slide-over."""
    problems = collect_problems(page)
    word = f"quetzal{secrets.token_hex(3)}"
    name = f"notes-{secrets.token_hex(3)}"
    await page.goto(server.url + "/files")
    made = await _upload_document(page, f"{name}.txt", f"Minutes of the meeting about the {word} launch budget.")
    assert made["status"] == 201, made
    # In a folder of its own, apart from the files other tests of the module's server leave in the root.
    status = await page.evaluate(
        """async name => {
            const token = decodeURIComponent(document.cookie.split('; ').find(c => c.startsWith('nubes_csrf=')).split('=')[1]);
            const headers = {'X-CSRF-Token': token, 'Content-Type': 'application/json'};
            const body = JSON.stringify({name: 'palette-' + Date.now()});  // no word of the search in it
            const made = await fetch('/api/files/folders', {method: 'POST', headers, body});
            const folder = (await made.json()).id;
            const url = '/api/files/upload/raw?name=' + encodeURIComponent(name) + '&parent_id=' + folder;
            return (await fetch(url, {method: 'POST', body: 'plan', headers: {'X-CSRF-Token': token}})).status;
        }""",
        f"{word}-plan.txt",
    )
    assert status == 201
    await _wait_until_found(page, word)

    box = page.get_by_role("combobox", name="Search everything: files, documents, containers and people")
    await page.get_by_role("heading", name="Files", exact=True).click()  # the focus is on the page, not in a field
    await page.keyboard.press("Control+k")
    await expect(box).to_be_focused()
    await box.fill(word)
    listbox = page.get_by_role("listbox", name="Search results")
    document = listbox.locator(f'[data-testid="global-search-option"][data-kind="document"][data-label="{name}"]')
    await expect(document).to_be_visible(timeout=15_000)
    await expect(document.locator("mark")).to_have_text(word)
    await expect(page.get_by_role("group", name="Documents")).to_be_visible()
    await expect(listbox.get_by_role("option", name="See the result in Documents")).to_be_visible()

    file = listbox.locator(f'[data-testid="global-search-option"][data-kind="file"][data-label="{word}-plan.txt"]')
    await expect(file).to_be_visible()
    await box.press("ArrowDown")  # the files come first
    await expect(file).to_have_attribute("aria-selected", "true")
    await box.press("ArrowDown")
    await box.press("ArrowUp")
    await expect(file).to_have_attribute("aria-selected", "true")
    await box.press("ArrowDown")
    await expect(document).to_have_attribute("aria-selected", "true")
    await expect(file).to_have_attribute("aria-selected", "false")
    assert await box.get_attribute("aria-activedescendant") == await document.get_attribute("id")
    await page.screenshot(path=artifacts / f"global-search-open-{engine_name}.png")
    await box.press("Enter")

    panel = page.get_by_test_id("document-panel")
    await expect(panel).to_be_visible()
    await expect(panel.get_by_test_id("document-panel-title")).to_have_text(name)
    assert f"doc={made['body']['id']}" in page.url, page.url
    await expect(box).to_have_value("")

    # "/" focuses the box too, but not while someone types "/" into another field; Esc closes the list.
    await page.get_by_test_id("document-panel-title").click()
    await page.keyboard.press("/")
    await expect(box).to_be_focused()
    await box.fill("no-such-thing-" + secrets.token_hex(3))
    await expect(page.get_by_test_id("global-search-empty")).to_be_visible()
    await page.screenshot(path=artifacts / f"global-search-empty-{engine_name}.png")
    await box.press("Escape")
    await expect(page.get_by_test_id("global-search-panel")).to_be_hidden()
    await expect(box).to_have_attribute("aria-expanded", "false")
    other = page.get_by_role("searchbox", name="Search documents")
    await other.fill("")
    await other.focus()
    await page.keyboard.type("a/b")
    await expect(other).to_be_focused()
    await expect(other).to_have_value("a/b")

    # A file opens in its folder, selected, with its details.
    await page.keyboard.press("Control+k")
    await box.fill(word)
    # Every group answered before the keys (a group that lands after ArrowDown moves what Enter opens; CI).
    await expect(file).to_be_visible()
    await expect(document).to_be_visible(timeout=15_000)
    await box.press("ArrowDown")
    await expect(file).to_have_attribute("aria-selected", "true")
    await box.press("Enter")
    await expect(page.get_by_role("complementary", name="Details")).to_contain_text(f"{word}-plan.txt", timeout=15_000)
    assert "file=" in page.url, page.url

    # On a narrow screen the list still fits.
    await page.set_viewport_size({"width": 390, "height": 760})
    await page.keyboard.press("Control+k")
    await box.fill(word)
    await expect(document).to_be_visible()
    await page.screenshot(path=artifacts / f"global-search-narrow-{engine_name}.png")
    assert problems == []

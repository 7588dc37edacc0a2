"""The PDF viewer in the browser: a three-page PDF's first-page preview in the documents list and its slide-over;
"View" opens the viewer (pdf.js, loaded then and served by Nubes), whose thumbnail strip shows the three pages, and a
search for a word on page two finds it ("1 of 1"), marks it and shows page two; zoom and Enter step through."""

from __future__ import annotations

import base64
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import BrowserContext, Page, expect

from tests.documents import samples
from tests.e2e.browsing import collect_problems
from tests.e2e.conftest import ALSO_THROUGH_THE_DEPLOYMENT, Server

pytestmark = [pytest.mark.e2e, ALSO_THROUGH_THE_DEPLOYMENT]

PREVIEW_WITHIN_MS = 60_000
"""How long the server's thumbnail job may take to render a first page on a loaded machine (it takes under a second)."""


@pytest.fixture
async def page(admin_context: BrowserContext) -> AsyncIterator[Page]:
    tab = await admin_context.new_page()
    await tab.set_viewport_size({"width": 1440, "height": 900})
    yield tab
    await tab.close()


async def _upload_document(page: Page, name: str, data: bytes) -> Any:
    """Add a document as the documents page does (multipart, with the session's CSRF token)."""
    return await page.evaluate(
        """async ([name, encoded]) => {
            const token = decodeURIComponent(document.cookie.split('; ').find(c => c.startsWith('nubes_csrf=')).split('=')[1]);
            const bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
            const body = new FormData();
            body.append('file', new File([bytes], name, {type: 'application/pdf'}));
            const answer = await fetch('/api/documents/upload', {method: 'POST', body, headers: {'X-CSRF-Token': token}});
            return {status: answer.status, body: await answer.json()};
        }""",
        [name, base64.b64encode(data).decode()],
    )


async def test_preview_view_thumbnails_and_search_in_a_pdf(page: Page, server: Server, artifacts: Path, engine_name: str) -> None:
    """GIVEN a three-page PDF whose second page (only) holds a rare word
    WHEN its preview has been made, the list shows it, and the viewer opened from the slide-over searches the word
    THEN the strip shows three pages, the count says "1 of 1", the word is marked and the page shown is page 2."""
    problems = collect_problems(page)
    word = f"zanzibar{secrets.token_hex(3)}"
    title = f"viewer-{secrets.token_hex(3)}"
    pdf = samples.pages_pdf(
        [
            ["Quarterly report", "Introduction and summary of the quarter."],
            ["Details", f"The shipment to {word} arrived on time.", "Costs stayed within the budget."],
            ["Appendix", "Tables and figures."],
        ],
        backgrounds=["0.85 0.92 1", "1 1 1", "1 1 1"],
    )
    await page.goto(server.url + "/documents")
    made = await _upload_document(page, f"{title}.pdf", pdf)
    assert made["status"] == 201, made
    await page.reload()  # the upload went around the page: its list asks again

    # The list shows the first page's preview once the server has made it (the row's box has its size before).
    row = page.locator(f'[data-testid="document-row"][data-title="{title}"]')
    await expect(row).to_be_visible()
    preview = row.get_by_test_id("document-preview")
    box = await preview.bounding_box()
    assert box is not None
    assert (round(box["width"]), round(box["height"])) == (32, 40)
    for _ in range(PREVIEW_WITHIN_MS // 1000):
        if await preview.get_attribute("data-state") == "ready":
            break
        await page.wait_for_timeout(1000)
        await page.reload()  # the list says `pending` until the job ran; a reload asks again
        await expect(row).to_be_visible()
    await expect(preview).to_have_attribute("data-state", "ready")
    image = preview.locator("img")
    await expect(image).to_have_js_property("complete", True)
    assert await image.evaluate("img => img.naturalWidth") > 0
    await page.screenshot(path=artifacts / f"documents-previews-{engine_name}.png")

    # The slide-over shows a larger preview and View.
    await row.get_by_role("button", name=title).click()
    panel = page.get_by_test_id("document-panel")
    await expect(panel.get_by_test_id("document-preview").locator("img")).to_be_visible()
    await expect(panel.get_by_test_id("document-preview").locator("img")).to_have_js_property("complete", True)
    await page.screenshot(path=artifacts / f"documents-panel-preview-{engine_name}.png")
    await panel.get_by_test_id("document-view").click()

    viewer = page.get_by_test_id("document-viewer")
    await expect(viewer).to_be_visible()
    await expect(viewer.get_by_test_id("viewer-title")).to_have_text(title)
    await expect(viewer.get_by_test_id("viewer-page-count")).to_have_text("of 3")
    await expect(viewer.get_by_test_id("viewer-thumbnail")).to_have_count(3)
    await expect(viewer.get_by_test_id("pdf-page")).to_have_count(3)
    await expect(viewer.locator('[data-testid="pdf-page"][data-page="1"]')).to_have_attribute("data-drawn", "true")
    await expect(viewer.locator('[data-testid="viewer-thumbnail"][data-page="1"] canvas')).to_have_count(1)
    await expect(viewer.get_by_test_id("viewer-page")).to_have_value("1")

    # Search: the word is on page two only.
    search = viewer.get_by_test_id("viewer-search")
    await search.fill(word)
    await expect(viewer.get_by_test_id("viewer-search-count")).to_have_text("1 of 1")
    hit = viewer.locator('[data-testid="pdf-page"][data-page="2"] mark.search-hit.current')
    await expect(hit).to_have_count(1)
    await expect(hit).to_have_text(word)
    await expect(hit).to_be_in_viewport()
    await expect(viewer.get_by_test_id("viewer-page")).to_have_value("2")
    await expect(viewer.locator('[data-testid="viewer-thumbnail"][data-page="2"]')).to_have_attribute("aria-current", "page")
    await page.screenshot(path=artifacts / f"documents-viewer-{engine_name}.png")

    # A word on two pages, in any case: three matches; Enter and Shift+Enter step through them (and wrap).
    await search.fill("the")
    count = viewer.get_by_test_id("viewer-search-count")
    await expect(count).to_have_text("1 of 3")  # "the quarter" on page 1; "The shipment", "the budget" on page 2
    await expect(viewer.locator("mark.search-hit")).to_have_count(3)
    await search.press("Enter")
    await expect(count).to_have_text("2 of 3")
    await search.press("Shift+Enter")
    await search.press("Shift+Enter")
    await expect(count).to_have_text("3 of 3")
    await expect(viewer.locator('[data-testid="pdf-page"][data-page="2"] mark.search-hit.current')).to_have_text("the")
    await search.fill("no such word anywhere")
    await expect(count).to_have_text("No matches")

    # Zoom: in, then back to the page's width.
    zoom = viewer.get_by_test_id("viewer-zoom")
    fitted = await zoom.text_content()
    await viewer.get_by_role("button", name="Zoom in").click()
    await expect(zoom).not_to_have_text(fitted or "")
    await viewer.get_by_role("button", name="Fit width").click()
    await expect(zoom).to_have_text(fitted or "")

    # Going to a page from the strip.
    await viewer.locator('[data-testid="viewer-thumbnail"][data-page="3"]').click()
    await expect(viewer.get_by_test_id("viewer-page")).to_have_value("3")

    await page.keyboard.press("Escape")
    await expect(viewer).to_be_hidden()
    await expect(panel).to_be_visible()  # Escape closed the viewer only
    assert problems == [], problems


async def test_a_locked_pdf_says_why_and_an_image_opens_in_the_image_view(
    page: Page, server: Server, artifacts: Path, engine_name: str
) -> None:
    """GIVEN an encrypted PDF and a PNG as documents
    WHEN the thumbnail job has tried them and each is viewed
    THEN the locked PDF keeps the file-type icon and its viewer says it needs the password (no error elsewhere); the
    PNG has its preview and opens as an image."""
    problems = collect_problems(page)
    locked, picture = f"locked-{secrets.token_hex(3)}", f"scan-{secrets.token_hex(3)}"
    await page.goto(server.url + "/documents")
    assert (await _upload_document(page, f"{locked}.pdf", samples.encrypted_pdf()))["status"] == 201
    made = await page.evaluate(
        """async ([name, encoded]) => {
            const token = decodeURIComponent(document.cookie.split('; ').find(c => c.startsWith('nubes_csrf=')).split('=')[1]);
            const bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
            const body = new FormData();
            body.append('file', new File([bytes], name, {type: 'image/png'}));
            return (await fetch('/api/documents/upload', {method: 'POST', body, headers: {'X-CSRF-Token': token}})).status;
        }""",
        [f"{picture}.png", base64.b64encode(samples.png(["Receipt 12.50"])).decode()],
    )
    assert made == 201
    await page.reload()

    # The list polls while previews are being made: the locked PDF ends with the icon, the PNG with its preview.
    locked_row = page.locator(f'[data-testid="document-row"][data-title="{locked}"]')
    picture_row = page.locator(f'[data-testid="document-row"][data-title="{picture}"]')
    await expect(locked_row.get_by_test_id("document-preview")).to_have_attribute("data-state", "none", timeout=PREVIEW_WITHIN_MS)
    await expect(picture_row.get_by_test_id("document-preview")).to_have_attribute(
        "data-state", "ready", timeout=PREVIEW_WITHIN_MS
    )

    await locked_row.get_by_role("button", name=locked).click()
    panel = page.get_by_test_id("document-panel")
    await expect(panel.get_by_test_id("document-panel-title")).to_have_text(locked)
    await panel.get_by_test_id("document-view").click()
    viewer = page.get_by_test_id("document-viewer")
    await expect(viewer.get_by_role("alert")).to_contain_text("protected by a password")
    await viewer.get_by_role("button", name="Close viewer").click()
    await expect(viewer).to_be_hidden()

    await picture_row.get_by_role("button", name=picture).click()
    await expect(panel.get_by_test_id("document-panel-title")).to_have_text(picture)
    await panel.get_by_test_id("document-view").click()
    image = viewer.get_by_test_id("viewer-image").locator("img")
    await expect(image).to_be_visible()
    await expect(image).to_have_js_property("complete", True)
    assert await image.evaluate("img => img.naturalWidth") > 0
    await viewer.get_by_role("button", name="Zoom in").click()
    await page.screenshot(path=artifacts / f"documents-viewer-image-{engine_name}.png")
    await page.keyboard.press("Escape")
    await expect(viewer).to_be_hidden()
    assert problems == [], problems

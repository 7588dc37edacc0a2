"""Documents in the browser: Manage's vocabularies (with a matching rule), a dropped scan read by OCR, the type it
suggests accepted and its metadata edited in the slide-over, filters and full-text search kept in the URL across a
reload, a duplicate kept on request and removed; a member's view."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, JSHandle, Page, expect

from tests.documents import samples
from tests.e2e.browsing import collect_problems, signed_in_context
from tests.e2e.conftest import ALSO_THROUGH_THE_DEPLOYMENT, Server
from tests.e2e.test_identity_ui import STRONG_PASSWORD
from tests.e2e.test_sharing_ui import _member

pytestmark = [pytest.mark.e2e, ALSO_THROUGH_THE_DEPLOYMENT]

READ_WITHIN_MS = 90_000
"""How long the OCR of one page may take on a loaded machine (it takes a few seconds)."""


async def _drop(page: Page, name: str, data: bytes) -> None:
    """Drop one file from the desktop on the documents list, as a person dragging it there does."""
    dropped: JSHandle = await page.evaluate_handle(
        """([name, encoded]) => {
            const bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
            const dt = new DataTransfer();
            dt.items.add(new File([bytes], name, {type: 'image/png'}));
            return dt;
        }""",
        [name, base64.b64encode(data).decode()],
    )
    await page.get_by_test_id("drop-zone").dispatch_event("drop", {"dataTransfer": dropped})


async def test_manage_drop_read_file_filter_and_reload(page: Page, server: Server, artifacts: Path, engine_name: str) -> None:
    """GIVEN an admin with a type (suggested for text with "invoice") and a tag made in Manage
    WHEN they drop a scan, wait for its text, accept the suggested type, give it the tag, filter by the type and
    search its text for a word of it
    THEN the search finds it with the word marked, and a reload of the URL shows the same filters, the same hit and
    the open document."""
    problems = collect_problems(page)
    scan = samples.png(["Invoice 4711 Acme Corporation"])

    # Manage: a type, a tag with its colour, a category with one below it (deleting it would take both).
    await page.goto(server.url + "/documents")
    await expect(page.get_by_role("heading", name="Documents", exact=True)).to_be_visible()
    await page.get_by_role("link", name="Manage", exact=True).click()
    await expect(page.get_by_role("heading", name="Manage documents")).to_be_visible()
    new_type = page.get_by_role("form", name="New type")
    await new_type.get_by_label("New type").fill("Invoice")
    await new_type.get_by_label("Suggest it when the text…").select_option("any")
    await new_type.get_by_label("Match").fill("invoice")
    await new_type.get_by_role("button", name="Add").click()
    invoice = page.get_by_test_id("manage-types").locator('[data-testid="term-row"][data-name="Invoice"]')
    await expect(invoice.get_by_test_id("term-rule")).to_have_text("any: invoice")
    # A rule that cannot work is refused, and the dialog says why.
    await invoice.get_by_role("button", name="Edit Invoice").click()
    edit = page.get_by_role("dialog", name="Edit Invoice")
    await edit.get_by_label("Suggest it when the text…").select_option("regex")
    await edit.get_by_label("Match").fill("invoice(")
    await edit.get_by_role("button", name="Save").click()
    await expect(edit.get_by_role("alert")).to_contain_text("The regular expression cannot be used")
    await edit.get_by_role("button", name="Close").click()
    await expect(edit).to_be_hidden()
    await expect(invoice.get_by_test_id("term-rule")).to_have_text("any: invoice")
    new_tag = page.get_by_role("form", name="New tag")
    await new_tag.get_by_label("New tag").fill("paid")
    await new_tag.get_by_role("button", name="Colour #22c55e").click()
    await new_tag.get_by_role("button", name="Add").click()
    paid = page.get_by_test_id("manage-tags").locator('[data-testid="tag-row"][data-name="paid"]')
    await expect(paid.get_by_test_id("tag-chip")).to_have_css("background-color", "rgb(34, 197, 94)")
    new_category = page.get_by_role("form", name="New category")
    await new_category.get_by_label("New category").fill("Finance")
    await new_category.get_by_role("button", name="Add").click()
    await expect(page.locator('[data-testid="category-row"][data-path="Finance"]')).to_be_visible()
    await new_category.get_by_label("New category").fill("Taxes")
    await new_category.get_by_label("Inside").select_option(label="Finance")
    await new_category.get_by_role("button", name="Add").click()
    await expect(page.locator('[data-testid="category-row"][data-path="Finance / Taxes"]')).to_be_visible()
    await page.get_by_role("button", name="Delete Finance", exact=True).click()
    confirm = page.get_by_role("dialog", name="Delete Finance?")
    await expect(confirm.get_by_test_id("category-impact")).to_have_text(
        "This also deletes the 1 category below it. No document is in any of them."
    )
    await page.screenshot(path=artifacts / f"documents-manage-delete-{engine_name}.png")
    await confirm.get_by_role("button", name="Cancel").click()
    await expect(confirm).to_be_hidden()
    # The settings: limits saved (and put back, as other tests upload other kinds of files).
    settings = page.get_by_role("form", name="Document settings")
    await settings.get_by_label("Allowed file types").fill("pdf, .PNG")
    await settings.get_by_role("button", name="Save settings").click()
    await expect(settings.get_by_role("status")).to_have_text("Saved the document settings.")
    await expect(settings.get_by_label("Allowed file types")).to_have_value("pdf, png")
    await settings.get_by_label("Allowed file types").fill("")
    await settings.get_by_role("button", name="Save settings").click()
    await expect(settings.get_by_role("status")).to_have_text("Saved the document settings.")
    await expect(settings.get_by_label("Allowed file types")).to_have_value("")
    await page.evaluate("window.scrollTo(0, 0)")  # a full-page shot keeps the sticky top bar where the page is scrolled
    await page.screenshot(path=artifacts / f"documents-manage-{engine_name}.png", full_page=True)

    # Drop the scan: the queue shows it, then the list; the slide-over follows the OCR until the text is read.
    await page.get_by_role("link", name="Back to documents").click()
    await _drop(page, "invoice-4711.png", scan)
    await expect(page.locator('[data-testid="upload"][data-state="done"]')).to_have_count(1)
    row = page.locator('[data-testid="document-row"][data-title="invoice-4711"]')
    await expect(row).to_be_visible()
    await row.get_by_role("button", name="invoice-4711").click()
    panel = page.get_by_test_id("document-panel")
    await expect(panel.get_by_test_id("document-panel-title")).to_have_text("invoice-4711")
    await expect(panel.get_by_test_id("extraction-status")).to_have_attribute("data-state", "done", timeout=READ_WITHIN_MS)
    await expect(row.get_by_test_id("extraction")).to_have_attribute("data-state", "done")
    await panel.get_by_role("tab", name="Text").click()
    await expect(panel.get_by_test_id("document-text")).to_contain_text("Acme")

    # The type is suggested by its rule: accepted, the document has it. The tag is edited in place; the list and
    # the history follow.
    await panel.get_by_role("tab", name="Details").click()
    suggestion = panel.locator('[data-testid="suggestion"][data-field="type"][data-name="Invoice"]')
    reason = re.compile(r"Suggested type: Invoice — \d+% · matched “invoice” \(rule any: invoice\)", re.IGNORECASE)
    await expect(suggestion).to_contain_text(reason)
    await page.screenshot(path=artifacts / f"documents-suggestion-{engine_name}.png")
    await suggestion.get_by_role("button", name="Accept type Invoice").click()
    await expect(suggestion).to_have_count(0)
    await expect(panel.get_by_label("Type")).to_have_value(re.compile(r"^[0-9a-f-]{36}$"))
    await expect(panel.get_by_label("Type").locator("option:checked")).to_have_text("Invoice")
    await panel.get_by_role("combobox", name="Tags").fill("pa")
    await panel.get_by_role("option", name="paid").click()
    await expect(panel.get_by_test_id("tag-chip")).to_have_text("paid")
    await expect(row.get_by_test_id("tag-chip")).to_have_text("paid")
    await expect(row).to_contain_text("Invoice")
    await panel.get_by_role("tab", name="History").click()
    await expect(panel.get_by_test_id("history-entry").first).to_contain_text("Tags: — → paid")
    await expect(panel.get_by_test_id("history-entry").nth(1)).to_contain_text("Type: — → Invoice")
    await page.keyboard.press("Escape")
    await expect(panel).to_be_hidden()

    # Filter by the type in the source panel, then search: chips say what is on, the row is found.
    await page.get_by_role("navigation", name="Document views").get_by_role("button", name="By type").click()
    await page.get_by_role("list", name="Types").get_by_role("button", name=re.compile(r"^Invoice")).click()
    await expect(page.locator('[data-testid="filter-chip"][data-filter="type"]')).to_have_text("Type: Invoice")
    # The search reads the text: a word of its body finds it (once the index has it), marked in the snippet.
    await page.get_by_label("Search documents").fill("acme")
    await expect(page.locator('[data-testid="filter-chip"][data-filter="q"]')).to_have_text("Search: “acme”")
    hit = page.locator('[data-testid="search-result"][data-title="invoice-4711"]')
    await expect(page.get_by_test_id("search-result")).to_have_count(1, timeout=30_000)
    await expect(hit.locator("mark").first).to_have_text(re.compile(r"^acme$", re.I))
    # How many matched, and facets that count them by type (the one shown: Invoice, 1).
    await expect(page.get_by_test_id("search-summary")).to_have_text("1 match")
    await expect(page.get_by_test_id("facet-type")).to_have_text(re.compile(r"^Invoice\s*1$"))
    await page.screenshot(path=artifacts / f"documents-search-{engine_name}.png")
    await hit.get_by_role("button").click()
    await expect(panel).to_be_visible()
    assert re.search(r"[?&]type=[0-9a-f-]{36}", page.url), page.url
    assert "q=acme" in page.url, page.url
    assert "doc=" in page.url, page.url

    # The URL is the view: a reload shows the same filters, the row and the open document.
    await page.reload()
    await expect(page.locator('[data-testid="filter-chip"][data-filter="type"]')).to_have_text("Type: Invoice")
    await expect(page.locator('[data-testid="filter-chip"][data-filter="q"]')).to_have_text("Search: “acme”")
    await expect(page.get_by_label("Search documents")).to_have_value("acme")
    await expect(page.get_by_test_id("search-result")).to_have_count(1)
    await expect(hit.locator("mark").first).to_have_text(re.compile(r"^acme$", re.I))
    await expect(panel.get_by_test_id("document-panel-title")).to_have_text("invoice-4711")
    await expect(panel.get_by_label("Type")).to_have_value(re.compile(r"^[0-9a-f-]{36}$"))
    await page.screenshot(path=artifacts / f"documents-{engine_name}.png")
    await panel.get_by_role("button", name="Close document").click()
    await page.screenshot(path=artifacts / f"documents-list-{engine_name}.png")

    # The same scan again is a duplicate: the queue says so and keeps it only when asked; then it is removed.
    await _drop(page, "invoice-4711.png", scan)
    duplicate = page.locator('[data-testid="upload"][data-duplicate="true"]')
    await expect(duplicate).to_contain_text("You already have this document")
    await duplicate.get_by_role("button", name="Upload invoice-4711.png anyway").click()
    await expect(page.locator('[data-testid="upload"][data-state="done"]')).to_have_count(1)
    await page.get_by_role("navigation", name="Document views").get_by_role("button", name="All documents").click()
    await expect(page.get_by_test_id("filter-chip")).to_have_count(0)
    copy = page.locator('[data-testid="document-row"][data-title="invoice-4711 (2)"]')
    await copy.get_by_role("button", name="invoice-4711 (2)").click()
    await panel.get_by_role("button", name="Remove document").click()
    removal = page.get_by_role("dialog", name="Remove invoice-4711 (2) from Documents?")
    await expect(removal).to_contain_text("The file itself stays in your files as invoice-4711 (2).png")
    await removal.get_by_role("button", name="Remove document").click()
    await expect(copy).to_have_count(0)
    await expect(panel).to_be_hidden()
    await expect(row).to_be_visible()

    # Expected: the browser logs the deliberate 422 of the bad rule and 409 of the duplicate. Nothing else may go wrong.
    unexpected = [problem for problem in problems if "409 (Conflict)" not in problem and "422 (Unprocessable" not in problem]
    assert unexpected == []


async def test_a_member_files_documents_but_does_not_manage_them(
    browser: Browser, server: Server, artifacts: Path, engine_name: str
) -> None:
    """A member (documents.read and .write, not .manage) sees the empty states and no Manage; Manage says who may."""
    context = await signed_in_context(browser, server, _member(server), STRONG_PASSWORD)
    try:
        page = await context.new_page()
        problems = collect_problems(page)
        await page.goto(server.url + "/documents")
        await expect(page.get_by_role("heading", name="No documents yet")).to_be_visible()
        await expect(page.get_by_text("Drop a PDF or a scan here")).to_be_visible()
        await expect(page.get_by_role("button", name="Upload", exact=True)).to_be_visible()
        await expect(page.get_by_role("link", name="Manage", exact=True)).to_have_count(0)
        await page.screenshot(path=artifacts / f"documents-empty-{engine_name}.png")
        await page.get_by_role("navigation", name="Document views").get_by_role("button", name="Shared with me").click()
        await expect(page.get_by_role("heading", name="Nothing shared with you yet")).to_be_visible()
        assert "view=shared" in page.url, page.url
        await page.goto(server.url + "/documents/manage")
        await expect(page.get_by_role("heading", name="Only document managers change these")).to_be_visible()
        await page.goto(server.url + "/")
        await expect(page.get_by_test_id("documents-count")).to_have_text("No documents yet")
        assert problems == []
    finally:
        await context.close()

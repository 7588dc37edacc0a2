"""Bulk actions and saved views in the browser: two documents ticked in the list get a tag at once from the bulk
bar; the list filtered by that tag is saved as a view pinned to the sidebar and shown on the overview; the sidebar's
link and the overview's card open it again."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import BrowserContext, Page, expect

from tests.e2e.browsing import collect_problems
from tests.e2e.conftest import ALSO_THROUGH_THE_DEPLOYMENT, Server

pytestmark = [pytest.mark.e2e, ALSO_THROUGH_THE_DEPLOYMENT]


@pytest.fixture
async def page(admin_context: BrowserContext) -> AsyncIterator[Page]:
    tab = await admin_context.new_page()
    await tab.set_viewport_size({"width": 1440, "height": 900})
    yield tab
    await tab.close()


async def _call(page: Page, method: str, path: str, body: Any = None) -> Any:
    """A JSON call as the page makes it (with the session's CSRF token)."""
    return await page.evaluate(
        """async ([method, path, body]) => {
            const token = decodeURIComponent(document.cookie.split('; ').find(c => c.startsWith('nubes_csrf=')).split('=')[1]);
            const init = {method, headers: {'X-CSRF-Token': token}};
            if (body !== null) { init.body = JSON.stringify(body); init.headers['Content-Type'] = 'application/json'; }
            const answer = await fetch(path, init);
            return {status: answer.status, body: answer.status === 204 ? null : await answer.json()};
        }""",
        [method, path, body],
    )


async def _upload(page: Page, name: str, text: str) -> Any:
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


async def test_tag_two_documents_in_bulk_then_save_and_pin_the_view(
    page: Page, server: Server, artifacts: Path, engine_name: str
) -> None:
    """GIVEN two new documents and a tag
    WHEN both are ticked in the list and the bulk bar adds the tag, and the list filtered by it is saved as a view
    THEN both rows show the tag, the view is listed in the source panel, pinned in the sidebar under Documents and
    shown on the overview, and each of these opens the filtered list."""
    problems = collect_problems(page)
    marker = secrets.token_hex(3)
    titles = [f"bulk-{marker}-one", f"bulk-{marker}-two"]
    await page.goto(server.url + "/documents")
    for title in titles:
        made = await _upload(page, f"{title}.txt", f"words of {title}")
        assert made["status"] == 201, made
    tag = await _call(page, "POST", "/api/documents/tags", {"name": f"batch-{marker}", "color": "#22c55e"})
    assert tag["status"] == 201, tag
    await page.reload()

    # Tick both rows: the bulk bar counts them.
    for title in titles:
        await page.get_by_role("checkbox", name=f"Select {title}", exact=True).check()
    bar = page.get_by_role("toolbar", name="Bulk actions")
    await expect(bar.get_by_test_id("bulk-count")).to_have_text("2 selected")
    await page.screenshot(path=artifacts / f"documents-bulk-bar-{engine_name}.png")

    await bar.get_by_role("button", name="Tags", exact=True).click()
    form = page.get_by_role("form", name="Change tags")
    picker = form.get_by_role("combobox", name="Tags")
    await picker.fill(f"batch-{marker}")
    await picker.press("Enter")
    await page.get_by_role("heading", name="Tags of 2 documents").click()  # away from the picker: its list closes
    await page.screenshot(path=artifacts / f"documents-bulk-tags-{engine_name}.png")
    await form.get_by_role("button", name="Add tags").click()
    await expect(page.get_by_test_id("bulk-notice")).to_have_text("2 documents changed.")
    for title in titles:
        row = page.locator(f'[data-testid="document-row"][data-title="{title}"]')
        await expect(row).to_contain_text(f"batch-{marker}")

    # The list filtered by the tag, saved as a view pinned to the sidebar and shown on the overview.
    await page.get_by_role("button", name="Clear selection").click()
    await page.goto(server.url + f"/documents?tag={tag['body']['id']}&sort=title")
    await expect(page.get_by_test_id("document-row")).to_have_count(2)
    await page.get_by_role("button", name="Save current view").click()
    save = page.get_by_role("form", name="Save view")
    await save.get_by_label("Name").fill(f"Batch {marker}")
    await save.get_by_label("Show on the overview").check()
    await save.get_by_role("button", name="Save view").click()
    listed = page.get_by_role("list", name="Saved views").get_by_role("button", name=f"Batch {marker} (pinned)", exact=True)
    await expect(listed).to_have_attribute("aria-current", "page")
    pinned = page.get_by_role("navigation", name="Sections").get_by_role("link", name=f"Batch {marker}")
    await expect(pinned).to_be_visible()
    await page.screenshot(path=artifacts / f"documents-saved-views-{engine_name}.png")

    await page.goto(server.url + "/documents")
    await expect(page.get_by_test_id("document-row").first).to_be_visible()
    await pinned.click()
    columns = "type%2Ccorrespondent%2Ctags%2Ccreated%2Cadded%2Ctext"
    await expect(page).to_have_url(f"{server.url}/documents?tag={tag['body']['id']}&sort=title&cols={columns}")
    await expect(page.get_by_test_id("document-row")).to_have_count(2)
    await expect(page.get_by_test_id("document-row").first).to_have_attribute("data-title", titles[0])

    await page.goto(server.url + "/")
    card = page.get_by_test_id("overview-view").filter(has_text=f"Batch {marker}")
    await expect(card).to_contain_text("2 documents")
    await page.screenshot(path=artifacts / f"documents-overview-views-{engine_name}.png")
    await card.click()
    await expect(page.get_by_test_id("document-row")).to_have_count(2)

    # Leave the admin's sidebar and overview as they were for the other tests.
    views = await _call(page, "GET", "/api/documents/views")
    for view in views["body"]:
        if view["name"] == f"Batch {marker}":
            assert (await _call(page, "DELETE", f"/api/documents/views/{view['id']}"))["status"] == 204
    assert problems == [], problems

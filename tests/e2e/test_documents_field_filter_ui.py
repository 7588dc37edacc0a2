"""The documents list filtered by a custom field in the browser: "+ Field" with a select's option and with a number
range, kept in the URL, saved as a view and opened again; a view whose field was deleted since opens as "Field
removed"."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.e2e.browsing import collect_problems, signed_in_context
from tests.e2e.conftest import Server

pytestmark = [pytest.mark.e2e]

RANGE = f"10 {chr(0x2013)} 100"
"""How a chip shows a range (an en dash between its bounds)."""

_API = """async ([method, url, body]) => {
    const token = decodeURIComponent(document.cookie.split('; ').find(c => c.startsWith('nubes_csrf=')).split('=')[1]);
    const init = {method, headers: {'X-CSRF-Token': token}};
    if (body instanceof Array) {  // [name, text]: a document to upload
        init.body = new FormData();
        init.body.append('file', new File([body[1]], body[0], {type: 'text/plain'}));
    } else if (body !== null) {
        init.body = JSON.stringify(body);
        init.headers['Content-Type'] = 'application/json';
    }
    const answer = await fetch(url, init);
    return {status: answer.status, body: answer.status === 204 ? null : await answer.json()};
}"""


async def _api(page: Page, method: str, url: str, body: Any = None, status: int = 200) -> Any:
    """Call the API as the page does (the session's cookie and CSRF token)."""
    answer = await page.evaluate(_API, [method, url, body])
    assert answer["status"] == status, answer
    return answer["body"]


@pytest.fixture
async def page(browser: Browser, server: Server) -> AsyncIterator[Page]:
    context: BrowserContext = await signed_in_context(browser, server, server.admin_username, server.admin_password)
    tab = await context.new_page()
    yield tab
    await context.close()


def _rows(page: Page, suffix: str) -> Any:
    return page.locator(f'[data-testid="document-row"][data-title$="-{suffix}"]')


async def test_filter_by_a_select_and_a_number_range_save_as_a_view_and_reopen(
    page: Page, server: Server, artifacts: Path, engine_name: str
) -> None:
    """GIVEN three documents with a state (a select: Open or Paid) and an amount (a number)
    WHEN the list is filtered with "+ Field" by state Paid, then by an amount between 10 and 100, saved as a view,
    cleared, and the view opened again
    THEN each filter shows its chip and only the documents it matches, the URL holds it, the view brings it back, and
    once the amount field is deleted the view opens with a "Field removed" chip and no document."""
    problems = collect_problems(page)
    suffix = uuid.uuid4().hex[:6]  # the server outlives a test run: names of this run only
    state_name, amount_name = f"State {suffix}", f"Amount {suffix}"
    await page.goto(server.url + "/documents")
    await expect(page.get_by_role("heading", name="Documents", exact=True)).to_be_visible()
    state = await _api(
        page, "POST", "/api/documents/fields",
        {"name": state_name, "data_type": "select", "options": [{"label": "Open"}, {"label": "Paid"}]}, 201,
    )  # fmt: skip
    amount = await _api(page, "POST", "/api/documents/fields", {"name": amount_name, "data_type": "number"}, 201)
    options = {option["label"]: option["id"] for option in state["options"]}
    for name, option, number in (("one", "Open", 5), ("two", "Paid", 50), ("three", "Paid", 500)):
        document = await _api(page, "POST", "/api/documents/upload", [f"{name}-{suffix}.txt", f"{name} {suffix}"], 201)
        values = [{"field_id": state["id"], "value": options[option]}, {"field_id": amount["id"], "value": number}]
        await _api(page, "PATCH", f"/api/documents/{document['id']}", {"custom_fields": values})
    await page.reload()

    # By a select's option.
    await page.get_by_test_id("field-filter-button").click()
    menu = page.get_by_role("form", name="Filter by a custom field")
    await menu.get_by_label("Field").select_option(label=f"{state_name} (Choice (select))")
    await menu.get_by_label("Is").select_option(label="Paid")
    await menu.get_by_role("button", name="Apply").click()
    chip = page.locator('[data-testid="filter-chip"][data-filter="field"]')
    await expect(chip).to_have_text(f"{state_name}: Paid")
    await expect(_rows(page, suffix)).to_have_count(2)
    await expect(page.locator(f'[data-testid="document-row"][data-title="one-{suffix}"]')).to_have_count(0)
    query = parse_qs(urlparse(page.url).query)
    assert (query["field"], query["field_value"]) == ([state["id"]], [options["Paid"]])

    # By a number range (the menu opens on the current filter; another field starts afresh).
    await page.get_by_test_id("field-filter-button").click()
    await menu.get_by_label("Field").select_option(label=f"{amount_name} (Number)")
    await menu.get_by_label("At least").fill("10")
    await menu.get_by_label("At most").fill("100")
    await page.screenshot(path=artifacts / f"documents-field-filter-menu-{engine_name}.png")
    await menu.get_by_role("button", name="Apply").click()
    await expect(chip).to_have_text(f"{amount_name}: {RANGE}")
    await expect(_rows(page, suffix)).to_have_count(1)
    await expect(page.locator(f'[data-testid="document-row"][data-title="two-{suffix}"]')).to_be_visible()
    query = parse_qs(urlparse(page.url).query)
    assert (query["field"], query["field_min"], query["field_max"]) == ([amount["id"]], ["10"], ["100"])
    assert "field_value" not in query
    await page.screenshot(path=artifacts / f"documents-field-filter-{engine_name}.png")

    # Saved as a view, cleared, opened again.
    await page.get_by_role("button", name="Save current view").click()
    save = page.get_by_role("form", name="Save view")
    view_name = f"Middle {suffix}"
    await save.get_by_label("Name").fill(view_name)
    await save.get_by_role("button", name="Save view").click()
    listed = page.get_by_role("list", name="Saved views").get_by_role("button", name=f"{view_name} (pinned)", exact=True)
    await expect(listed).to_have_attribute("aria-current", "page")
    await chip.get_by_role("button", name=f"Remove filter {amount_name}: {RANGE}").click()
    await expect(chip).to_have_count(0)
    await expect(_rows(page, suffix)).to_have_count(3)
    await expect(listed).not_to_have_attribute("aria-current", "page")
    await listed.click()
    await expect(chip).to_have_text(f"{amount_name}: {RANGE}")
    await expect(_rows(page, suffix)).to_have_count(1)
    await expect(listed).to_have_attribute("aria-current", "page")
    views = await _api(page, "GET", "/api/documents/views")
    saved = next(view for view in views if view["name"] == view_name)
    assert (saved["query"]["custom_field_id"], saved["query"]["custom_field_min"], saved["query"]["custom_field_max"]) == (
        amount["id"], "10", "100",
    )  # fmt: skip

    # The field deleted: the view still opens, saying so, and lists nothing until the filter goes.
    await _api(page, "DELETE", f"/api/documents/fields/{amount['id']}", None, 200)
    await page.goto(server.url + "/documents")
    reopened = page.get_by_role("list", name="Saved views").get_by_role(
        "button", name=f"{view_name} (pinned) field removed", exact=True
    )
    await reopened.click()
    await expect(chip).to_have_text("Field removed")
    await expect(_rows(page, suffix)).to_have_count(0)
    await page.screenshot(path=artifacts / f"documents-field-filter-removed-{engine_name}.png")
    await chip.get_by_role("button", name="Remove filter Field removed").click()
    await expect(_rows(page, suffix)).to_have_count(3)
    assert problems == []

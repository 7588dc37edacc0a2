"""A folder larger than one page of the file manager's listing, in the browser: it shows a page at a time with a
pager, and `/files?folder=…&file=…` (what the top bar's search opens) shows the page that holds the file, selected,
scrolled into view, with its details."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.e2e.browsing import collect_problems, signed_in_context
from tests.e2e.conftest import Server

pytestmark = [pytest.mark.e2e]

PAGE = 500
"""Entries on one page of the file manager (FOLDER_PAGE in web/src/api/files.ts)."""
FOLDERS = PAGE + 20


async def fill(server: Server, name: str, folders: int, file: str) -> dict[str, str]:
    """A folder `name` of the admin's holding `folders` folders and the file `file`, made over the API (8 requests at
    a time) before the page opens it: the folder's id and the file's."""
    headers = {"Authorization": f"Bearer {server.admin_token()}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=60) as http:
        big = await http.post("/api/files/folders", json={"name": name})
        assert big.status_code == 201, big.text
        folder_id = big.json()["id"]
        gate = asyncio.Semaphore(8)

        async def make(index: int) -> None:
            async with gate:
                made = await http.post("/api/files/folders", json={"name": f"folder {index:04d}", "parent_id": folder_id})
                assert made.status_code == 201, made.text

        await asyncio.gather(*(make(index) for index in range(folders)))
        uploaded = await http.post(
            "/api/files/upload/raw", params={"name": file, "parent_id": folder_id}, content=b"the last entry"
        )
        assert uploaded.status_code == 201, uploaded.text
        return {"folder": folder_id, "file": uploaded.json()["id"]}


@pytest.fixture
async def page(browser: Browser, server: Server) -> AsyncIterator[Page]:
    context: BrowserContext = await signed_in_context(browser, server, server.admin_username, server.admin_password)
    tab = await context.new_page()
    yield tab
    await context.close()


async def test_a_file_past_the_first_page_opens_selected_with_its_details(
    page: Page, server: Server, artifacts: Path, engine_name: str
) -> None:
    """GIVEN a folder of 520 folders and one file (listed last: folders come first)
    WHEN its URL with `file=` is opened
    THEN the second page shows, the file's row is selected and in view, and its details show; the pager goes back
    to the first page."""
    problems = collect_problems(page)
    name = f"big-{uuid.uuid4().hex[:6]}"
    target = f"zz-last-{uuid.uuid4().hex[:6]}.txt"
    made = await fill(server, name, FOLDERS, target)

    await page.goto(f"{server.url}/files?folder={made['folder']}&file={made['file']}")
    details = page.get_by_role("complementary", name="Details")
    # A deadline for a hang, not a speed check: on a CI machine busy with other workers the first listing of 521
    # entries and the file's place in it took more than the default 5 s.
    await expect(details).to_contain_text(target, timeout=30_000)
    await expect(details.get_by_role("heading", name=target)).to_be_in_viewport()
    row = page.locator(f'[data-testid="file-row"][data-id="{made["file"]}"]')
    await expect(row).to_have_attribute("aria-selected", "true")
    await expect(row).to_be_in_viewport()
    pager = page.get_by_role("navigation", name="Pages")
    await expect(pager).to_contain_text(f"{PAGE + 1}{chr(0x2013)}{FOLDERS + 1} of {FOLDERS + 1}")
    await expect(page.get_by_test_id("file-row")).to_have_count(FOLDERS + 1 - PAGE)
    await page.screenshot(path=artifacts / f"files-large-folder-{engine_name}.png")

    await pager.get_by_role("button", name="Previous").click()
    await expect(page.get_by_test_id("file-row")).to_have_count(PAGE)
    await expect(page.locator('[data-testid="file-row"][data-name="folder 0000"]')).to_be_visible()
    await expect(row).to_have_count(0)
    assert problems == []

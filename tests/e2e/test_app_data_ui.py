"""App data on the account page: the collections apps keep, by app, with their size and last change, and deleting one."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, expect

from tests.e2e.browsing import VIEWPORT, collect_problems, sign_in
from tests.e2e.conftest import Server

pytestmark = [pytest.mark.e2e]

PASSWORD = "Copper-lantern-meadow-river-58"


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    fresh = await browser.new_context(viewport=VIEWPORT)
    yield fresh
    await fresh.close()


def _member_with_data(server: Server) -> str:
    username = f"e2e-{secrets.token_hex(4)}"
    made = httpx.post(
        f"{server.url}/api/admin/users",
        headers={"Authorization": f"Bearer {server.admin_token()}"},
        json={"username": username, "password": PASSWORD},
    )
    made.raise_for_status()
    token = httpx.post(f"{server.url}/api/auth/login", json={"username": username, "password": PASSWORD}).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    for collection, count in (("notes", 3), ("posts", 1)):
        for number in range(count):
            written = httpx.put(
                f"{server.url}/api/apps/data/me/{collection}/docs/d{number}", json={"text": "x" * 500}, headers=auth
            )
            written.raise_for_status()
    return username


async def test_a_member_sees_the_app_data_in_their_account_and_deletes_a_collection(
    context: BrowserContext, server: Server, artifacts: Path, engine_name: str
) -> None:
    """GIVEN a member whose account holds the collections notes (3 documents) and posts (1)
    WHEN they open their account page and delete posts (confirming)
    THEN the App data card lists both with their counts, and then only notes."""
    username = _member_with_data(server)
    page = await context.new_page()
    problems = collect_problems(page)
    failed: list[str] = []
    page.on("response", lambda response: failed.append(f"{response.status} {response.url}") if response.status >= 500 else None)
    await page.goto(server.url + "/login?next=%2Faccount")
    await sign_in(page, username, PASSWORD)
    rows = page.get_by_test_id("app-data-collection")
    await expect(rows).to_have_count(2)
    await expect(rows.nth(0)).to_contain_text("notes")
    await expect(rows.nth(0)).to_contain_text("3 documents")
    await rows.nth(1).scroll_into_view_if_needed()
    await page.screenshot(path=artifacts / f"account-app-data-{engine_name}.png", full_page=True)

    await page.get_by_role("button", name="Delete collection posts").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_contain_text("Every document and attachment in it is deleted")
    await dialog.get_by_role("button", name="Delete collection").click()
    await expect(page.get_by_text("The collection posts and everything in it are deleted.")).to_be_visible()
    await expect(rows).to_have_count(1)
    assert failed == [], failed
    assert problems == []

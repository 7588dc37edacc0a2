"""Admin → Settings in the browser: the hub lists every settings group with its summary, and the admin turns feature
flags on and off for the tenant and (a platform administrator) for the whole platform, through the real API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import BrowserContext, Page, expect

from tests.e2e.browsing import collect_problems
from tests.e2e.conftest import ALSO_THROUGH_THE_DEPLOYMENT, Server

pytestmark = [pytest.mark.e2e, ALSO_THROUGH_THE_DEPLOYMENT]


@pytest.fixture
async def admin_page(admin_context: BrowserContext) -> AsyncIterator[Page]:
    tab = await admin_context.new_page()
    yield tab
    await tab.close()


async def flag(server: Server, key: str) -> dict[str, object]:
    async with httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {server.admin_token()}"}) as http:
        answer = await http.get(f"/api/ops/flags/{key}")
        assert answer.status_code == 200, answer.text
        body: dict[str, object] = answer.json()
        return body


async def test_admin_opens_settings_and_toggles_flags(
    admin_page: Page, server: Server, artifacts: Path, engine_name: str
) -> None:
    """GIVEN the first admin (a platform administrator) on Admin → Settings
    WHEN they open Feature flags and turn OCR of plain files on for their tenant, and WebDAV's Depth: infinity on for
    the platform
    THEN the API reports both values with their source, and resetting them in the page brings the defaults back."""
    page = admin_page
    problems = collect_problems(page)
    await page.goto(server.url + "/admin")
    await page.get_by_role("navigation", name="Admin").get_by_role("link", name="Settings").click()
    await expect(page.get_by_role("heading", name="Settings", exact=True)).to_be_visible()
    groups = page.get_by_role("list", name="Settings groups")
    for title in ("Feature flags", "Public links", "Files", "Registration"):
        await expect(groups.get_by_role("heading", name=title, exact=True)).to_be_visible()
    await expect(page.get_by_test_id("settings-group-flags")).to_contain_text("0 of 2 on")
    await page.screenshot(path=artifacts / f"settings-hub-{engine_name}.png", full_page=True)

    await page.get_by_test_id("settings-group-flags").click()
    await expect(page.get_by_role("heading", name="Feature flags")).to_be_visible()
    ocr = page.get_by_test_id("flag-search.ocr_files")
    await expect(ocr.get_by_test_id("flag-state-search.ocr_files")).to_contain_text("Off for")
    await ocr.get_by_test_id("flag-tenant-search.ocr_files").click()
    await expect(ocr.get_by_test_id("flag-state-search.ocr_files")).to_contain_text("your tenant's choice")
    await expect(ocr.get_by_test_id("flag-overrides-search.ocr_files")).to_contain_text("1 tenant chose its own value")
    infinity = page.get_by_test_id("flag-files.dav_infinity")
    await infinity.get_by_test_id("flag-install-files.dav_infinity").click()
    await expect(infinity.get_by_test_id("flag-state-files.dav_infinity")).to_contain_text("the platform's value")
    await page.screenshot(path=artifacts / f"settings-flags-{engine_name}.png", full_page=True)

    ocr_now, infinity_now = await flag(server, "search.ocr_files"), await flag(server, "files.dav_infinity")
    assert (ocr_now["enabled"], ocr_now["source"], ocr_now["tenant_value"]) == (True, "tenant", True)
    assert (infinity_now["enabled"], infinity_now["source"], infinity_now["install_value"]) == (True, "install", True)

    # Back to the defaults, in the page, so other tests of this shared server see the usual behaviour.
    await ocr.get_by_role("button", name="Follow the platform's value again").click()
    await expect(ocr.get_by_test_id("flag-state-search.ocr_files")).to_contain_text("Off for")
    await infinity.get_by_role("button", name="Back to the default").click()
    await expect(infinity.get_by_test_id("flag-state-files.dav_infinity")).to_contain_text("the default")
    assert (await flag(server, "search.ocr_files"))["source"] == "default"
    assert (await flag(server, "files.dav_infinity"))["source"] == "default"
    assert problems == []

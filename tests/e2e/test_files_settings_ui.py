"""The admin's Files page: version retention and the tenant quota, saved through the real API, in the browser."""

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


async def test_admin_sets_retention_and_quota(admin_page: Page, server: Server, artifacts: Path, engine_name: str) -> None:
    """GIVEN the first admin (a platform administrator) WHEN they set 3 versions, 30 days, a 5 GiB quota and refuse names
    Windows cannot hold THEN the API reports exactly that, and the page shows it after a reload."""
    page = admin_page
    problems = collect_problems(page)
    await page.goto(server.url + "/admin")
    await page.get_by_role("navigation", name="Admin").get_by_role("link", name="Files").click()
    await expect(page.get_by_role("heading", name="Files")).to_be_visible()
    versions = page.get_by_label("Versions kept per file")
    await expect(versions).to_have_value("10")
    await versions.fill("3")
    await page.get_by_label("Days a version is kept").fill("30")
    await page.get_by_label("Tenant quota (GiB)").fill("5")
    await page.get_by_label("Names Windows cannot hold").select_option("refuse")
    await expect(page.get_by_text("Refused on every write")).to_be_visible()
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_text("Saved.")).to_be_visible()
    await page.screenshot(path=artifacts / f"admin-files-{engine_name}.png", full_page=True)

    token = server.admin_token()
    async with httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as http:
        tenant_id = (await http.get("/api/users/me")).json()["tenant"]["id"]
        saved = (await http.get(f"/api/admin/tenants/{tenant_id}/files-settings")).json()
        assert (saved["keep_versions"], saved["keep_days"], saved["quota_bytes"]) == (3, 30, 5 * 2**30)
        assert saved["windows_names"] == "refuse"
        # Back to the defaults so other tests of this shared server see the usual rules.
        reset = await http.put(
            f"/api/admin/tenants/{tenant_id}/files-settings",
            json={"keep_versions": 10, "keep_days": 0, "quota_bytes": None, "windows_names": "allow"},
        )
        assert reset.status_code == 200
    await page.reload()
    await expect(page.get_by_label("Versions kept per file")).to_have_value("10")
    await expect(page.get_by_label("Names Windows cannot hold")).to_have_value("allow")
    assert problems == []

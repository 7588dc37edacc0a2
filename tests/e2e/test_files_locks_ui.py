"""WebDAV locks in the file manager: a file a client locked shows a lock with who holds it until when, its details
say so, and its holder unlocks it there; a rename in the browser by someone else would be refused meanwhile."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.e2e.browsing import collect_problems
from tests.e2e.conftest import ALSO_THROUGH_THE_DEPLOYMENT, Server

pytestmark = [pytest.mark.e2e, ALSO_THROUGH_THE_DEPLOYMENT]

LOCKINFO = (
    b'<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope>'
    b"<D:locktype><D:write/></D:locktype><D:owner>desktop client</D:owner></D:lockinfo>"
)


def locked_file(server: Server) -> tuple[str, str]:
    """A folder of its own holding `report.odt`, locked through WebDAV by the first admin: (folder name, file id)."""
    headers = {"Authorization": f"Bearer {server.admin_token()}"}
    name = f"locks-{secrets.token_hex(4)}"
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
        folder = http.post("/api/files/folders", json={"name": name})
        folder.raise_for_status()
        uploaded = http.post(
            "/api/files/upload/raw", params={"name": "report.odt", "parent_id": folder.json()["id"]}, content=b"numbers"
        )
        uploaded.raise_for_status()
    dav = f"{server.url}/dav/files/{server.admin_username}/{name}/report.odt"
    locked = httpx.request(
        "LOCK", dav, content=LOCKINFO, headers={"Depth": "0", "Timeout": "Second-3600"},
        auth=(server.admin_username, server.admin_password), timeout=30,
    )  # fmt: skip
    assert locked.status_code == 200, locked.text
    return name, str(uploaded.json()["id"])


async def test_a_locked_file_shows_its_lock_and_unlocks(page: Page, server: Server, artifacts: Path, engine_name: str) -> None:
    problems = collect_problems(page)
    folder, _ = locked_file(server)
    await page.goto(server.url + "/files")
    await page.locator(f'[data-testid="file-row"][data-name="{folder}"]').get_by_role("button", name=folder, exact=True).click()
    row = page.locator('[data-testid="file-row"][data-name="report.odt"]')
    mark = row.get_by_test_id("lock-mark")
    await expect(mark).to_be_visible()
    tooltip = await mark.get_attribute("title") or ""
    assert re.fullmatch(r"Locked by Administrator until .+ \(WebDAV\)", tooltip), tooltip  # the first admin's name

    await row.get_by_role("button", name="Actions for report.odt").click()
    await page.get_by_role("menuitem", name="Details and versions").click()
    details = page.get_by_role("complementary", name="Details")
    lock = details.get_by_role("region", name="Lock")
    await expect(lock).to_contain_text("Locked by Administrator until")
    await page.screenshot(path=artifacts / f"files-locked-{engine_name}.png", full_page=True)

    await lock.get_by_role("button", name="Unlock").click()
    await expect(lock).to_have_count(0)
    await expect(mark).to_have_count(0)
    assert problems == []

"""Devices and app passwords in the browser: make one for a device, copy what the client needs, see it used, revoke it.

The member is made through the admin API; signing in counts as a fresh proof of identity, so creating and revoking
(sudo actions) need no prompt here.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, expect

from tests.e2e.browsing import VIEWPORT, collect_problems, sign_in
from tests.e2e.conftest import ALSO_THROUGH_THE_DEPLOYMENT, Server

pytestmark = [pytest.mark.e2e, ALSO_THROUGH_THE_DEPLOYMENT]

PASSWORD = "Amber-comet-window-harbor-31"


def _create_member(server: Server) -> str:
    username = f"e2e-{secrets.token_hex(4)}"
    response = httpx.post(
        f"{server.url}/api/admin/users",
        headers={"Authorization": f"Bearer {server.admin_token()}"},
        json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
    )
    response.raise_for_status()
    return username


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    fresh = await browser.new_context(viewport=VIEWPORT)
    await fresh.grant_permissions(["clipboard-read", "clipboard-write"])
    yield fresh
    await fresh.close()


async def test_an_app_password_is_made_for_a_device_shown_once_and_revoked(
    context: BrowserContext, server: Server, artifacts: Path, engine_name: str
) -> None:
    """GIVEN a member on their account page WHEN they make an app password for a device THEN the dialog shows the
    WebDAV address, username and password once (with copy buttons), the list shows the device, and revoking it
    removes it at once."""
    username = _create_member(server)
    page = await context.new_page()
    problems = collect_problems(page)
    await page.goto(server.url + "/login?next=%2Faccount")
    await sign_in(page, username, PASSWORD)
    await expect(page).to_have_url(server.url + "/account")
    card = page.get_by_test_id("webdav-address")
    await expect(card).to_have_text(f"{server.url}/dav/files/{username}/")
    await expect(page.get_by_text("You have no app passwords.")).to_be_visible()

    await page.get_by_role("button", name="New app password").click()
    dialog = page.get_by_role("dialog", name="New app password")
    await dialog.get_by_label("Device").fill("work laptop (Nextcloud client)")
    await expect(dialog.get_by_role("checkbox", name="files.read")).to_be_checked()
    await expect(dialog.get_by_role("checkbox", name="files.write")).to_be_checked()
    await page.screenshot(path=artifacts / f"app-password-new-{engine_name}.png")
    await dialog.get_by_role("button", name="Create app password").click()

    created = page.get_by_role("dialog", name="App password created")
    await expect(created.get_by_test_id("new-app-password-url")).to_have_value(f"{server.url}/dav/files/{username}/")
    await expect(created.get_by_test_id("new-app-password-username")).to_have_value(username)
    password = await created.get_by_test_id("new-app-password-value").input_value()
    assert password.startswith("nba_")
    await created.get_by_role("button", name="Copy app password").click()
    await expect(created.get_by_text("Copied to the clipboard.")).to_be_visible()
    assert await page.evaluate("navigator.clipboard.readText()") == password
    await page.screenshot(path=artifacts / f"app-password-created-{engine_name}.png")
    await created.get_by_role("button", name="Done").click()
    await expect(created).to_be_hidden()

    row = page.get_by_test_id("app-password-row")
    await expect(row).to_have_count(1)
    await expect(row).to_have_attribute("data-name", "work laptop (Nextcloud client)")
    await expect(row.get_by_test_id("app-password-use")).to_contain_text("Last used never")
    assert password not in await page.content()  # shown once: gone with the dialog
    await page.evaluate("window.scrollTo(0, 0)")
    await page.screenshot(path=artifacts / f"account-app-passwords-{engine_name}.png", full_page=True)
    card = page.locator("section").filter(has=page.get_by_test_id("webdav-address"))
    await card.screenshot(path=artifacts / f"app-passwords-card-{engine_name}.png")

    await row.get_by_role("button", name="Revoke work laptop (Nextcloud client)").click()
    confirm = page.get_by_role("dialog", name="Revoke work laptop (Nextcloud client)?")
    await confirm.get_by_role("button", name="Revoke").click()
    await expect(page.get_by_test_id("app-password-row")).to_have_count(0)
    await expect(page.get_by_text("You have no app passwords.")).to_be_visible()
    assert problems == []

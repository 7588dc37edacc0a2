"""Login Flow v2 in the browser: a Nextcloud client asks to sign in, the user opens its login URL (signing in first),
sees "Grant access to <client>?", grants, and the client's poll gets a working app password; cancelling gives none."""

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

PASSWORD = "Copper-lantern-meadow-river-27"
DESKTOP = "Mozilla/5.0 (Linux) mirall/3.7.3git (Nextcloud, debian-6.1.0 ClientArchitecture: x86_64 OsArchitecture: x86_64)"


def _create_member(server: Server) -> str:
    username = f"e2e-{secrets.token_hex(4)}"
    response = httpx.post(
        f"{server.url}/api/admin/users",
        headers={"Authorization": f"Bearer {server.admin_token()}"},
        json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
    )
    response.raise_for_status()
    return username


def _start_flow(server: Server) -> tuple[str, str]:
    """What the desktop client does first: (its poll token, the login URL it opens in the browser)."""
    started = httpx.post(f"{server.url}/index.php/login/v2", headers={"User-Agent": DESKTOP})
    started.raise_for_status()
    body = started.json()
    return body["poll"]["token"], body["login"]


def _poll(server: Server, poll_token: str) -> httpx.Response:
    return httpx.post(f"{server.url}/index.php/login/v2/poll", data={"token": poll_token})


def _propfind(server: Server, username: str, password: str) -> int:
    answer = httpx.request(
        "PROPFIND", f"{server.url}/remote.php/dav/files/{username}/", auth=(username, password), headers={"Depth": "0"}
    )
    return answer.status_code


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    fresh = await browser.new_context(viewport=VIEWPORT)
    yield fresh
    await fresh.close()


async def test_a_client_is_granted_access_from_the_browser(
    context: BrowserContext, server: Server, artifacts: Path, engine_name: str
) -> None:
    username = _create_member(server)
    poll_token, login_url = _start_flow(server)
    assert login_url.startswith(server.url + "/login/flow/")
    page = await context.new_page()
    problems = collect_problems(page)
    await page.goto(login_url)  # not signed in: the sign-in page first, then back here
    await sign_in(page, username, PASSWORD)
    await expect(page).to_have_url(login_url)
    question = page.get_by_test_id("login-flow-question")
    await expect(question).to_have_text("Grant access to Nextcloud desktop client?")
    await expect(page.get_by_test_id("login-flow").get_by_text(username, exact=True)).to_be_visible()
    await page.screenshot(path=artifacts / f"nextcloud-login-flow-{engine_name}.png")
    assert _poll(server, poll_token).status_code == 404

    await page.get_by_role("button", name="Grant access").click()
    await expect(page.get_by_role("heading", name="Access granted")).to_be_visible()
    await page.screenshot(path=artifacts / f"nextcloud-login-flow-granted-{engine_name}.png")
    polled = _poll(server, poll_token)
    assert polled.status_code == 200, polled.text
    credentials = polled.json()
    assert credentials["loginName"] == username
    assert _propfind(server, credentials["loginName"], credentials["appPassword"]) == 207
    assert _poll(server, poll_token).status_code == 404

    # The client shows up among the devices on the account page.
    await page.get_by_role("link", name="See your devices and app passwords").click()
    await expect(page.get_by_test_id("app-password-row").filter(has_text="Nextcloud desktop client")).to_be_visible()

    # Another request, cancelled: the client gets nothing, and the used URL says so.
    poll_token, login_url = _start_flow(server)
    await page.goto(login_url)
    await page.get_by_role("button", name="Cancel").click()
    await expect(page.get_by_role("heading", name="Access refused")).to_be_visible()
    assert _poll(server, poll_token).status_code == 404
    assert problems == []
    await page.goto(login_url)  # answered already: the page says so (its 404 is the answer)
    await expect(page.get_by_role("heading", name="This sign-in request cannot be answered")).to_be_visible()
    await page.screenshot(path=artifacts / f"nextcloud-login-flow-used-{engine_name}.png")
